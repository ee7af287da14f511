import { describe, expect, it } from 'vitest'
import { AimdLimit } from '../../../throttle/src/limit/aimd-limit.ts'
import { Gradient2Limit } from '../../../throttle/src/limit/gradient2-limit.ts'
import { SloGradientLimit } from '../../../throttle/src/limit/slo-gradient-limit.ts'
import { VegasLimit } from '../../../throttle/src/limit/vegas-limit.ts'
import { isThrottleError } from '../../../throttle/src/errors.ts'

/** Feeds `rtts` as samples ending 1 ms apart. */
function feed(
  limit: { onSample(s: number, r: number, i: number, d: boolean): number },
  rtts: readonly number[],
  inflight: number,
  dropped: (i: number) => boolean = () => false,
): number {
  let last = 0
  rtts.forEach((rtt, i) => {
    last = limit.onSample(i, rtt, inflight, dropped(i))
  })
  return last
}
const times = (n: number, rtt: number) => Array.from({ length: n }, () => rtt)

describe('SloGradientLimit', () => {
  const make = (o: Partial<ConstructorParameters<typeof SloGradientLimit>[0]> = {}) =>
    new SloGradientLimit({ targetMillis: 100, windowSize: 10, initialLimit: 20, ...o })

  it('moves once per window by target / percentile, smoothed: over the target it lowers', () => {
    const limit = make()
    expect(feed(limit, times(9, 200), 20)).toBe(20) // the window is not closed yet
    expect(feed(limit, [200], 20)).toBe(18) // g = 100 / 200 = 0.5: 20 × (1 + 0.2 × (0.5 − 1))
    expect(limit.lastWindowPercentile).toBe(200)
    expect(feed(make(), times(10, 1000), 20)).toBe(18) // g clamped at 1 − maxDown = 0.5
  })

  it('under the target it grows, but only when the limit is used', () => {
    expect(feed(make(), times(10, 50), 10)).toBe(24) // g = 2: 20 × 1.2
    expect(feed(make(), times(10, 50), 9)).toBe(20) // 9 × 2 < 20: app-limited, no growth
    expect(feed(make({ maxUp: 0.5 }), times(10, 10), 20)).toBe(22) // g clamped at 1.5: 20 × 1.1
  })

  it('holds the percentile, not the mean or the max, at the target', () => {
    const twoSlow = [...times(8, 50), 500, 500] // p90 (nearest rank: the 9th of 10) = 500
    const oneSlow = [...times(9, 50), 500] // p90 = 50
    expect(feed(make(), twoSlow, 20)).toBeLessThan(20)
    expect(feed(make(), oneSlow, 20)).toBeGreaterThan(20)
    expect(feed(make({ percentile: 0.5 }), twoSlow, 20)).toBeGreaterThan(20)
  })

  it('counts a drop as a round trip of at least twice the target', () => {
    const limit = make()
    expect(feed(limit, times(10, 10), 20, (i) => i >= 8)).toBeLessThan(20)
    expect(limit.lastWindowPercentile).toBe(200)
  })

  it('closes a window early once its percentile cannot come out under twice the target', () => {
    const make100 = () => make({ windowSize: 100, minWindowSamples: 5 })
    const early = make100()
    expect(feed(early, times(10, 300), 20)).toBe(20) // 10 of 100 over 2 × target: the p90 (the 90th) may still be low
    expect(early.onSample(10, 300, 20, false)).toBe(18) // the 11th: the 90th of 100 is ≥ 200 whatever comes; g 0.5
    expect(early.lastWindowPercentile).toBe(300)
    const late = make100()
    feed(late, times(10, 300), 20)
    expect(feed(late, times(89, 50), 20)).toBe(20) // 99 samples: still open
    expect(late.onSample(99, 50, 20, false)).toBe(24) // full window: p90 = 50, g = 2 → 20 × 1.2
    expect(late.lastWindowPercentile).toBe(50)
  })

  it('closes a window by time when traffic is thin', () => {
    const limit = make({ windowSize: 100, windowMillis: 1000, minWindowSamples: 3 })
    limit.onSample(0, 200, 20, false)
    limit.onSample(500, 200, 20, false)
    expect(limit.onSample(900, 200, 20, false)).toBe(20) // ends at 1100: 900 ms after the first ended (200)
    expect(limit.onSample(1000, 200, 20, false)).toBe(18) // ends at 1200: 1000 ms
  })

  it('keeps its estimate inside the bounds: no wind-up past a max set by a knob', () => {
    const limit = make()
    limit.setBounds(1, 25)
    for (let i = 0; i < 20; i++) feed(limit, times(10, 10), 25)
    expect(limit.limit).toBe(25)
    expect(feed(limit, times(10, 200), 25)).toBe(22) // 25 × 0.9 = 22.5: from the bound, not from a wound-up estimate
  })

  it('refuses options outside their range', () => {
    expect(() => new SloGradientLimit({ targetMillis: 0 })).toThrow(
      /SloGradientLimit: targetMillis must be a finite number above 0; got 0/,
    )
    try {
      new SloGradientLimit({ targetMillis: 100, percentile: 1 })
    } catch (err) {
      expect(isThrottleError(err) && err.code).toBe('THROTTLE_ERR_LIMIT_INVALID')
    }
  })
})

