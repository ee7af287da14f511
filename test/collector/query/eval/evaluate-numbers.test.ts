import { describe, expect, it } from 'vitest'
import { isGovernorError } from '../../../../collector/src/errors.ts'
import { evaluateNumbers } from '../../../../collector/src/query/eval/evaluate-numbers.ts'
import { parseAgg } from '../../../../collector/src/query/eval/parse-agg.ts'
import type { EvalOptions, NumberSeries } from '../../../../collector/src/query/eval/types.ts'

const STEP = 60_000

function series(points: Array<[number, number]>, start?: number[]): NumberSeries {
  return { ts: points.map((p) => p[0]), value: points.map((p) => p[1]), start: start ?? points.map(() => 0) }
}

function opts(agg: string, over: Partial<EvalOptions> = {}): EvalOptions {
  return { agg: parseAgg(agg), from: 0, to: 180_000, stepMs: STEP, temporality: 'unspecified', type: 'gauge', ...over }
}

// A: 1 at 0 s, 4 at 10 s, 2 at 60 s (exactly the next bucket's start)
// B: 7 at 30 s, 3 at 70 s
const A = series([
  [0, 1],
  [10_000, 4],
  [60_000, 2],
])
const B = series([
  [30_000, 7],
  [70_000, 3],
])

describe('evaluateNumbers: plain aggregations', () => {
  it('aggregates the points of each [b, b + step) bucket of one series', () => {
    // bucket 0: 1, 4 · bucket 60 s: 2
    expect(evaluateNumbers([A], opts('avg'))).toEqual([
      [0, 2.5],
      [60_000, 2],
    ])
    expect(evaluateNumbers([A], opts('min'))).toEqual([
      [0, 1],
      [60_000, 2],
    ])
    expect(evaluateNumbers([A], opts('max'))).toEqual([
      [0, 4],
      [60_000, 2],
    ])
    expect(evaluateNumbers([A], opts('sum'))).toEqual([
      [0, 5],
      [60_000, 2],
    ])
    expect(evaluateNumbers([A], opts('count'))).toEqual([
      [0, 2],
      [60_000, 1],
    ])
    expect(evaluateNumbers([A], opts('last'))).toEqual([
      [0, 4],
      [60_000, 2],
    ])
  })

  it('pools the points of a group, and sums the last value of each series', () => {
    // bucket 0: 1, 4, 7 → avg 4, min 1, max 7, sum 12, count 3; last = 4 (A) + 7 (B) = 11
    // bucket 60 s: 2, 3 → avg 2.5, min 2, max 3, sum 5, count 2; last = 2 + 3 = 5
    const g = [A, B]
    expect(evaluateNumbers(g, opts('avg'))).toEqual([
      [0, 4],
      [60_000, 2.5],
    ])
    expect(evaluateNumbers(g, opts('min'))).toEqual([
      [0, 1],
      [60_000, 2],
    ])
    expect(evaluateNumbers(g, opts('max'))).toEqual([
      [0, 7],
      [60_000, 3],
    ])
    expect(evaluateNumbers(g, opts('sum'))).toEqual([
      [0, 12],
      [60_000, 5],
    ])
    expect(evaluateNumbers(g, opts('count'))).toEqual([
      [0, 3],
      [60_000, 2],
    ])
    expect(evaluateNumbers(g, opts('last'))).toEqual([
      [0, 11],
      [60_000, 5],
    ])
  })

  it('emits whole buckets from alignDown(from) while their start is below to', () => {
    // from 30 s still reports bucket 0 with both of its points; to = 60 s excludes bucket 60 s
    expect(evaluateNumbers([A], opts('count', { from: 30_000, to: 60_000 }))).toEqual([[0, 2]])
    // to = 60 001 includes bucket 60 s
    expect(evaluateNumbers([A], opts('count', { from: 30_000, to: 60_001 }))).toEqual([
      [0, 2],
      [60_000, 1],
    ])
  })

  it('skips buckets without data', () => {
    const sparse = series([
      [0, 1],
      [150_000, 5],
    ])
    expect(evaluateNumbers([sparse], opts('max'))).toEqual([
      [0, 1],
      [120_000, 5],
    ])
  })
})

