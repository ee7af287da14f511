import { describe, expect, it } from 'vitest'
import { AdaptiveThrottle } from '../../../throttle/src/caller/adaptive-throttle.ts'
import { RetryBudget } from '../../../throttle/src/caller/retry-budget.ts'
import { SlidingCounter } from '../../../throttle/src/caller/sliding-counter.ts'
import { ManualClock } from '../../../throttle/src/clock.ts'

describe('SlidingCounter', () => {
  it('counts over the window and forgets what leaves it, bucket by bucket', () => {
    const clock = new ManualClock()
    const c = new SlidingCounter(3000, 1000, clock.now)
    c.add(5)
    clock.advance(1000)
    c.add(2)
    clock.advance(1000)
    c.add(1)
    expect(c.sum()).toBe(8)
    clock.advance(1000) // the first bucket leaves
    expect(c.sum()).toBe(3)
    clock.advance(10_000)
    expect(c.sum()).toBe(0)
  })
})

describe('AdaptiveThrottle (client-side throttling)', () => {
  it('rejects locally with probability max(0, (requests − k·accepts) / (requests + 1))', () => {
    const clock = new ManualClock()
    const t = new AdaptiveThrottle({ clock: clock.now, random: () => 0.999 })
    for (let i = 0; i < 100; i++) {
      t.allow()
      t.onAccepted()
    }
    expect(t.rejectProbability()).toBe(0) // 100 − 2 × 100 < 0
    for (let i = 0; i < 100; i++) t.allow() // the backend refuses these: no accepts
    expect(t.counts()).toEqual({ requests: 200, accepts: 100 })
    expect(t.rejectProbability()).toBe(0) // 200 − 200 = 0: k = 2 lets requests run to twice the accepts
    for (let i = 0; i < 100; i++) t.allow()
    expect(t.rejectProbability()).toBeCloseTo((300 - 200) / 301, 12)
    const k1 = new AdaptiveThrottle({ k: 1, clock: clock.now })
    for (let i = 0; i < 9; i++) k1.allow()
    k1.onAccepted()
    expect(k1.rejectProbability()).toBeCloseTo(8 / 10, 12)
  })

  it('draws the decision from the injected randomness', () => {
    const clock = new ManualClock()
    let draw = 0
    const t = new AdaptiveThrottle({ k: 1, clock: clock.now, random: () => draw })
    for (let i = 0; i < 9; i++) t.allow()
    t.onAccepted() // p = 8 / 10
    draw = 0.79
    expect(t.allow()).toBe(false) // 0.79 < 0.8: rejected locally, and counted as a request
    expect(t.rejectProbability()).toBeCloseTo(9 / 11, 12)
    draw = 0.81
    expect(t.allow()).toBe(false) // 0.81 < 0.818
    draw = 0.84
    expect(t.allow()).toBe(true) // p = 10 / 12 = 0.833 < 0.84: sent
  })

  it('forgets the refusals once they leave the window', () => {
    const clock = new ManualClock()
    const t = new AdaptiveThrottle({ windowMillis: 10_000, clock: clock.now })
    for (let i = 0; i < 50; i++) t.allow()
    expect(t.rejectProbability()).toBeGreaterThan(0.9)
    clock.advance(10_000)
    expect(t.rejectProbability()).toBe(0)
  })
})

describe('RetryBudget', () => {
  it('allows retries up to the ratio of recent requests plus the per-second floor', () => {
    const clock = new ManualClock()
    const budget = new RetryBudget({ ratio: 0.1, minPerSecond: 0.5, windowMillis: 10_000, clock: clock.now }) // floor: 5 in 10 s
    expect(budget.available()).toBe(5)
    for (let i = 0; i < 100; i++) budget.onRequest()
    expect(budget.available()).toBe(15)
    let retried = 0
    while (budget.tryRetry()) retried++
    expect(retried).toBe(15)
    expect(budget.tryRetry()).toBe(false)
    for (let i = 0; i < 10; i++) budget.onRequest()
    expect(budget.tryRetry()).toBe(true) // 10 more requests earn one retry
    expect(budget.tryRetry()).toBe(false)
  })

  it('refills as old requests and retries leave the window', () => {
    const clock = new ManualClock()
    const budget = new RetryBudget({
      ratio: 0.2,
      minPerSecond: 0,
      windowMillis: 2000,
      bucketMillis: 1000,
      clock: clock.now,
    })
    for (let i = 0; i < 10; i++) budget.onRequest()
    expect(budget.tryRetry()).toBe(true)
    expect(budget.tryRetry()).toBe(true)
    expect(budget.tryRetry()).toBe(false)
    clock.advance(2000)
    expect(budget.available()).toBe(0) // requests gone too
    for (let i = 0; i < 5; i++) budget.onRequest()
    expect(budget.available()).toBe(1)
  })
})
