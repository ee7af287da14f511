import { describe, expect, it } from 'vitest'
import { RANGE_FUNCTIONS, RANGE_KERNELS } from '../../../collector/src/promql/range-functions.ts'
import { asMap, engineOver, matrixOf, series } from './fixtures.ts'

// A counter every 15 s from 5 s on, with a reset at the 4th point: 10 20 30 5 15 25 35 45…
const counterValues = [10, 20, 30, 5, 15, 25, 35, 45, 55, 65]
const c = series({ __name__: 'c', job: 'a' }, counterValues.length, (i) => counterValues[i]!, 15_000, 5_000)
// A counter starting near zero: 1 11 21 31 at 20, 35, 50, 65 s.
const z = series({ __name__: 'z', job: 'a' }, 4, (i) => 1 + 10 * i, 15_000, 20_000)
// A gauge with only two points in the middle of a long window: 50 s → 8, 65 s → 2.
const gauge = series({ __name__: 'gauge' }, 2, (i) => (i === 0 ? 8 : 2), 15_000, 50_000)
// A straight line: 3 + 0.5·t(s), every 10 s from 0 to 200 s.
const line = series({ __name__: 'line' }, 21, (i) => 3 + 0.5 * i * 10, 10_000)
const engine = engineOver([c, z, gauge, line])
const one = async (q: string, t: number): Promise<number | undefined> => {
  const m = asMap(await engine.instantQuery(q, t))
  const values = Object.values(m)
  expect(values.length).toBeLessThanOrEqual(1)
  return values[0]
}

describe('rate, increase and delta (Prometheus 2.x extrapolation)', () => {
  it('correct a counter reset and extrapolate to the window edges', async () => {
    // Window [10 s, 70 s] holds (20,20) (35,30) (50,5) (65,15).
    // Raw increase 15 - 20 = -5, plus 30 for the reset at 50 s: 25.
    // To start 10 s, to end 5 s, sampled 45 s, average interval 15 s, threshold 16.5 s:
    // both gaps under it, so extrapolate all the way: 25 · (45 + 10 + 5) / 45.
    // The zero point (45 · 20/25 = 36 s before the first point) is farther than 10 s: no cap.
    const increase = (25 * (45 + 10 + 5)) / 45
    expect(await one('increase(c[1m])', 70_000)).toBeCloseTo(increase, 12)
    expect(await one('rate(c[1m])', 70_000)).toBeCloseTo(increase / 60, 12)
    // delta ignores the reset: (15 - 20) · 60 / 45.
    expect(await one('delta(c[1m])', 70_000)).toBeCloseTo((-5 * 60) / 45, 12)
  })
  it('never extrapolate a counter below zero', async () => {
    // Window [10 s, 70 s] holds 1, 11, 21, 31 at 20…65 s: increase 30 over 45 s.
    // Zero point: 45 · 1/30 = 1.5 s before the first point, under the 10 s to the start.
    expect(await one('increase(z[1m])', 70_000)).toBeCloseTo((30 * (45 + 1.5 + 5)) / 45, 12)
  })
  it('extrapolate by half an interval when the series starts or ends inside the window', async () => {
    // Window [0 s, 120 s], points at 50 s and 65 s: 50 s to the start and 55 s to the end are
    // both over 1.1 · 15 s, so each side gets 7.5 s: -6 · (15 + 7.5 + 7.5) / 15.
    expect(await one('delta(gauge[2m])', 120_000)).toBeCloseTo((-6 * 30) / 15, 12)
    // As a counter, 8 → 2 is a reset: 2 - 8 + 8 = 2; its zero point (15 · 8/2 = 60 s back) is past the start.
    expect(await one('rate(gauge[2m])', 120_000)).toBeCloseTo((2 * (15 + 7.5 + 7.5)) / 15 / 120, 12)
  })
  it('count a point at the window start, as 2.x does (closed window)', async () => {
    // Window [5 s, 65 s] holds all of 5, 20, 35, 50, 65 s: 15 - 10 + 30 = 35 over 60 s, no extrapolation.
    expect(await one('increase(c[1m])', 65_000)).toBeCloseTo(35, 12)
  })
  it('give nothing with fewer than two points', async () => {
    expect(await one('rate(c[10s])', 70_000)).toBeUndefined()
    expect(asMap(await engine.instantQuery('rate(gauge[5s])', 52_000))).toEqual({})
  })
  it('drop the metric name and evaluate every step of a range query', async () => {
    const m = matrixOf(await engine.rangeQuery('increase(c[30s])', 35_000, 65_000, 15_000))
    // At 35 s: (5,10) (20,20) (35,30): 20, no extrapolation. At 50 s: 20 → 30 → 5: -15 + 30 = 15.
    // At 65 s: 30 → 5 → 15: -15 + 30 = 15.
    expect(m).toEqual({
      '{job="a"}': [
        [35, 20],
        [50, 15],
        [65, 15],
      ],
    })
  })
})

