import type { ClickHouseClient } from '@clickhouse/client'
import type { Attributes, MetricType, Temporality } from '../model/types.ts'
import { readMetadata, type MetricMetadata } from './prometheus-metadata.ts'

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

export interface MetricSummary {
  name: string
  type: MetricType
  unit: string
  description: string
  services: string[]
  series: number
}

/** Raw points of one table, column by column, ordered by series then time. */
export interface PointRows {
  seriesId: string[]
  ts: number[]
  start: number[]
  /** Table-specific columns, by name, in the order of the SELECT. */
  columns: Record<string, unknown[]>
}

// Non-finite floats come back as "nan"/"inf" strings, 64-bit integers as strings.
const READ_SETTINGS = { output_format_json_quote_denormals: 1, output_format_json_quote_64bit_integers: 1 } as const

/** Read-side SQL over the store's tables. Every value is bound as a query parameter. */
export class StoreQueries {
  readonly #client: ClickHouseClient
  readonly #db: string

  constructor(client: ClickHouseClient, db: string) {
    this.#client = client
    this.#db = db
  }

  async metrics(): Promise<MetricSummary[]> {
    const rs = await this.#client.query({
      query: `SELECT metric AS name, any(type) AS type, any(unit) AS unit, any(description) AS description,
  arraySort(groupUniqArray(service)) AS services, uniqExact(series_id) AS series
FROM ${this.#db}.series GROUP BY metric ORDER BY metric`,
      format: 'JSONEachRow',
    })
    return (await rs.json<MetricSummary & { series: number | string }>()).map((m) => ({
      ...m,
      series: Number(m.series),
    }))
  }

  /** The type every metric was first stored with (the type of its first series). */
  async metricTypes(): Promise<[string, MetricType][]> {
    const rs = await this.#client.query({
      query: `SELECT metric, argMin(type, first_seen) FROM ${this.#db}.series GROUP BY metric`,
      format: 'JSONCompactEachRow',
    })
    return rs.json<[string, MetricType]>()
  }

  /** `/api/v1/metadata` of the Prometheus API: every metric family by its Prometheus name, or the one named `metric`. */
  metadata(metric: string | undefined, limit: number): Promise<Record<string, MetricMetadata[]>> {
    return readMetadata(this.#client, this.#db, metric, limit)
  }

  /** Whether any series of `service` is stored. */
  async hasService(service: string): Promise<boolean> {
    const rs = await this.#client.query({
      query: `SELECT 1 FROM ${this.#db}.series WHERE service = {service:String} LIMIT 1`,
      query_params: { service },
      format: 'JSONCompactEachRow',
    })
    return (await rs.json<[number]>()).length > 0
  }

  /** Every series of a metric, optionally of one service. */
  async series(metric: string, service?: string): Promise<SeriesRow[]> {
    const rs = await this.#client.query({
      query: `SELECT toString(series_id) AS id, type, temporality, monotonic, unit, description, service, resource, attributes
FROM ${this.#db}.series FINAL
WHERE metric = {metric:String}${service !== undefined ? ' AND service = {service:String}' : ''}
ORDER BY series_id`,
      query_params: service !== undefined ? { metric, service } : { metric },
      format: 'JSONEachRow',
    })
    return rs.json<SeriesRow>()
  }

  /**
   * Raw points of `table` for the given series in [from, to), at most `limit` + 1 rows (so the
   * caller can tell that the limit was passed). Points flagged "no recorded value" (OTLP's
   * staleness marker) are left out.
   */
  async points(
    table: string,
    columns: readonly string[],
    ids: readonly string[],
    from: number,
    to: number,
    limit: number,
  ): Promise<PointRows> {
    const rs = await this.#client.query({
      query: `SELECT toString(series_id), ts, start${columns.map((c) => `, ${c}`).join('')}
FROM ${this.#db}.${table}
WHERE series_id IN {ids:Array(UInt64)}
  AND ts >= {from:Int64} AND ts < {to:Int64}
  AND bitAnd(flags, 1) = 0
ORDER BY series_id, ts
LIMIT {limit:UInt64}`,
      query_params: { ids: ids.map(BigInt), from, to, limit: limit + 1 },
      clickhouse_settings: READ_SETTINGS,
      format: 'JSONCompactEachRow',
    })
    const out: PointRows = { seriesId: [], ts: [], start: [], columns: Object.fromEntries(columns.map((c) => [c, []])) }
    const cols = columns.map((c) => out.columns[c]!)
    for (const row of await rs.json<unknown[]>()) {
      out.seriesId.push(row[0] as string)
      out.ts.push(Number(row[1]))
      out.start.push(Number(row[2]))
      for (let i = 0; i < cols.length; i++) cols[i]!.push(row[i + 3])
    }
    return out
  }
}

/** A float read back from JSON: a number, or "nan"/"inf"/"-inf", or a 64-bit integer string. */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v
  if (v === 'nan' || v === '-nan') return NaN
  if (v === 'inf' || v === '+inf') return Infinity
  if (v === '-inf') return -Infinity
  return Number(v)
}
