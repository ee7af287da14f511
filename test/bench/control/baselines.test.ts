import { describe, expect, it } from 'vitest'
import { EnvoyGradientLimit } from '../../../bench/control/envoy-gradient.ts'
import { TooBusy } from '../../../bench/control/toobusy.ts'
import { WindowedLimit } from '../../../bench/control/windowed-limit.ts'
import { RecordingLimit } from '../../../throttle/src/limit/recording-limit.ts'
import { FixedLimit } from '../../../throttle/src/limit/fixed-limit.ts'

describe("Envoy's gradient controller (published rule)", () => {
  const make = () => new EnvoyGradientLimit({ random: () => 0, minRttRequests: 5 })
  /** A sample ending at `end` that took `rtt`. */
  const at = (l: EnvoyGradientLimit, end: number, rtt: number) => l.onSample(end - rtt, rtt, 1, false)

  it('starts measuring minRTT at min_concurrency, then applies gradient × limit + √(gradient × limit) every interval', () => {
    const l = make()
    for (let i = 0; i < 4; i++) expect(at(l, i, 10)).toBe(3)
    at(l, 4, 10) // the 5th sample closes the minRTT window: p50 = 10
    expect(l.minRtt).toBe(10)
    expect(l.limit).toBe(3) // the limit from before the window
    at(l, 50, 10) // inside the first 100 ms: only collected
    expect(at(l, 104, 10)).toBe(5) // sampleRTT 10: gradient (10 + 2.5) / 10 = 1.25; 3.75 + √3.75 = 5.69, truncated
  })

  it('clamps the gradient to [0.5, 2] and never goes below min_concurrency', () => {
    const l = make()
    for (let i = 0; i < 5; i++) at(l, i, 10)
    at(l, 10, 1) // sampleRTT 1 → gradient 2 (clamped from 12.5)
    expect(at(l, 110, 1000)).toBe(Math.floor(6 + Math.sqrt(6))) // 8; this sample opens the next interval
    at(l, 150, 1000)
    expect(at(l, 215, 1)).toBe(Math.floor(4 + Math.sqrt(4))) // p50 of [1000, 1000] → gradient 0.5 (clamped from 0.0125): 6
    for (let t = 300; t < 2000; t += 100) at(l, t, 5000)
    expect(l.limit).toBeGreaterThanOrEqual(3)
  })

  it('pins the limit to min_concurrency while it measures minRTT again, every interval', () => {
    const l = new EnvoyGradientLimit({ random: () => 0, minRttRequests: 3, minRttIntervalMillis: 1000 })
    for (let i = 0; i < 3; i++) at(l, i, 10)
    let t = 100
    for (; t < 900; t += 100) at(l, t, 10) // grows while the latency stays at minRTT
    const grown = l.limit
    expect(grown).toBeGreaterThan(20)
    at(l, 1010, 40) // past the interval: a new window
    expect(l.limit).toBe(3)
    at(l, 1020, 40)
    at(l, 1030, 40) // the 3rd sample: minRTT 40 now
    expect(l.minRtt).toBe(40)
    expect(l.limit).toBe(grown)
  })
})

describe('toobusy (published rule, on the queueing delay)', () => {
  it('smooths the measured delay and sheds with probability (lag − maxLag) / maxLag', () => {
    let u = 0
    const busy = new TooBusy({ random: () => u })
    busy.measure(0, 315) // lag = 315 / 3 = 105
    expect(busy.lag).toBeCloseTo(105, 10)
    busy.measure(100, 1e6) // inside the 500 ms interval: not measured
    expect(busy.lag).toBeCloseTo(105, 10)
    u = 0.49
    expect(busy.tooBusy()).toBe(true) // p = 35 / 70 = 0.5
    u = 0.51
    expect(busy.tooBusy()).toBe(false)
    busy.measure(500, 0)
    busy.measure(1000, 0)
    expect(busy.lag).toBeCloseTo(105 * (2 / 3) ** 2, 10)
    u = 0
    expect(busy.tooBusy()).toBe(false) // under maxLag: never
  })
})

describe("concurrency-limits' WindowedLimit (published rule, average window)", () => {
  it('passes one sample a window: the average RTT, the most in flight, any drop; windows of ≥ 10 samples, 1 s long', () => {
    const inner = new RecordingLimit(new FixedLimit(50))
    const w = new WindowedLimit(inner)
    w.onSample(0, 10, 1, false) // ends at 10, after the first window's end (0): closes an empty-enough window, next update at 1010
    expect(inner.samples).toEqual([])
    for (let i = 0; i < 10; i++) w.onSample(100 + i, 20 + i, 5 + i, i === 3) // ends 120..138: collected
    expect(inner.samples).toEqual([])
    w.onSample(1000, 30, 2, false) // ends at 1030 > 1010: closes the window of these 11 samples
    expect(inner.samples).toEqual([
      {
        startTime: 1000,
        rtt: (20 + 21 + 22 + 23 + 24 + 25 + 26 + 27 + 28 + 29 + 30) / 11,
        inflight: 14,
        didDrop: true,
      },
    ])
    w.onSample(1500, 0.05, 3, false) // under 100 µs: not a sample at all
    for (let i = 0; i < 5; i++) w.onSample(1100 + i, 10, 1, false)
    w.onSample(2100, 10, 1, false) // past 2030, but 6 samples: too few, dropped
    expect(inner.samples).toHaveLength(1)
    expect(w.limit).toBe(50)
  })
})
