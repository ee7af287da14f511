import type { ClickHouseClient } from '@clickhouse/client'
import { LOCAL_SUFFIX } from './cluster-ddl.ts'
import { sqlString } from './label-matchers.ts'

/** A metric whose stored series carry a guessed type that its metadata, come later, contradicts. */
export interface Retyping {
  metric: string
  /** The type the series were stored with, on a guess from the name. */
  from: 'sum' | 'gauge'
  /** The type the metadata declares. */
  to: 'sum' | 'gauge'
}

/** The series of one service that a re-typing changed. */
export interface RetypedSeries extends Retyping {
  service: string
  /** How many series of the metric and service were re-typed. */
  series: number
}

/**
 * Rows of the series table written on a guess: remote write gives every series an empty scope
 * and a resource of `service.name` alone, and a guess knows neither help nor unit. The table
 * has no column that says a type was guessed; a series whose type a sender stated (OTLP, or
 * metadata that came first) has a scope, another resource attribute, a description or a unit
 * nearly always, and its type is then left alone.
 */
const GUESSED_ROW = `scope = '' AND description = '' AND unit = '' AND mapKeys(resource) = ['service.name']`

/**
 * Re-types the stored series of each metric that still carry the guessed type `from` to
 * `to`, and says which were (by service). Gauge and sum points share the samples table, and a
 * series' id does not depend on its type, so the points stay where they are: only the series
 * rows change, in one mutation (waited for) of the table that stores them, on every replica
 * of every shard on a cluster. Every read (the query API, PromQL, the metadata endpoint) and
 * the types learned at the next start read the new type. A metric with no such series is
 * left out of the answer: another collector re-typed it, or its series were stated.
 */
export async function retypeSeries(
  client: ClickHouseClient,
  db: string,
  cluster: string,
  retypings: readonly Retyping[],
): Promise<RetypedSeries[]> {
  const wanted = retypings.filter((r) => r.from !== r.to)
  if (wanted.length === 0) return []
  const carryingGuess = `(${wanted.map((r) => `(metric = ${sqlString(r.metric)} AND type = ${sqlString(r.from)})`).join(' OR ')}) AND ${GUESSED_ROW}`
  const rs = await client.query({
    query: `SELECT metric, service, uniqExact(series_id) FROM ${db}.series WHERE ${carryingGuess} GROUP BY metric, service ORDER BY metric, service`,
    format: 'JSONCompactEachRow',
  })
  const found = await rs.json<[string, string, string | number]>()
  if (found.length === 0) return []
  const byMetric = new Map(wanted.map((r) => [r.metric, r]))
  const toSum = wanted.filter((r) => r.to === 'sum').map((r) => sqlString(r.metric))
  const isSum = toSum.length === 0 ? '0' : `metric IN (${toSum.join(', ')})`
  // Values are computed from the rows as they were: `isSum` reads no column it assigns.
  const table = cluster === '' ? `${db}.series` : `${db}.series${LOCAL_SUFFIX} ON CLUSTER ${cluster}`
  await client.command({
    query: `ALTER TABLE ${table}
UPDATE type = if(${isSum}, 'sum', 'gauge'), temporality = if(${isSum}, 'cumulative', 'unspecified'), monotonic = ${isSum}
WHERE ${carryingGuess}`,
    // 2: the statement returns once every replica applied the mutation (1 on a lone server).
    clickhouse_settings: { mutations_sync: '2' },
  })
  return found.map(([metric, service, n]) => {
    const r = byMetric.get(metric)!
    return { metric, service, from: r.from, to: r.to, series: Number(n) }
  })
}
