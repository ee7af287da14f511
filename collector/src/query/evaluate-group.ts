import { toNumber, type PointRows, type SeriesRow } from '../store/queries.ts'
import {
  evaluateExpHistograms,
  evaluateHistograms,
  evaluateNumbers,
  evaluateSummaries,
  parseAgg,
  type Agg,
  type EvalOptions,
  type ExpBuckets,
  type StepPoint,
} from './eval/index.ts'
import type { QueryParams } from './params.ts'
import type { Slice } from './groups.ts'

/** The aggregation a query with a step and no `agg` gets: rate for counters, avg otherwise. */
export function defaultAgg(s: SeriesRow): string {
  return s.type === 'sum' && s.monotonic ? 'rate' : 'avg'
}

/**
 * Turns one group's rows into the evaluators' column shapes and evaluates them on the
 * query's steps. `meta` is the metric's first series: type and temporality are per metric.
 */
export function evaluateGroup(
  meta: SeriesRow,
  rows: PointRows,
  members: { slice: Slice }[],
  p: QueryParams & { stepMs: number },
): StepPoint[] {
  const agg: Agg = parseAgg(p.agg ?? defaultAgg(meta))
  const opts: EvalOptions = {
    agg,
    from: p.from,
    to: p.to,
    stepMs: p.stepMs,
    temporality: meta.temporality,
    type: meta.type,
    monotonic: meta.monotonic,
  }
  const c = rows.columns
  const cut = <T>(col: unknown[] | undefined, { begin, end }: Slice, f: (v: unknown) => T): T[] =>
    col!.slice(begin, end).map(f)
  const nums = (col: unknown[] | undefined, s: Slice) => cut(col, s, toNumber)
  const head = (s: Slice) => ({ ts: rows.ts.slice(s.begin, s.end), start: rows.start.slice(s.begin, s.end) })
  const numArrays = (col: unknown[] | undefined, s: Slice) => cut(col, s, (v) => (v as unknown[]).map(toNumber))
  switch (meta.type) {
    case 'gauge':
    case 'sum':
      return evaluateNumbers(
        members.map(({ slice }) => ({ ...head(slice), value: nums(c.value, slice) })),
        opts,
      )
    case 'histogram':
      return evaluateHistograms(
        members.map(({ slice }) => ({
          ...head(slice),
          count: nums(c.count, slice),
          sum: nums(c.sum, slice),
          bounds: numArrays(c.bounds, slice),
          counts: numArrays(c.counts, slice),
        })),
        opts,
      )
    case 'exponential_histogram': {
      const side = (offsets: unknown[] | undefined, counts: unknown[] | undefined, s: Slice): ExpBuckets[] => {
        const o = nums(offsets, s),
          k = numArrays(counts, s)
        return o.map((offset, i) => ({ offset, counts: k[i]! }))
      }
      return evaluateExpHistograms(
        members.map(({ slice }) => ({
          ...head(slice),
          count: nums(c.count, slice),
          sum: nums(c.sum, slice),
          scale: nums(c.scale, slice),
          zeroCount: nums(c.zero_count, slice),
          zeroThreshold: nums(c.zero_threshold, slice),
          positive: side(c.positive_offset, c.positive_counts, slice),
          negative: side(c.negative_offset, c.negative_counts, slice),
        })),
        opts,
      )
    }
    case 'summary':
      return evaluateSummaries(
        members.map(({ slice }) => ({
          ...head(slice),
          count: nums(c.count, slice),
          sum: nums(c.sum, slice),
          quantiles: numArrays(c.quantiles, slice),
          values: numArrays(c.values, slice),
        })),
        opts,
      )
  }
}
