import type { ClickHouseClient } from '@clickhouse/client'
import type { MetricType } from '../model/types.ts'
import { familyMetadata, type MetricDescription } from './family-metadata.ts'
import type { FamilyMetadata, MetricMetadata } from './prometheus-metadata.ts'
import type { MetricSummary, PointRows, SeriesRow, StoreQueries } from './queries.ts'

// Non-finite floats come back as "nan"/"inf" strings, 64-bit integers as strings.
const READ_SETTINGS = { output_format_json_quote_denormals: 1, output_format_json_quote_64bit_integers: 1 } as const

type DescriptionRow = [string, string, string, boolean | number, string, string, string, Record<string, string>]

/** `StoreQueries` over the store's tables. Every value is bound as a query parameter. */
export class ClickHouseStoreQueries implements StoreQueries {
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

  async metricTypes(): Promise<[string, MetricType][]> {
    const rs = await this.#client.query({
      query: `SELECT metric, argMin(type, first_seen) FROM ${this.#db}.series GROUP BY metric`,
      format: 'JSONCompactEachRow',
    })
    return rs.json<[string, MetricType]>()
  }

  async metadata(metric: string | undefined, limit: number): Promise<Record<string, MetricMetadata[]>> {
    const described = await this.#client.query({
      query: `SELECT metric, any(type), any(temporality), any(monotonic), any(unit), any(description), any(scope), any(resource)
FROM ${this.#db}.series GROUP BY metric ORDER BY metric`,
      format: 'JSONCompactEachRow',
    })
    const metrics = (await described.json<DescriptionRow>()).map(
      ([name, type, temporality, monotonic, unit, description, scope, resource]): MetricDescription => ({
        metric: name,
        type,
        temporality,
        monotonic: monotonic === true || monotonic === 1,
        unit,
        description,
        scope,
        resource,
      }),
    )
    const stated = await this.#client.query({
      query: `SELECT family, type, help, unit FROM ${this.#db}.metric_metadata FINAL ORDER BY family`,
      format: 'JSONEachRow',
    })
    return familyMetadata(metrics, await stated.json<FamilyMetadata>(), metric, limit)
  }

  async hasService(service: string): Promise<boolean> {
    const rs = await this.#client.query({
      query: `SELECT 1 FROM ${this.#db}.series WHERE service = {service:String} LIMIT 1`,
      query_params: { service },
      format: 'JSONCompactEachRow',
    })
    return (await rs.json<[number]>()).length > 0
  }

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
