import { describe, expect, it } from 'vitest'
import { isGovernorError } from '../../../../collector/src/errors.ts'
import { evaluateHistograms } from '../../../../collector/src/query/eval/evaluate-histograms.ts'
import { parseAgg } from '../../../../collector/src/query/eval/parse-agg.ts'
import type { EvalOptions, HistogramSeries } from '../../../../collector/src/query/eval/types.ts'

const B = [0.1, 0.5, 1]

interface P {
  ts: number
  counts: number[]
  count?: number
  sum?: number
  bounds?: number[]
}

function hist(points: P[]): HistogramSeries {
  return {
    ts: points.map((p) => p.ts),
    count: points.map((p) => p.count ?? p.counts.reduce((a, b) => a + b, 0)),
    sum: points.map((p) => p.sum ?? 0),
    bounds: points.map((p) => p.bounds ?? B),
    counts: points.map((p) => p.counts),
  }
}

function opts(agg: string, temporality: EvalOptions['temporality']): EvalOptions {
  return { agg: parseAgg(agg), from: 0, to: 120_000, stepMs: 60_000, temporality, type: 'histogram' }
}

describe('evaluateHistograms: cumulative', () => {
  // Bucket [60 s, 120 s) holds points at 65, 85, 105 s. A point at 5 s alone in bucket 0
  // gives no increase there. Per-bucket counts (le 0.1, 0.5, 1, +Inf):
  //   65 s  [1000, 100, 100, 100]   cumulative le: 1000 1100 1200 1300
  //   85 s  [1001, 103, 105, 101]                  1001 1104 1209 1310
  //  105 s  [1002, 106, 110, 102]                  1002 1108 1218 1320
  // Raw increase per le: 2, 8, 18, 20. Sampled 40 s, average 20 s, threshold 22 s;
  // toStart 65 000 − 59 999 = 5.001 s and toEnd 119 999 − 105 000 = 14.999 s are both kept
  // (no le's zero point is closer: 40 × 1000/2 … ≫ 5 s), so every le is × 60/40 = 1.5:
  //   3, 12, 27, 30.
  const series = hist([
    { ts: 5_000, counts: [900, 90, 90, 90], sum: 400 },
    { ts: 65_000, counts: [1000, 100, 100, 100], sum: 500 },
    { ts: 85_000, counts: [1001, 103, 105, 101], sum: 510 },
    { ts: 105_000, counts: [1002, 106, 110, 102], sum: 530 },
  ])

  it('takes the quantile of the increase over the step, not of the running total', () => {
    // p50: rank 15 in (0.5, 1] holding 12…27 → 0.5 + 0.5 × 3/15 = 0.6.
    // The running total at 105 s would give rank 660 in (0, 0.1] → 0.1 × 660/1002 ≈ 0.066.
    expect(evaluateHistograms([series], opts('p50', 'cumulative'))).toEqual([[60_000, expect.closeTo(0.6, 9)]])
  })

  it('derives count, sum, avg and rate from the count and sum increases', () => {
    // count 1300 → 1320: 20 × 1.5 = 30; sum 500 → 530: 30 × 1.5 = 45; avg 45/30; rate 30/60 s
    expect(evaluateHistograms([series], opts('count', 'cumulative'))).toEqual([[60_000, expect.closeTo(30, 9)]])
    expect(evaluateHistograms([series], opts('sum', 'cumulative'))).toEqual([[60_000, expect.closeTo(45, 9)]])
    expect(evaluateHistograms([series], opts('avg', 'cumulative'))).toEqual([[60_000, expect.closeTo(1.5, 9)]])
    expect(evaluateHistograms([series], opts('rate', 'cumulative'))).toEqual([[60_000, expect.closeTo(0.5, 9)]])
  })

  it('corrects each le counter for a reset inside the step', () => {
    //   65 s [5, 5, 0, 0] → le 5 10 10 10;  85 s reset [1, 1, 0, 0] → 1 2 2 2;  105 s [2, 3, 1, 0] → 2 5 6 6
    // per le: last − first + value before the drop = 2−5+5 = 2, 5−10+10 = 5, 6, 6; × 1.5 (edges as above,
    // zero points 40 × 5/2 = 100 s … far) → 3, 7.5, 9, 9
    // p50: rank 4.5 in (0.1, 0.5] holding 3…7.5 → 0.1 + 0.4 × 1.5/4.5 = 0.2333…
    const reset = hist([
      { ts: 65_000, counts: [5, 5, 0, 0] },
      { ts: 85_000, counts: [1, 1, 0, 0] },
      { ts: 105_000, counts: [2, 3, 1, 0] },
    ])
    expect(evaluateHistograms([reset], opts('p50', 'cumulative'))).toEqual([[60_000, expect.closeTo(0.1 + 0.4 / 3, 9)]])
  })
})