describe('SloGradientLimit: latency it does not cause', () => {
  /** Feeds windows of samples that follow one another (each starts when the one before ended), `rtt(limit)` each. */
  class Feeder {
    t = 0
    constructor(readonly limit: SloGradientLimit) {}
    window(
      rtt: number | ((limit: number) => number),
      inflight: number | ((i: number) => number) = 50,
      size = 10,
    ): number {
      for (let i = 0; i < size; i++) {
        const r = typeof rtt === 'function' ? rtt(this.limit.limit) : rtt
        this.limit.onSample(this.t, r, typeof inflight === 'function' ? inflight(i) : inflight, false)
        this.t += r
      }
      return this.limit.limit
    }
  }
  const make = (o: Partial<ConstructorParameters<typeof SloGradientLimit>[0]> = {}) =>
    new SloGradientLimit({ targetMillis: 100, windowSize: 10, initialLimit: 50, ...o })

  it('undoes decreases that did not lower the percentile, and holds while the latency stays', () => {
    const f = new Feeder(make())
    // p 150: ×(1 + 0.2 × (100/150 − 1)) a window. 50 → 46 → 43 → 40 → 37: the cut passes 20 %.
    expect([f.window(150), f.window(150), f.window(150), f.window(150)]).toEqual([46, 43, 40, 37])
    expect(f.limit.reason).toBe('tracking')
    // The next window, admitted after the cut, is as slow: the cut did nothing. Back to 50, held.
    expect(f.window(150)).toBe(50)
    expect(f.limit.reason).toBe('not_from_concurrency')
    for (let i = 0; i < 5; i++) expect(f.window(160)).toBe(50)
    // Under the target again: tracking, and growing (the limit is used: 50 in flight).
    expect(f.window(50)).toBe(60)
    expect(f.limit.reason).toBe('tracking')
  })

  it('goes on lowering while the decreases lower the percentile (latency from its own queue)', () => {
    const f = new Feeder(make())
    // Latency proportional to the limit: 3 ms per request in flight, so the target is met at 33.
    for (let i = 0; i < 40; i++) f.window((limit) => 3 * limit)
    expect(f.limit.limit).toBeGreaterThanOrEqual(31)
    expect(f.limit.limit).toBeLessThanOrEqual(34)
    expect(f.limit.reason).toBe('tracking')
  })

  it('holds at once when the requests admitted at low concurrency are as late as the others', () => {
    const spread = (i: number) => (i < 5 ? 2 + i : 45 + i) // a low and a high half
    const late = new Feeder(make())
    expect(late.window(150, spread)).toBe(50)
    expect(late.limit.reason).toBe('not_from_concurrency')
    // The same spread, where the late ones are those admitted at high concurrency: a queue. It lowers.
    const queue = make()
    for (let i = 0; i < 10; i++) queue.onSample(i * 300, i < 5 ? 20 : 300, spread(i), false)
    expect(queue.limit).toBeLessThan(50)
    expect(queue.reason).toBe('tracking')
  })

  it('ends a hold begun by late low-concurrency requests at the first window whose are not late: a pause, then a queue', () => {
    const spread = (i: number) => (i < 5 ? 2 + i : 45 + i) // a low and a high half
    const f = new Feeder(make())
    expect(f.window(150, spread)).toBe(50) // everyone late, whatever the concurrency: a pause
    expect(f.limit.reason).toBe('not_from_concurrency')
    // Then only the requests admitted at high concurrency are late, the percentile within 1.25 ×
    // the one held at: a queue. The hold ends and the limit goes down.
    for (let i = 0; i < 10; i++) {
      f.limit.onSample(f.t, i < 5 ? 20 : 160, spread(i), false)
      f.t += 160
    }
    expect(f.limit.reason).toBe('tracking')
    expect(f.limit.limit).toBeLessThan(50)
  })

  it("keeps a held limit at the Little's-law concurrency of the goodput, plus its bunching", () => {
    const limit = make({ windowSize: 100 })
    // 1 completion a ms, 150 ms each: 150 in flight on average; 150 + 3 √150 = 187.
    for (let i = 0; i < 100; i++) limit.onSample(i, 150, i < 25 ? 5 : 60, false)
    expect(limit.reason).toBe('not_from_concurrency')
    expect(limit.limit).toBe(187)
  })

  it('lowers again when a held latency grows past 1.25 × the one it held at', () => {
    const f = new Feeder(make())
    for (let i = 0; i < 5; i++) f.window(150)
    expect(f.limit.reason).toBe('not_from_concurrency')
    expect(f.window(180)).toBe(50) // 1.2 × 150: still held
    expect(f.window(200)).toBe(45) // 1.33 ×: something new, perhaps a queue
    expect(f.limit.reason).toBe('tracking')
  })

  it('lowers for any latency over the target with holdWhenNotFromConcurrency false', () => {
    const f = new Feeder(make({ holdWhenNotFromConcurrency: false }))
    for (let i = 0; i < 10; i++) f.window(150, (i) => (i < 5 ? 2 : 50))
    expect(f.limit.limit).toBe(25) // 50 × (1 − 0.2 / 3)^10: every window lowered
    expect(f.limit.reason).toBe('tracking')
    expect(() => make({ holdWhenNotFromConcurrency: 'yes' as unknown as boolean })).toThrow(
      /holdWhenNotFromConcurrency must be true or false; got "yes"/,
    )
  })
})

