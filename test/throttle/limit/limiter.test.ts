import { describe, expect, it } from 'vitest'
import { bindBounds } from '../../../throttle/src/bind-knob.ts'
import { ManualClock } from '../../../throttle/src/clock.ts'
import { isThrottleError } from '../../../throttle/src/errors.ts'
import { AimdLimit } from '../../../throttle/src/limit/aimd-limit.ts'
import { FixedLimit } from '../../../throttle/src/limit/fixed-limit.ts'
import { Limiter, type LimiterListener } from '../../../throttle/src/limit/limiter.ts'
import { RecordingLimit } from '../../../throttle/src/limit/recording-limit.ts'
import { createMemoryClient } from '../../../throttle/src/memory-client.ts'

const CRITICAL = { critical: true }

describe('Limiter admission', () => {
  it('admits while in flight is under the limit, sheds above it, admits again when one finishes', () => {
    const limiter = new Limiter({ limit: new FixedLimit(3), criticalReserve: 0 })
    const held = [limiter.acquire(), limiter.acquire(), limiter.acquire()]
    expect(held.every((l) => l !== undefined)).toBe(true)
    expect(limiter.inflight).toBe(3)
    expect(limiter.acquire()).toBeUndefined()
    held[0]!.onSuccess()
    expect(limiter.inflight).toBe(2)
    expect(limiter.acquire()).toBeDefined()
    expect(limiter.counts).toMatchObject({ admitted: 4, rejectedSheddable: 1, succeeded: 1 })
  })

  it('keeps a reserve for critical requests: the sheddable ones are shed first', () => {
    const limiter = new Limiter({ limit: new FixedLimit(10), criticalReserve: 0.2 })
    expect(limiter.sheddableLimit).toBe(8)
    for (let i = 0; i < 8; i++) expect(limiter.acquire()).toBeDefined()
    expect(limiter.acquire()).toBeUndefined() // sheddable: over 8
    expect(limiter.acquire({ critical: false })).toBeUndefined()
    expect(limiter.acquire(CRITICAL)).toBeDefined() // critical: the reserve
    expect(limiter.acquire(CRITICAL)).toBeDefined()
    expect(limiter.acquire(CRITICAL)).toBeUndefined() // the limit binds critical requests too
    expect(limiter.counts).toMatchObject({ admitted: 10, rejectedSheddable: 2, rejectedCritical: 1 })
  })

  it('takes criticality from a function of the context when given one', () => {
    const limiter = new Limiter<{ route: string }>({
      limit: new FixedLimit(5),
      criticalReserve: 0.4,
      isCritical: (c) => c?.route === '/pay',
    })
    for (let i = 0; i < 3; i++) limiter.acquire({ route: '/search' })
    expect(limiter.acquire({ route: '/search' })).toBeUndefined()
    expect(limiter.acquire({ route: '/pay' })).toBeDefined()
  })

  it('lets bypassed requests through uncounted and unsampled', () => {
    const limit = new RecordingLimit(new FixedLimit(1))
    const limiter = new Limiter<{ health?: boolean }>({ limit, bypass: (c) => c?.health === true })
    limiter.acquire()
    const health = limiter.acquire({ health: true })
    expect(health).toBeDefined()
    expect(limiter.inflight).toBe(1)
    health!.onSuccess()
    expect(limiter.inflight).toBe(1)
    expect(limit.samples).toEqual([])
    expect(limiter.counts.bypassed).toBe(1)
  })
})