describe('evaluateNumbers: rate and increase', () => {
  // Bucket 0 holds 5 s … 55 s: 10, 20, 30, reset, 5, 15, 25. By hand (see extrapolated-rate
  // tests): raw 15 + 30 = 45, edges 5.001 s and 4.999 s both extrapolated → 45 × 60/50 = 54.
  const counter = series([
    [5_000, 10],
    [15_000, 20],
    [25_000, 30],
    [35_000, 5],
    [45_000, 15],
    [55_000, 25],
  ])
  const sum = { type: 'sum', temporality: 'cumulative' } as const

  it('computes the increase of a cumulative sum across a counter reset', () => {
    expect(evaluateNumbers([counter], opts('increase', sum))).toEqual([[0, expect.closeTo(54, 9)]])
    // rate = 54 / 60 s
    expect(evaluateNumbers([counter], opts('rate', sum))).toEqual([[0, expect.closeTo(0.9, 9)]])
  })

  it('gives no value for a bucket with a single cumulative point', () => {
    const lone = series([
      [5_000, 10],
      [15_000, 20],
      [65_000, 30],
    ])
    // bucket 0: raw 10 over 10 s, toStart 5.001 s, toEnd 44.999 s ≥ 11 → 5 s; 10 × 20.001 / 10
    expect(evaluateNumbers([lone], opts('increase', sum))).toEqual([[0, expect.closeTo(20.001, 9)]])
  })

  it('computes rate and increase per series, then sums them over the group', () => {
    // second counter: 100, 110, 120 at 20 s, 30 s, 40 s → 30 (half-interval extrapolation, by hand
    // in the extrapolated-rate tests); group increase = 54 + 30 = 84, rate = 84 / 60 = 1.4
    const other = series([
      [20_000, 100],
      [30_000, 110],
      [40_000, 120],
    ])
    expect(evaluateNumbers([counter, other], opts('increase', sum))).toEqual([[0, expect.closeTo(84, 9)]])
    expect(evaluateNumbers([counter, other], opts('rate', sum))).toEqual([[0, expect.closeTo(1.4, 9)]])
  })

  it('adds up the deltas of a delta sum in each bucket', () => {
    const deltas = series([
      [5_000, 3],
      [25_000, 4],
      [65_000, 10],
    ])
    const delta = { type: 'sum', temporality: 'delta' } as const
    expect(evaluateNumbers([deltas], opts('increase', delta))).toEqual([
      [0, 7],
      [60_000, 10],
    ])
    // rate = 7 / 60 s and 10 / 60 s
    expect(evaluateNumbers([deltas], opts('rate', delta))).toEqual([
      [0, 7 / 60],
      [60_000, 10 / 60],
    ])
  })

  it('does not treat drops of a non-monotonic sum as resets', () => {
    const updown = series([
      [20_000, 10],
      [30_000, 5],
      [40_000, 0],
    ])
    // raw = 0 − 10 = −10 over 20 s; both edges ≥ 11 s away → 5 s each: −10 × 30 / 20 = −15
    expect(evaluateNumbers([updown], opts('increase', { ...sum, monotonic: false }))).toEqual([[0, -15]])
  })

  it('rejects rate, increase and quantiles of a gauge with GOV_ERR_QUERY_AGG_TYPE', () => {
    for (const agg of ['rate', 'increase', 'p99']) {
      let caught: unknown
      try {
        evaluateNumbers([A], opts(agg))
      } catch (err) {
        caught = err
      }
      expect(isGovernorError(caught)).toBe(true)
      expect((caught as { code: string }).code).toBe('GOV_ERR_QUERY_AGG_TYPE')
      expect((caught as Error).message).toContain(agg)
      expect((caught as Error).message).toContain('gauge')
    }
  })

  it('rejects a step that is not a positive whole number of ms', () => {
    expect(() => evaluateNumbers([A], opts('avg', { stepMs: 0 }))).toThrow(/step/)
    expect(() => evaluateNumbers([A], opts('avg', { stepMs: 1.5 }))).toThrow(/step/)
  })
})