describe('AimdLimit (published rule)', () => {
  it('adds one while used, backs off on a drop or a timeout, and never below the min', () => {
    const limit = new AimdLimit({ initialLimit: 10, timeoutMillis: 1000 })
    expect(limit.onSample(0, 10, 5, false)).toBe(11)
    expect(limit.onSample(0, 10, 5, false)).toBe(11) // 5 × 2 < 11
    expect(limit.onSample(0, 10, 6, true)).toBe(9) // floor(11 × 0.9)
    expect(limit.onSample(0, 1001, 6, false)).toBe(8)
    const small = new AimdLimit({ initialLimit: 3, minLimit: 2 })
    expect(small.onSample(0, 1, 3, true)).toBe(2) // min(3 − 1, floor(2.7))
    expect(small.onSample(0, 1, 3, true)).toBe(2)
    expect(() => new AimdLimit({ backoffRatio: 0.3 })).toThrow(/backoffRatio must be a number in \[0.5, 1\); got 0.3/)
  })
})

describe('Gradient2Limit (published rule)', () => {
  it('grows by queueSize × smoothing per sample while the RTT is at its baseline', () => {
    const limit = new Gradient2Limit({ minLimit: 1 })
    expect(limit.onSample(0, 10, 20, false)).toBe(20) // 20 × 0.8 + (20 × 1 + 4) × 0.2 = 20.8
    expect(limit.onSample(0, 10, 20, false)).toBe(21) // 21.6
    expect(limit.onSample(0, 10, 5, false)).toBe(21) // app-limited: 5 < 21.6 / 2
  })

  it('lowers by the gradient long / short RTT (at least 0.5) when the RTT rises over the baseline', () => {
    const limit = new Gradient2Limit({ minLimit: 1, initialLimit: 50, queueSize: 0, warmupWindow: 10 })
    for (let i = 0; i < 10; i++) limit.onSample(0, 10, 50, false)
    expect(limit.longRtt).toBe(10)
    const long = 10 * (1 - 2 / 601) + 40 * (2 / 601)
    limit.onSample(0, 40, 50, false)
    expect(limit.longRtt).toBeCloseTo(long, 10)
    expect(limit.limit).toBe(Math.floor(50 * 0.8 + 50 * 0.5 * 0.2)) // gradient 1.5 × long / 40 ≈ 0.38, clamped at 0.5: 45
  })

  it('tolerates an RTT up to rttTolerance (1.5) × the baseline before it lowers', () => {
    const run = (rttTolerance?: number) => {
      const limit = new Gradient2Limit({ minLimit: 1, initialLimit: 50, queueSize: 0, warmupWindow: 10, rttTolerance })
      for (let i = 0; i < 10; i++) limit.onSample(0, 10, 50, false) // baseline 10; no growth without queueSize
      expect(limit.limit).toBe(50)
      return limit.onSample(0, 14, 50, false)
    }
    expect(run()).toBe(50) // 1.5 × 10 / 14 > 1: gradient 1
    expect(run(1)).toBe(47) // gradient ≈ 10.01 / 14: 50 × 0.8 + 50 × 0.715 × 0.2 = 47.15
  })

  it('pulls a baseline left high by an overload down faster than its average would', () => {
    const limit = new Gradient2Limit({ warmupWindow: 1 })
    limit.onSample(0, 100, 20, false)
    limit.onSample(0, 10, 20, false)
    expect(limit.longRtt).toBeCloseTo((100 * (1 - 2 / 601) + 10 * (2 / 601)) * 0.95, 10)
  })
})