describe('Limiter listeners', () => {
  const setup = () => {
    const clock = new ManualClock(1000)
    const limit = new RecordingLimit(new AimdLimit({ initialLimit: 10 }))
    return { clock, limit, limiter: new Limiter({ limit, clock: clock.now }) }
  }

  it('onSuccess feeds the limit one sample: start, round trip on the clock, inflight at admission', () => {
    const { clock, limit, limiter } = setup()
    const a = limiter.acquire()!
    clock.advance(5)
    const b = limiter.acquire()!
    clock.advance(20)
    a.onSuccess()
    b.onSuccess()
    expect(limit.samples).toEqual([
      { startTime: 1000, rtt: 25, inflight: 1, didDrop: false },
      { startTime: 1005, rtt: 20, inflight: 2, didDrop: false },
    ])
    expect(limiter.inflight).toBe(0)
  })

  it('onIgnore releases without a sample: it does not feed the limit', () => {
    const { clock, limit, limiter } = setup()
    const l = limiter.acquire()!
    clock.advance(4000)
    l.onIgnore()
    expect(limit.samples).toEqual([])
    expect(limiter.inflight).toBe(0)
    expect(limiter.counts).toMatchObject({ ignored: 1, succeeded: 0, dropped: 0 })
  })

  it('onDropped counts as a drop: a sample with didDrop, and AIMD backs off', () => {
    const { clock, limit, limiter } = setup()
    const l = limiter.acquire()!
    clock.advance(30)
    l.onDropped()
    expect(limit.samples).toEqual([{ startTime: 1000, rtt: 30, inflight: 1, didDrop: true }])
    expect(limiter.limit).toBe(9) // 10 × 0.9
    expect(limiter.counts.dropped).toBe(1)
  })

  it('counts only the first report of a listener', () => {
    const { limit, limiter } = setup()
    const l: LimiterListener = limiter.acquire()!
    limiter.acquire()
    l.onSuccess()
    l.onSuccess()
    l.onDropped()
    l.onIgnore()
    expect(limiter.inflight).toBe(1)
    expect(limit.samples).toHaveLength(1)
  })

  it('grows the limit only when it is used (inflight × 2 ≥ limit)', () => {
    const { limiter } = setup()
    for (let i = 0; i < 50; i++) limiter.acquire()!.onSuccess() // one at a time: 1 × 2 < 10
    expect(limiter.limit).toBe(10)
    const held = Array.from({ length: 5 }, () => limiter.acquire()!) // the fifth is admitted at inflight 5: 5 × 2 ≥ 10
    for (const l of held) l.onSuccess()
    expect(limiter.limit).toBe(11)
  })
})

describe('Limiter bounds', () => {
  it('keeps the limit inside the bounds set, at once and after samples', () => {
    const limiter = new Limiter({ limit: new AimdLimit({ initialLimit: 50 }), criticalReserve: 0 })
    limiter.setBounds(5, 20)
    expect(limiter.limit).toBe(20)
    const held = Array.from({ length: 20 }, () => limiter.acquire()!)
    for (const l of held) l.onSuccess()
    expect(limiter.limit).toBe(20) // used, would grow, but capped
    for (let i = 0; i < 40; i++) limiter.acquire()!.onDropped()
    expect(limiter.limit).toBe(5)
    limiter.setBounds(8, 20)
    expect(limiter.limit).toBe(8)
  })

  it('refuses bounds that are no bounds', () => {
    const limiter = new Limiter({ limit: new AimdLimit() })
    for (const [min, max] of [
      [10, 5],
      [-1, 5],
      [1.5, 5],
      [1, Number.NaN],
    ] as const) {
      try {
        limiter.setBounds(min, max)
        expect.unreachable()
      } catch (err) {
        expect(isThrottleError(err) && err.code).toBe('THROTTLE_ERR_LIMIT_INVALID')
        expect((err as Error).message).toContain(`got min ${min}, max ${max}`)
      }
    }
  })

  it('follows a knob: bindBounds applies its value now and on every change, until unbound', () => {
    const governor = createMemoryClient({ service: 'checkout' })
    const maxConcurrency = governor.knob('max-concurrency', { type: 'int', default: 40, min: 1, max: 1000 })
    const minConcurrency = governor.knob('min-concurrency', { type: 'int', default: 2, min: 0, max: 1000 })
    const limiter = new Limiter({ limit: new AimdLimit({ initialLimit: 100, maxLimit: 1000 }) })
    const unbind = bindBounds(limiter, { min: minConcurrency, max: maxConcurrency })
    expect(limiter.limit).toBe(40)
    governor.set('max-concurrency', 12, { reason: 'incident 42' })
    expect(limiter.limit).toBe(12)
    expect(limiter.algorithm.max).toBe(12)
    governor.set('min-concurrency', 30) // above the max for now: taken as the max, no error
    expect(limiter.algorithm.min).toBe(12)
    governor.set('max-concurrency', 60)
    expect(limiter.algorithm.min).toBe(30)
    expect(limiter.algorithm.max).toBe(60)
    unbind()
    governor.set('max-concurrency', 5)
    expect(limiter.algorithm.max).toBe(60)
  })
})
