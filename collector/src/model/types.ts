/** The five OTLP metric data types, as stored in the `series.type` column. */
export type MetricType = 'gauge' | 'sum' | 'histogram' | 'exponential_histogram' | 'summary'

/** Aggregation temporality of sums and histograms; gauges and summaries are `unspecified`. */
export type Temporality = 'unspecified' | 'delta' | 'cumulative'

/** Attribute values flattened to strings: arrays and maps become their JSON text. */
export type Attributes = Record<string, string>

/**
 * Everything that describes one series. Identity is the metric name plus the resource and
 * point attributes (see `seriesKey`); the other fields are metadata kept with the series.
 */
export interface SeriesInfo {
  /** 64-bit id derived from the series key; stored as UInt64. */
  id: bigint
  metric: string
  type: MetricType
  temporality: Temporality
  monotonic: boolean
  unit: string
  description: string
  /** `service.name` of the resource, or `unknown_service` as the OTel SDKs default to. */
  service: string
  /** Instrumentation scope name. */
  scope: string
  resource: Attributes
  attributes: Attributes
  /**
   * Hot-path memos kept on the series itself (a property read instead of a bigint-keyed set
   * or a WeakMap lookup per point): set once its row is in the store, and its id as the
   * prepared TSV prefix of its rows.
   */
  rowStored?: boolean
  tsvPrefix?: Buffer
}
