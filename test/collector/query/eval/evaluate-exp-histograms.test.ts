import { describe, expect, it } from 'vitest'
import { evaluateExpHistograms } from '../../../../collector/src/query/eval/evaluate-exp-histograms.ts'
import { parseAgg } from '../../../../collector/src/query/eval/parse-agg.ts'
import type { EvalOptions, ExpBuckets, ExpHistogramSeries } from '../../../../collector/src/query/eval/types.ts'

interface P {
  ts: number
  scale?: number
  zeroCount?: number
  zeroThreshold?: number
  positive?: ExpBuckets
  negative?: ExpBuckets
}

const none: ExpBuckets = { offset: 0, counts: [] }

function exp(points: P[]): ExpHistogramSeries {
  const total = (p: P): number =>
    (p.zeroCount ?? 0) +
    [...Array.from((p.positive ?? none).counts), ...Array.from((p.negative ?? none).counts)].reduce((a, b) => a + b, 0)
  return {
    ts: points.map((p) => p.ts),
    count: points.map(total),
    sum: points.map(() => 0),
    scale: points.map((p) => p.scale ?? 0),
    zeroCount: points.map((p) => p.zeroCount ?? 0),
    zeroThreshold: points.map((p) => p.zeroThreshold ?? 0),
    positive: points.map((p) => p.positive ?? none),
    negative: points.map((p) => p.negative ?? none),
  }
}

function opts(agg: string, temporality: EvalOptions['temporality'] = 'delta'): EvalOptions {
  return { agg: parseAgg(agg), from: 0, to: 120_000, stepMs: 60_000, temporality, type: 'exponential_histogram' }
}

describe('evaluateExpHistograms', () => {
  it('interpolates in base-2 buckets at scale 0', () => {
    // Scale 0: base 2, bucket i = (2^i, 2^(i+1)]. Zero bucket 2 (threshold 0), (1,2] 4, (2,4] 4.
    // le bounds: 0 → 2, 1 → 2 (edge of the lowest positive bucket), 2 → 6, 4 → 10, +Inf → 10
    const s = exp([{ ts: 0, zeroCount: 2, positive: { offset: 0, counts: [4, 4] } }])
    // p50: rank 5 in (1, 2] holding 2…6 → 1 + 1 × 3/4 = 1.75
    expect(evaluateExpHistograms([s], opts('p50'))).toEqual([[0, 1.75]])
    // p90: rank 9 in (2, 4] holding 6…10 → 2 + 2 × 3/4 = 3.5
    expect(evaluateExpHistograms([s], opts('p90'))).toEqual([[0, 3.5]])
    // p10: rank 1 in the zero bucket, whose upper bound is 0 → 0
    expect(evaluateExpHistograms([s], opts('p10'))).toEqual([[0, 0]])
    expect(evaluateExpHistograms([s], opts('count'))).toEqual([[0, 10]])
  })

  it('includes negative buckets', () => {
    // [−2, −1) 2, zero 0, (1, 2] 2 → bounds −2 → 0, −1 → 2, 0 → 2, 1 → 2, 2 → 4
    const s = exp([{ ts: 0, negative: { offset: 0, counts: [2] }, positive: { offset: 0, counts: [2] } }])
    // p25: rank 1 in (−2, −1] → −2 + 1 × 1/2 = −1.5;  p75: rank 3 in (1, 2] → 1 + 1 × 1/2 = 1.5
    expect(evaluateExpHistograms([s], opts('p25'))).toEqual([[0, -1.5]])
    expect(evaluateExpHistograms([s], opts('p75'))).toEqual([[0, 1.5]])
  })

  it('keeps the true lower edge of the lowest positive bucket', () => {
    // zero bucket [−0.5, 0.5] 1, (4, 8] 3 → bounds 0.5 → 1, 4 → 1, 8 → 4
    const s = exp([{ ts: 0, zeroCount: 1, zeroThreshold: 0.5, positive: { offset: 2, counts: [3] } }])
    // p50: rank 2 in (4, 8] → 4 + 4 × 1/3 (interpolating from 0.5 instead would give 3)
    expect(evaluateExpHistograms([s], opts('p50'))).toEqual([[0, expect.closeTo(4 + 4 / 3, 12)]])
    // p20: rank 0.8 in the zero bucket, which starts at 0 as there are no negatives → 0.5 × 0.8
    expect(evaluateExpHistograms([s], opts('p20'))).toEqual([[0, expect.closeTo(0.4, 12)]])
  })

  it('brings points to the lowest scale before adding them', () => {
    // Scale 1 (base √2) buckets 0…3 = [3, 1, 0, 0] → at scale 0 bucket i holds 2i and 2i+1:
    // (1,2] 4, (2,4] 0. Plus a scale-0 point (1,2] 0, (2,4] 4 → (1,2] 4, (2,4] 4.
    // p25: rank 2 in (1, 2] holding 4 → 1 + 2/4 = 1.5
    // (reading the scale-1 indices as scale 0 would give (1,2] 3, (2,4] 5 → 1 + 2/3)
    const s = exp([
      { ts: 0, scale: 1, positive: { offset: 0, counts: [3, 1, 0, 0] } },
      { ts: 10_000, scale: 0, positive: { offset: 0, counts: [0, 4] } },
    ])
    expect(evaluateExpHistograms([s], opts('p25'))).toEqual([[0, 1.5]])
  })

  it('takes the quantile of the step increase of a cumulative series', () => {
    // 65 s (1,2] 100, (2,4] 0;  85 s 101, 2;  105 s 102, 4 → le 2: 100 101 102, le 4: 100 103 106
    // raw increases: le 2 → 2, le 4 and +Inf → 6; edges 5.001 s and 14.999 s kept → × 1.5: 3, 9
    // p50: rank 4.5 in (2, 4] holding 3…9 → 2 + 2 × 1.5/6 = 2.5 (the running total would give ≈ 1.5)
    const s = exp([
      { ts: 65_000, positive: { offset: 0, counts: [100, 0] } },
      { ts: 85_000, positive: { offset: 0, counts: [101, 2] } },
      { ts: 105_000, positive: { offset: 0, counts: [102, 4] } },
    ])
    expect(evaluateExpHistograms([s], opts('p50', 'cumulative'))).toEqual([[60_000, expect.closeTo(2.5, 9)]])
  })

  it('refuses points with different zero thresholds in one step', () => {
    const a = exp([{ ts: 0, zeroCount: 1, zeroThreshold: 0.5 }])
    const b = exp([{ ts: 0, zeroCount: 1, zeroThreshold: 0.25 }])
    expect(() => evaluateExpHistograms([a, b], opts('p50'))).toThrow(/different zero thresholds/)
  })
})
