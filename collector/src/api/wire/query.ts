import type { EventJson } from './changes.ts'
import { EVENT_JSON_SCHEMA } from './changes.ts'
import { METRIC_NAME_JSON_SCHEMA, type MetricNameJson } from './metadata.ts'
import { arrayOf, exactly, LABELS, MEASURED } from './schema.ts'

/** `GET /api/v1/query` (collector/src/api/query.ts): points of one metric, raw or per step. */

export interface QuerySeriesJson {
  labels: Record<string, string>
  /** `[ts_ms, value]`, or `[ts_ms, count, sum]` for raw histograms and summaries. */
  points: number[][]
}

export interface QueryAnswerJson {
  metric: MetricNameJson
  series: QuerySeriesJson[]
  /** The service's change-log events over the range (deploys, knob changes…). */
  annotations: EventJson[]
}

export const QUERY_ANSWER_JSON_SCHEMA = exactly({
  metric: METRIC_NAME_JSON_SCHEMA,
  series: arrayOf(
    exactly({ labels: LABELS, points: arrayOf(arrayOf(MEASURED)) } satisfies Record<keyof QuerySeriesJson, object>),
  ),
  annotations: arrayOf(EVENT_JSON_SCHEMA),
} satisfies Record<keyof QueryAnswerJson, object>)