describe('VegasLimit (published rule)', () => {
  const make = () => new VegasLimit({ initialLimit: 20, random: () => 0.999 })

  it('takes the first RTT as the no-load RTT, then grows fast while there is no queue', () => {
    const limit = make()
    expect(limit.onSample(0, 10, 20, false)).toBe(20)
    expect(limit.rttNoLoad).toBe(10)
    expect(limit.onSample(0, 10, 20, false)).toBe(26) // queue 0 ≤ log10(20) = 1: + 6 × 1
    expect(limit.onSample(0, 10, 5, false)).toBe(26) // app-limited
  })

  it('lowers when the queue estimate passes beta and on a drop, grows slowly below alpha, rests between', () => {
    const limit = make()
    limit.onSample(0, 10, 20, false)
    expect(limit.onSample(0, 20, 20, false)).toBe(19) // queue = ceil(20 × (1 − 10 / 20)) = 10 > 6: − 1
    expect(limit.onSample(0, 10, 1, true)).toBe(18) // a drop: − 1, used or not
    expect(limit.onSample(0, 11, 20, false)).toBe(19) // queue = ceil(18 × (1 − 10 / 11)) = 2, between 1 and alpha 3: + 1
    expect(limit.onSample(0, 14, 20, false)).toBe(19) // queue = ceil(19 × (1 − 10 / 14)) = 6, between alpha 3 and beta 6: no change
  })

  it('measures the no-load RTT again every ~probeMultiplier × limit samples', () => {
    const limit = new VegasLimit({ initialLimit: 10, probeMultiplier: 2, random: () => 0 }) // jitter 0.5: every 10 samples
    limit.onSample(0, 5, 1, false)
    for (let i = 0; i < 8; i++) limit.onSample(0, 50, 1, false)
    expect(limit.rttNoLoad).toBe(5)
    limit.onSample(0, 50, 1, false) // the 10th sample: a probe
    expect(limit.rttNoLoad).toBe(50)
  })
})
