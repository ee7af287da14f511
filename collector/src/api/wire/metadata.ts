import { arrayOf, exactly, LABELS, NUMBER, STRING, STRINGS } from './schema.ts'

/**
 * What is stored (collector/src/api/metadata.ts):
 *
 *   GET /api/v1/metrics          MetricListJson
 *   GET /api/v1/series?metric=   SeriesListJson
 */

export type MetricTypeJson = 'gauge' | 'sum' | 'histogram' | 'exponential_histogram' | 'summary'

export interface MetricJson {
  name: string
  type: MetricTypeJson
  unit: string
  description: string
  /** The services that sent it. */
  services: string[]
  /** How many series it has. */
  series: number
}

export interface MetricListJson {
  metrics: MetricJson[]
}

/** A metric as answers that read its points name it. */
export interface MetricNameJson {
  name: string
  type: MetricTypeJson
  unit: string
}

export interface SeriesJson {
  id: string
  service: string
  /** Resource and point attributes in one map (a point attribute wins). */
  labels: Record<string, string>
}

export interface SeriesListJson {
  metric: MetricNameJson
  series: SeriesJson[]
}

export const METRIC_TYPE = {
  type: 'string',
  enum: ['gauge', 'sum', 'histogram', 'exponential_histogram', 'summary'],
} as const

export const METRIC_JSON_SCHEMA = exactly({
  name: STRING,
  type: METRIC_TYPE,
  unit: STRING,
  description: STRING,
  services: STRINGS,
  series: NUMBER,
} satisfies Record<keyof MetricJson, object>)
export const METRIC_LIST_JSON_SCHEMA = exactly({ metrics: arrayOf(METRIC_JSON_SCHEMA) } satisfies Record<
  keyof MetricListJson,
  object
>)
export const METRIC_NAME_JSON_SCHEMA = exactly({ name: STRING, type: METRIC_TYPE, unit: STRING } satisfies Record<
  keyof MetricNameJson,
  object
>)
export const SERIES_LIST_JSON_SCHEMA = exactly({
  metric: METRIC_NAME_JSON_SCHEMA,
  series: arrayOf(exactly({ id: STRING, service: STRING, labels: LABELS } satisfies Record<keyof SeriesJson, object>)),
} satisfies Record<keyof SeriesListJson, object>)