describe('irate, idelta, deriv, predict_linear, changes, resets', () => {
  it('use the last two points', async () => {
    // At 70 s the last two points are (50,5) and (65,15).
    expect(await one('irate(c[1m])', 70_000)).toBeCloseTo(10 / 15, 12)
    expect(await one('idelta(c[1m])', 70_000)).toBe(10)
    // A reset between the last two: irate takes the new value as the increase.
    expect(await one('irate(c[30s])', 50_000)).toBeCloseTo(5 / 15, 12)
    expect(await one('idelta(c[30s])', 50_000)).toBe(-25)
  })
  it('fit a least-squares line', async () => {
    expect(await one('deriv(line[1m])', 200_000)).toBeCloseTo(0.5, 12)
    // Intercept at the evaluation time: 3 + 0.5 · 200 = 103, then 100 s ahead.
    expect(await one('predict_linear(line[1m], 100)', 200_000)).toBeCloseTo(153, 9)
    expect(await one('predict_linear(line[1m] offset 1m, 0)', 200_000)).toBeCloseTo(103, 9)
  })
  it('count changes and resets', async () => {
    expect(await one('changes(c[5m])', 140_000)).toBe(9)
    expect(await one('resets(c[5m])', 140_000)).toBe(1)
    expect(await one('changes(line[1s])', 200_000)).toBe(0)
  })
})

describe('*_over_time', () => {
  // At 65 s, [5 s, 65 s]: 10 20 30 5 15.
  const cases: [string, number][] = [
    ['sum_over_time(c[1m])', 80],
    ['avg_over_time(c[1m])', 16],
    ['min_over_time(c[1m])', 5],
    ['max_over_time(c[1m])', 30],
    ['count_over_time(c[1m])', 5],
    ['last_over_time(c[1m])', 15],
    ['present_over_time(c[1m])', 1],
    // Sorted 5 10 15 20 30; rank 0.9 · 4 = 3.6: 20 + 0.6 · (30 - 20).
    ['quantile_over_time(0.9, c[1m])', 26],
    ['quantile_over_time(0, c[1m])', 5],
    // Mean 16; squared deviations 36 16 196 121 1 → 370 / 5.
    ['stdvar_over_time(c[1m])', 74],
    ['stddev_over_time(c[1m])', Math.sqrt(74)],
  ]
  it.each(cases)('%s', async (q, want) => {
    expect(await one(q, 65_000)).toBeCloseTo(want, 10)
  })
  it('answer ±Inf for a quantile outside [0, 1]', async () => {
    expect(await one('quantile_over_time(2, c[1m])', 65_000)).toBe(Infinity)
    expect(await one('quantile_over_time(-1, c[1m])', 65_000)).toBe(-Infinity)
  })
  it('keep the metric name for last_over_time only', async () => {
    expect(Object.keys(asMap(await engine.instantQuery('last_over_time(c[1m])', 65_000)))).toEqual([
      '{__name__="c",job="a"}',
    ])
    expect(Object.keys(asMap(await engine.instantQuery('max_over_time(c[1m])', 65_000)))).toEqual(['{job="a"}'])
  })
  it('absent_over_time answers 1 with the equality labels where nothing is in the window', async () => {
    expect(asMap(await engine.instantQuery('absent_over_time(nope{job="x", a=~"b"}[1m])', 65_000))).toEqual({
      '{job="x"}': 1,
    })
    expect(asMap(await engine.instantQuery('absent_over_time(c[1m])', 65_000))).toEqual({})
    // The gauge has points at 50 s and 65 s only.
    const m = matrixOf(await engine.rangeQuery('absent_over_time(gauge[10s])', 40_000, 80_000, 10_000))
    expect(m).toEqual({
      '{}': [
        [40, 1],
        [80, 1],
      ],
    })
  })
  it('holt_winters smooths with level and trend factors', async () => {
    // Points 10 20 30 5 15 at 5…65 s; sf 0.5, tf 0.5. s1 = 10, b = 10, then per point:
    // x = sf·v; b = tf·(s1 - s0) + (1 - tf)·b except on the first round; s = x + (1 - sf)(s1 + b).
    let s0 = 0
    let s1 = 10
    let b = 10
    const vs = [10, 20, 30, 5, 15]
    for (let i = 1; i < vs.length; i++) {
      if (i > 1) b = 0.5 * (s1 - s0) + 0.5 * b
      const next = 0.5 * vs[i]! + 0.5 * (s1 + b)
      s0 = s1
      s1 = next
    }
    expect(await one('holt_winters(c[1m], 0.5, 0.5)', 65_000)).toBeCloseTo(s1, 12)
    await expect(engine.instantQuery('holt_winters(c[1m], 1, 0.5)', 65_000)).rejects.toMatchObject({
      errorType: 'execution',
      message: 'invalid smoothing factor. Expected: 0 < sf < 1, got: 1.000000',
    })
  })
})

