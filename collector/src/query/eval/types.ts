import type { MetricType, Temporality } from '../../model/types.ts'

/**
 * Inputs and outputs of the step evaluators behind `GET /api/v1/query`.
 *
 * Every series is columnar, like the store's point tables: one array per column, one entry
 * per point, points sorted by time, timestamps in integer milliseconds since the epoch.
 * `start` is the OTLP start time in ms, 0 when the point has none.
 */

/** One result point: the start of a step bucket (ms) and the value for that bucket. */
export type StepPoint = [ts: number, value: number]

/** Raw points of one gauge or sum series. */
export interface NumberSeries {
  ts: ArrayLike<number>
  value: ArrayLike<number>
  start: ArrayLike<number>
}

/** Raw points of one explicit-bucket histogram series. */
export interface HistogramSeries {
  ts: ArrayLike<number>
  /** OTLP start times, ms, 0 when unknown; omit when the store has none. */
  start?: ArrayLike<number> | undefined
  count: ArrayLike<number>
  sum: ArrayLike<number>
  /** Per point: the ascending explicit bounds. */
  bounds: ReadonlyArray<ArrayLike<number>>
  /** Per point: per-bucket (not cumulative) counts, `bounds.length + 1` of them, the last for +Inf. */
  counts: ReadonlyArray<ArrayLike<number>>
}

/** One side of an exponential histogram: `counts[j]` is the bucket with index `offset + j`. */
export interface ExpBuckets {
  offset: number
  counts: ArrayLike<number>
}

/** Raw points of one exponential histogram series. */
export interface ExpHistogramSeries {
  ts: ArrayLike<number>
  /** OTLP start times, ms, 0 when unknown; omit when the store has none. */
  start?: ArrayLike<number> | undefined
  count: ArrayLike<number>
  sum: ArrayLike<number>
  scale: ArrayLike<number>
  zeroCount: ArrayLike<number>
  zeroThreshold: ArrayLike<number>
  positive: ReadonlyArray<ExpBuckets>
  negative: ReadonlyArray<ExpBuckets>
}

/** Raw points of one summary series. */
export interface SummarySeries {
  ts: ArrayLike<number>
  /** OTLP start times, ms, 0 when unknown; omit when the store has none. */
  start?: ArrayLike<number> | undefined
  count: ArrayLike<number>
  sum: ArrayLike<number>
  /** Per point: the stored quantiles, in [0, 1]. */
  quantiles: ReadonlyArray<ArrayLike<number>>
  /** Per point: the value of each stored quantile. */
  values: ReadonlyArray<ArrayLike<number>>
}

/** Aggregations that are a plain name. */
export type SimpleAggName = 'avg' | 'min' | 'max' | 'sum' | 'count' | 'last' | 'rate' | 'increase'

/** A validated aggregation, as `parseAgg` returns it. */
export type Agg =
  | { readonly kind: SimpleAggName; readonly name: SimpleAggName }
  /** `pNN` or `pNN.N`: `q` is the quantile in [0, 0.9999], `name` the text it was parsed from. */
  | { readonly kind: 'quantile'; readonly name: string; readonly q: number }

/** What to compute over the group's series, and on which steps. */
export interface EvalOptions {
  /** The aggregation, from `parseAgg`. */
  agg: Agg
  /**
   * First millisecond of the query. Buckets start at `alignDown(from, stepMs)`, so the first
   * bucket can begin before `from`; it is still evaluated whole (see `stepWindows`).
   */
  from: number
  /** End of the query, exclusive: a bucket is reported when its start is below `to`. */
  to: number
  /** Bucket width in ms, a positive integer; buckets are aligned to multiples of it since the epoch. */
  stepMs: number
  /** Temporality of the metric; anything but `delta` is read as cumulative. */
  temporality: Temporality
  /** Type of the metric; decides which aggregations apply. */
  type: MetricType
  /**
   * For cumulative sums: whether the sum only goes up (OTLP `is_monotonic`). A non-monotonic
   * sum gets `rate`/`increase` without counter-reset correction, like Prometheus' `delta()`.
   * Default true.
   */
  monotonic?: boolean | undefined
}
