import type { Attributes, MetricType, Temporality } from '../model/types.ts'
import type { MetricMetadata } from './prometheus-metadata.ts'

/** A series row as the query API needs it. */
export interface SeriesRow {
  id: string
  type: MetricType
  temporality: Temporality
  monotonic: boolean
  unit: string
  description: string
  service: string
  resource: Attributes
  attributes: Attributes
}

/** One metric as the services API lists it. */
export interface MetricSummary {
  name: string
  type: MetricType
  unit: string
  description: string
  /** Every service that sends the metric, sorted. */
  services: string[]
  /** How many distinct series the metric has. */
  series: number
}

/** Raw points of one table, column by column, ordered by series then time. */
export interface PointRows {
  seriesId: string[]
  ts: number[]
  start: number[]
  /**
   * Table-specific columns, by name, in the order asked. Values are as JSON carries them: a
   * float may be "nan" or "inf" and a 64-bit integer a string, so read them with `toNumber`.
   */
  columns: Record<string, unknown[]>
}

/**
 * The read side of the series and point tables, as the query API, deploy impact and the
 * controllers' observers use it. `ClickHouseStoreQueries` reads the store;
 * `MemoryStoreQueries` holds rows in memory for tests and embedders. Both answer alike
 * (test/collector/store/store-queries.test.ts holds them to one contract).
 */
export interface StoreQueries {
  /** Every metric, sorted by name. */
  metrics(): Promise<MetricSummary[]>
  /** The type every metric was first stored with (the type of its first-seen series). */
  metricTypes(): Promise<[string, MetricType][]>
  /** `/api/v1/metadata` of the Prometheus API: every metric family by its Prometheus name, or the one named `metric`. */
  metadata(metric: string | undefined, limit: number): Promise<Record<string, MetricMetadata[]>>
  /** Whether any series of `service` is stored. */
  hasService(service: string): Promise<boolean>
  /** Every series of a metric, optionally of one service, ordered by id; a series rewritten reads as its latest row. */
  series(metric: string, service?: string): Promise<SeriesRow[]>
  /**
   * Raw points of `table` for the given series in [from, to), at most `limit` + 1 rows (so the
   * caller can tell that the limit was passed). Points flagged "no recorded value" (OTLP's
   * staleness marker) are left out.
   */
  points(
    table: string,
    columns: readonly string[],
    ids: readonly string[],
    from: number,
    to: number,
    limit: number,
  ): Promise<PointRows>
}

/** A float read back from JSON: a number, or "nan"/"inf"/"-inf", or a 64-bit integer string. */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v
  if (v === 'nan' || v === '-nan') return NaN
  if (v === 'inf' || v === '+inf') return Infinity
  if (v === '-inf') return -Infinity
  return Number(v)
}
