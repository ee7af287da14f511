import { describe, expect, it } from 'vitest'
import { isGovernorError } from '../../../../collector/src/errors.ts'
import { evaluateSummaries } from '../../../../collector/src/query/eval/evaluate-summaries.ts'
import { parseAgg } from '../../../../collector/src/query/eval/parse-agg.ts'
import type { EvalOptions, SummarySeries } from '../../../../collector/src/query/eval/types.ts'

// Points at 10 s and 50 s (bucket 0) and 70 s (bucket 60 s), quantiles 0.5 and 0.99.
const S: SummarySeries = {
  ts: [10_000, 50_000, 70_000],
  count: [100, 140, 150],
  sum: [1000, 1400, 1500],
  quantiles: [
    [0.5, 0.99],
    [0.5, 0.99],
    [0.5, 0.99],
  ],
  values: [
    [10, 50],
    [12, 60],
    [11, 55],
  ],
}

function opts(agg: string): EvalOptions {
  return { agg: parseAgg(agg), from: 0, to: 120_000, stepMs: 60_000, temporality: 'unspecified', type: 'summary' }
}

function thrown(fn: () => unknown): Error & { code?: string } {
  try {
    fn()
  } catch (err) {
    expect(isGovernorError(err)).toBe(true)
    return err as Error & { code?: string }
  }
  throw new Error('expected a throw')
}

describe('evaluateSummaries', () => {
  it('returns the stored quantile of the last point in each bucket', () => {
    expect(evaluateSummaries([S], opts('p99'))).toEqual([
      [0, 60],
      [60_000, 55],
    ])
    expect(evaluateSummaries([S], opts('p50'))).toEqual([
      [0, 12],
      [60_000, 11],
    ])
  })

  it('names the stored quantiles when the asked one is missing', () => {
    const err = thrown(() => evaluateSummaries([S], opts('p90')))
    expect(err.code).toBe('GOV_ERR_QUERY_AGG_TYPE')
    expect(err.message).toContain('stored: p50, p99')
  })

  it('refuses to combine quantiles of several series', () => {
    const other: SummarySeries = {
      ...S,
      values: [
        [1, 2],
        [1, 2],
        [1, 2],
      ],
    }
    expect(thrown(() => evaluateSummaries([S, other], opts('p50'))).code).toBe('GOV_ERR_QUERY_AGG_TYPE')
  })

  it('derives count, sum and avg from the count and sum fields', () => {
    // bucket 0: count 100 → 140 over 40 s (one interval, threshold 44 s); toStart 10.001 s and
    // toEnd 9.999 s kept → × 60/40: 60; sum 400 × 1.5 = 600; avg 10; rate 60 / 60 s = 1.
    // Bucket 60 s has one point: no value.
    expect(evaluateSummaries([S], opts('count'))).toEqual([[0, expect.closeTo(60, 9)]])
    expect(evaluateSummaries([S], opts('sum'))).toEqual([[0, expect.closeTo(600, 9)]])
    expect(evaluateSummaries([S], opts('avg'))).toEqual([[0, expect.closeTo(10, 9)]])
    expect(evaluateSummaries([S], opts('rate'))).toEqual([[0, expect.closeTo(1, 9)]])
  })
})
