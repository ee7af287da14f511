import type { ClickHouseClient } from '@clickhouse/client'
import type { Labels, RawSeries } from '../promql/querier.ts'

/**
 * The change log as a PromQL series: `governor_change{service, kind, version, actor, title,
 * environment}` is 1 at the time of each event, so one Grafana annotation query
 * (`max_over_time(governor_change[$__interval])`) marks every deploy and knob change on every
 * panel. Events of the same labels make one series with a point per event.
 */
export const CHANGE_METRIC = 'governor_change'

/** The labels of the change series, `__name__` aside. */
export const CHANGE_LABELS = ['service', 'kind', 'version', 'actor', 'title', 'environment'] as const

/** The events in `[start, end]` (epoch ms) grouped into series; at most `maxEvents` events are read. */
export async function readChangeSeries(
  client: ClickHouseClient,
  db: string,
  start: number,
  end: number,
  maxEvents: number,
  signal?: AbortSignal,
): Promise<RawSeries[]> {
  const rs = await client.query({
    query: `SELECT ${CHANGE_LABELS.join(', ')}, toUnixTimestamp64Milli(time) AS t
FROM ${db}.events FINAL
WHERE time >= fromUnixTimestamp64Milli({start:Int64}, 'UTC') AND time <= fromUnixTimestamp64Milli({end:Int64}, 'UTC')
ORDER BY t LIMIT {limit:UInt64}`,
    query_params: { start, end, limit: maxEvents },
    format: 'JSONCompactEachRow',
    ...(signal === undefined ? {} : { abort_signal: signal }),
  })
  const rows = await rs.json<[string, string, string, string, string, string, string]>()
  const bySeries = new Map<string, { labels: Labels; ts: number[] }>()
  for (const row of rows) {
    const labels: Record<string, string> = { __name__: CHANGE_METRIC }
    CHANGE_LABELS.forEach((name, i) => {
      if (row[i] !== '') labels[name] = row[i]!
    })
    const key = JSON.stringify(row.slice(0, CHANGE_LABELS.length))
    let s = bySeries.get(key)
    if (s === undefined) bySeries.set(key, (s = { labels, ts: [] }))
    const t = Number(row[CHANGE_LABELS.length])
    if (s.ts[s.ts.length - 1] !== t) s.ts.push(t)
  }
  return [...bySeries.values()].map((s) => ({
    labels: s.labels,
    ts: Float64Array.from(s.ts),
    values: new Float64Array(s.ts.length).fill(1),
  }))
}
