import { arrayOf, BOOLEAN, exactly, MEASURED, NULLABLE_STRING, NUMBER, STRING, STRINGS, TIME } from './schema.ts'

/**
 * `GET /api/v1/deploys/{id}/impact` (collector/src/api/impact.ts): a deploy's impact analysis,
 * before against after, per watched metric (see collector/src/impact/types.ts for how each
 * field is computed).
 */

export type VerdictJson = 'worse' | 'better' | 'unchanged' | 'not_enough_data'

/** What one metric's comparison found; statistics are null when no test could run. */
export interface MetricImpactJson {
  metric: string
  signal: 'p99' | 'error_ratio' | 'throughput' | 'rate' | 'value'
  label: string
  unit: string
  source: 'plan' | 'default'
  verdict: VerdictJson
  p_value: number | null
  u_statistic: number | null
  median_before: number | null
  median_after: number | null
  mean_before: number | null
  mean_after: number | null
  relative_change: number | null
  rank_biserial: number | null
  samples_before: number
  samples_after: number
  bad_direction: 'up' | 'down' | 'any'
  expected: 'up' | 'down' | 'none' | null
  note: string
}

export interface ImpactJson {
  deploy_id: string
  service: string
  environment: string
  version: string
  /** Computed over the data so far, before the window after the deploy has passed; not stored. */
  provisional: boolean
  analysed_at: string
  window: { before: { from: string; to: string }; after: { from: string; to: string } }
  bucket_seconds: number
  thresholds: { p_value: number; min_relative_change: number; min_buckets: number }
  verdict: VerdictJson
  summary: string
  metrics: MetricImpactJson[]
  hints: string[]
  /** Id of the stored `analysis` event; null for a provisional analysis. */
  analysis_id: string | null
}

const VERDICT = { type: 'string', enum: ['worse', 'better', 'unchanged', 'not_enough_data'] } as const
const RANGE = exactly({ from: TIME, to: TIME })

export const METRIC_IMPACT_JSON_SCHEMA = exactly({
  metric: STRING,
  signal: { type: 'string', enum: ['p99', 'error_ratio', 'throughput', 'rate', 'value'] },
  label: STRING,
  unit: STRING,
  source: { type: 'string', enum: ['plan', 'default'] },
  verdict: VERDICT,
  p_value: MEASURED,
  u_statistic: MEASURED,
  median_before: MEASURED,
  median_after: MEASURED,
  mean_before: MEASURED,
  mean_after: MEASURED,
  relative_change: MEASURED,
  rank_biserial: MEASURED,
  samples_before: NUMBER,
  samples_after: NUMBER,
  bad_direction: { type: 'string', enum: ['up', 'down', 'any'] },
  expected: { type: ['string', 'null'], enum: ['up', 'down', 'none', null] },
  note: STRING,
} satisfies Record<keyof MetricImpactJson, object>)

export const IMPACT_JSON_SCHEMA = exactly({
  deploy_id: STRING,
  service: STRING,
  environment: STRING,
  version: STRING,
  provisional: BOOLEAN,
  analysed_at: TIME,
  window: exactly({ before: RANGE, after: RANGE }),
  bucket_seconds: NUMBER,
  thresholds: exactly({ p_value: NUMBER, min_relative_change: NUMBER, min_buckets: NUMBER }),
  verdict: VERDICT,
  summary: STRING,
  metrics: arrayOf(METRIC_IMPACT_JSON_SCHEMA),
  hints: STRINGS,
  analysis_id: NULLABLE_STRING,
} satisfies Record<keyof ImpactJson, object>)