describe('sliding min_over_time / max_over_time and quantile with NaN', () => {
  // Pseudo-random gauge with NaN and repeated values, irregular gaps.
  let seed = 7
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648
  const points: [number, number][] = []
  for (let t = 0, i = 0; i < 400; i++) {
    t += 1_000 + Math.floor(rnd() * 20_000)
    const r = rnd()
    points.push([t, r < 0.1 ? NaN : Math.floor(r * 8)])
  }
  const e = engineOver([{ labels: { __name__: 'w' }, points }])
  // Prometheus' loop: start from the first value; any value replaces a NaN.
  const reference = (t: number, range: number, isMax: boolean): number | undefined => {
    const win = points.filter(([pt]) => pt >= t - range && pt <= t).map(([, v]) => v)
    if (win.length === 0) return undefined
    let m = win[0]!
    for (const v of win) if ((isMax ? v > m : v < m) || Number.isNaN(m)) m = v
    return m
  }
  it.each([[30_000], [120_000], [600_000]])('match the window-by-window loop over %d ms windows', async (range) => {
    const end = points[points.length - 1]![0]
    for (const fn of ['max', 'min'] as const) {
      const m = matrixOf(await e.rangeQuery(`${fn}_over_time(w[${range / 1000}s])`, 0, end, 7_000))['{}'] ?? []
      const want: [number, number][] = []
      for (let t = 0; t <= end; t += 7_000) {
        const v = reference(t, range, fn === 'max')
        if (v !== undefined) want.push([t / 1000, v])
      }
      expect(m).toEqual(want)
    }
  })
  it('sorts NaN first for quantiles, as Prometheus does', async () => {
    const q = engineOver([series({ __name__: 'n' }, 3, (i) => [NaN, 1, 2][i]!)])
    expect(asMap(await q.instantQuery('quantile_over_time(0, n[1m])', 30_000))).toEqual({ '{}': NaN })
    expect(asMap(await q.instantQuery('quantile_over_time(1, n[1m])', 30_000))).toEqual({ '{}': 2 })
    // Rank 0.75 · 2 = 1.5 between 1 and 2.
    expect(asMap(await q.instantQuery('quantile_over_time(0.75, n[1m])', 30_000))).toEqual({ '{}': 1.5 })
  })
})

describe('rate, increase and delta over whole series', () => {
  // Counters with resets (some to negative values, some several in one window), NaN, −0 and
  // zeros, repeated values, irregular gaps: every window's value must be the very float the
  // window-by-window function gives (the kernel only skips visiting points that are no reset).
  let seed = 11
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648
  const makeSeries = (n: number): { ts: Float64Array; vs: Float64Array } => {
    const ts = new Float64Array(n),
      vs = new Float64Array(n)
    let t = 0,
      v = rnd() < 0.5 ? 0 : rnd() * 50
    for (let i = 0; i < n; i++) {
      t += 1_000 + Math.floor(rnd() * 30_000)
      const r = rnd()
      if (r < 0.06)
        v = r < 0.02 ? -rnd() * 5 : rnd() * 3 // a reset, sometimes below zero
      else if (r < 0.09) v = NaN
      else if (r < 0.11) v = -0
      else if (r < 0.2)
        v = Number.isNaN(v) ? 1 : v // repeated
      else v = (Number.isNaN(v) ? 0 : v) + rnd() * 10 + 1e-9 * i
      ts[i] = t
      vs[i] = v
    }
    return { ts, vs }
  }
  const same = (a: number, b: number): boolean => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b))

  it.each([['rate'], ['increase'], ['delta']])(
    '%s: every window equals the window-by-window function, bit for bit',
    (fn) => {
      const kernel = RANGE_KERNELS[fn]!
      const windowFn = RANGE_FUNCTIONS[fn]!
      let windowsWithResets = 0,
        compared = 0
      for (let s = 0; s < 40; s++) {
        const { ts, vs } = makeSeries(300)
        for (const [range, step] of [
          [60_000, 15_000],
          [300_000, 60_000],
          [120_000, 7_000],
          [1_800_000, 300_000],
        ] as const) {
          const n = Math.floor(ts[ts.length - 1]! / step) + 2
          const ends = new Float64Array(n).map((_, k) => k * step)
          const out = new Float64Array(n).fill(NaN),
            present = new Uint8Array(n)
          kernel(ts, vs, ends, range, out, present)
          let lo = 0,
            hi = 0
          for (let k = 0; k < n; k++) {
            const end = ends[k]!
            while (hi < ts.length && ts[hi]! <= end) hi++
            while (lo < hi && ts[lo]! < end - range) lo++
            const want =
              hi > lo
                ? windowFn(ts, vs, lo, hi, { start: end - range, end, evalTime: end, range, args: new Float64Array(1) })
                : undefined
            expect(present[k], `${fn} series ${s} range ${range} step ${k}`).toBe(want === undefined ? 0 : 1)
            if (want === undefined) continue
            compared++
            for (let i = lo + 1; i < hi; i++)
              if (vs[i]! < vs[i - 1]!) {
                windowsWithResets++
                break
              }
            expect(same(out[k]!, want), `${fn} series ${s} range ${range} step ${k}: ${out[k]} vs ${want}`).toBe(true)
          }
        }
      }
      expect(compared).toBeGreaterThan(10_000)
      if (fn !== 'delta') expect(windowsWithResets).toBeGreaterThan(1_000)
    },
  )
})