describe('evaluateHistograms: delta and groups', () => {
  // A: two deltas in bucket 0, together [10, 30, 50, 10]; B: [10, 10, 0, 0].
  // Group total [20, 40, 50, 10] → cumulative 20, 60, 110, 120.
  const A = hist([
    { ts: 10_000, counts: [5, 15, 25, 5], sum: 10 },
    { ts: 20_000, counts: [5, 15, 25, 5], sum: 10 },
  ])
  const Bs = hist([{ ts: 30_000, counts: [10, 10, 0, 0], sum: 3 }])

  it('sums the deltas of every bucket over the group before interpolating', () => {
    // p25: rank 30 in (0.1, 0.5] holding 20…60 → 0.1 + 0.4 × 10/40 = 0.2
    expect(evaluateHistograms([A, Bs], opts('p25', 'delta'))).toEqual([[0, expect.closeTo(0.2, 12)]])
    // p5: rank 6 in the lowest bucket (0, 0.1] holding 20 → 0.1 × 6/20 = 0.03
    expect(evaluateHistograms([A, Bs], opts('p5', 'delta'))).toEqual([[0, expect.closeTo(0.03, 12)]])
    // p99: rank 118.8 > 110 → the +Inf bucket → the highest finite bound, 1
    expect(evaluateHistograms([A, Bs], opts('p99', 'delta'))).toEqual([[0, 1]])
  })

  it('adds count and sum deltas', () => {
    // count 50 + 50 + 20 = 120, sum 10 + 10 + 3 = 23, rate 120 / 60 s
    expect(evaluateHistograms([A, Bs], opts('count', 'delta'))).toEqual([[0, 120]])
    expect(evaluateHistograms([A, Bs], opts('sum', 'delta'))).toEqual([[0, 23]])
    expect(evaluateHistograms([A, Bs], opts('avg', 'delta'))).toEqual([[0, 23 / 120]])
    expect(evaluateHistograms([A, Bs], opts('rate', 'delta'))).toEqual([[0, 2]])
  })

  it('merges different bounds on the bounds they share', () => {
    // A: bounds 0.1 0.5 1, counts [10, 30, 50, 10] → at 0.5: 40, at 1: 90, total 100
    // B: bounds 0.5 1 5,   counts [20, 20, 10, 0]  → at 0.5: 20, at 1: 40, total 50
    // layout 0.5, 1, +Inf: 60, 130, 150; p50: rank 75 in (0.5, 1] → 0.5 + 0.5 × 15/70
    const a = hist([{ ts: 0, counts: [10, 30, 50, 10] }])
    const b = hist([{ ts: 0, counts: [20, 20, 10, 0], bounds: [0.5, 1, 5] }])
    expect(evaluateHistograms([a, b], opts('p50', 'delta'))).toEqual([[0, expect.closeTo(0.5 + (0.5 * 15) / 70, 12)]])
  })

  it('refuses bounds with nothing in common', () => {
    const a = hist([{ ts: 0, counts: [1, 1, 1], bounds: [1, 2] }])
    const b = hist([{ ts: 0, counts: [1, 1, 1], bounds: [3, 4] }])
    let caught: unknown
    try {
      evaluateHistograms([a, b], opts('p50', 'delta'))
    } catch (err) {
      caught = err
    }
    expect(isGovernorError(caught)).toBe(true)
    expect((caught as { code: string }).code).toBe('GOV_ERR_QUERY_AGG_TYPE')
    expect((caught as Error).message).toMatch(/no bucket bound in common/)
  })

  it('rejects aggregations that do not apply to histograms', () => {
    expect(() => evaluateHistograms([A], opts('last', 'delta'))).toThrow(/does not apply to a histogram/)
    expect(() => evaluateHistograms([A], opts('increase', 'delta'))).toThrow(
      /valid for histogram: count, sum, avg, rate, pNN/,
    )
  })
})
