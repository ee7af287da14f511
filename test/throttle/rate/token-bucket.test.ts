import { describe, expect, it } from 'vitest'
import { bindKnob } from '../../../throttle/src/bind-knob.ts'
import { ManualClock } from '../../../throttle/src/clock.ts'
import { createMemoryClient } from '../../../throttle/src/memory-client.ts'
import { TokenBucket } from '../../../throttle/src/rate/token-bucket.ts'

describe('TokenBucket', () => {
  it('starts full, takes while it holds tokens, and refills from the clock', () => {
    const clock = new ManualClock()
    const bucket = new TokenBucket({ ratePerSecond: 10, clock: clock.now }) // burst: one second's worth
    expect(bucket.burst).toBe(10)
    for (let i = 0; i < 10; i++) expect(bucket.tryTake()).toBe(true)
    expect(bucket.tryTake()).toBe(false)
    clock.advance(99)
    expect(bucket.tryTake()).toBe(false) // 0.99 of a token
    clock.advance(1)
    expect(bucket.tryTake()).toBe(true) // 100 ms at 10/s: one token
    expect(bucket.tryTake()).toBe(false)
    clock.advance(350)
    expect(bucket.tryTake(3)).toBe(true)
    expect(bucket.tokens).toBeCloseTo(0.5, 10)
  })

  it('never holds more than the burst, however long it idles', () => {
    const clock = new ManualClock()
    const bucket = new TokenBucket({ ratePerSecond: 100, burst: 5, initialTokens: 0, clock: clock.now })
    expect(bucket.tryTake()).toBe(false)
    clock.advance(3_600_000)
    expect(bucket.tokens).toBe(5)
    expect(bucket.tryTake(5)).toBe(true)
    expect(bucket.tryTake(6)).toBe(false)
    expect(bucket.millisUntil(6)).toBe(Infinity) // more than the burst: never
    expect(bucket.millisUntil(2)).toBe(20)
  })

  it('takes nothing when it cannot take all', () => {
    const clock = new ManualClock()
    const bucket = new TokenBucket({ ratePerSecond: 1, burst: 4, clock: clock.now })
    expect(bucket.tryTake(5)).toBe(false)
    expect(bucket.tokens).toBe(4)
  })

  it('changes rate from now on: what was earned before counts at the old rate', () => {
    const clock = new ManualClock()
    const bucket = new TokenBucket({ ratePerSecond: 10, burst: 100, initialTokens: 0, clock: clock.now })
    clock.advance(1000) // 10 tokens at the old rate
    bucket.setRate(100)
    expect(bucket.tokens).toBe(10)
    clock.advance(100) // 10 more at the new rate
    expect(bucket.tokens).toBeCloseTo(20, 10)
    bucket.setRate(0)
    clock.advance(60_000)
    expect(bucket.tokens).toBeCloseTo(20, 10)
    expect(() => bucket.setRate(-1)).toThrow(/ratePerSecond must be a finite number of at least 0; got -1/)
  })

  it('takes its rate from a knob, live', () => {
    const governor = createMemoryClient({ service: 'exporter' })
    const rate = governor.knob('export-rate', { type: 'float', default: 5, min: 0, max: 1000 })
    const clock = new ManualClock()
    const bucket = new TokenBucket({ ratePerSecond: 1, clock: clock.now })
    bindKnob(rate, (r) => bucket.setRate(r))
    expect(bucket.ratePerSecond).toBe(5)
    expect(bucket.burst).toBe(5) // the default burst follows the rate
    governor.set('export-rate', 50)
    while (bucket.tryTake());
    clock.advance(100)
    expect(bucket.tokens).toBeCloseTo(5, 10) // 100 ms at 50/s
  })
})
