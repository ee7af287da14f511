/**
 * Shapes of a deploy impact analysis: which signals are compared, what each comparison
 * found, and the report stored in the change log (as the `data` of an `analysis` event)
 * and served at `GET /api/v1/deploys/{id}/impact`. Field names are snake_case, as the API
 * shows them.
 */

/** What a comparison found. */
export type Verdict = 'worse' | 'better' | 'unchanged' | 'not_enough_data'

/**
 * What is compared bucket by bucket: the p99 of a distribution, the share of 5xx requests,
 * the request rate, the rate of a counter, or the average of a gauge.
 */
export type SignalKind = 'p99' | 'error_ratio' | 'throughput' | 'rate' | 'value'

/** Which way a change is bad; `any`: every significant change is flagged as worse. */
export type BadDirection = 'up' | 'down' | 'any'

/** What a deploy plan's `expect` entry said about a metric. */
export type Expected = 'up' | 'down' | 'none'

/** A time range `[from, to)`, epoch ms. */
export interface Range {
  from: number
  to: number
}

/** The windows compared: before the deploy's start, after its finish. */
export interface ImpactWindows {
  before: Range
  after: Range
}

/** How one signal is judged; the series it reads are kept apart (see `ResolvedSignal`). */
export interface SignalSpec {
  metric: string
  kind: SignalKind
  /** Short name for titles: `p99 latency`, `error ratio`, `p99 of x`, `rate of x`. */
  label: string
  bad: BadDirection
  /**
   * True for latency and error ratio, whose bad direction (up) holds whatever the plan says;
   * the plan's expectation then only adds a note.
   */
  intrinsic: boolean
  expected?: Expected | undefined
  /** `plan`: named by the deploy plan; `default`: recognised by name. */
  source: 'plan' | 'default'
  unit: string
}

/** The result of one signal. */
export interface MetricImpact {
  metric: string
  signal: SignalKind
  label: string
  unit: string
  source: 'plan' | 'default'
  verdict: Verdict
  /** Two-sided Mann-Whitney U p-value; null when no test was run. */
  p_value: number | null
  /** U of the before sample: pairs (before, after) where before is larger, ties counting half. */
  u_statistic: number | null
  median_before: number | null
  median_after: number | null
  mean_before: number | null
  mean_after: number | null
  /**
   * Relative change of the medians, (after − before) / |before|; of the means when both
   * medians are 0 (mostly-zero series such as error ratios). Null when the base is 0 and
   * the other side is not (a rise from nothing has no ratio), or when there is no data.
   */
  relative_change: number | null
  /**
   * Rank-biserial correlation, −1..1: the share of (before, after) pairs where after is
   * larger minus the share where it is smaller. 1: every after bucket above every before bucket.
   */
  rank_biserial: number | null
  /** Buckets with a value on each side. */
  samples_before: number
  samples_after: number
  bad_direction: BadDirection
  expected: Expected | null
  /** Why the verdict is what it is when that is not obvious, and where it departs from the plan; '' when nothing to add. */
  note: string
}

/** The thresholds the verdicts used, kept with every report so old reports stay readable. */
export interface ImpactThresholds {
  p_value: number
  min_relative_change: number
  min_buckets: number
}

/** A deploy's impact analysis. */
export interface ImpactReport {
  deploy_id: string
  service: string
  environment: string
  version: string
  /** True while the window after the deploy has not passed: computed over the data so far, not stored. */
  provisional: boolean
  /** When it was computed, ISO 8601. */
  analysed_at: string
  window: { before: { from: string; to: string }; after: { from: string; to: string } }
  bucket_seconds: number
  thresholds: ImpactThresholds
  /**
   * The deploy's verdict in one word: `worse` when any metric is, else `better` when any is,
   * else `unchanged` when any is, else `not_enough_data` (see `overallVerdict`).
   */
  verdict: Verdict
  /** The one-line summary, also the title of the stored event. */
  summary: string
  metrics: MetricImpact[]
  /** What to do about what got worse, e.g. the plan's contingency knobs. */
  hints: string[]
}
