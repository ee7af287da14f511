import type { ClickHouseClient } from '@clickhouse/client'
import { formatFloat } from '../promql/literals.ts'
import type { LabelMatcher, Labels } from '../promql/querier.ts'
import { formatKey, type ExposedFamily } from './prometheus-names.ts'
import { keyedLabels, keyMatches, selectFamilies } from './series-selection.ts'

/** One exemplar as the Prometheus API answers it: value as text, time in seconds. */
export interface ExemplarJson {
  readonly labels: Labels
  readonly value: string
  readonly timestamp: number
}

/** The exemplars of one exposed series, as `query_exemplars` answers them. */
export interface SeriesExemplars {
  readonly seriesLabels: Labels
  readonly exemplars: ExemplarJson[]
}

/** Options of `readExemplars`. */
export interface ExemplarReadOptions {
  /** Series a selector may match, past which the read is refused with `tooMany`. */
  readonly maxSeries: number
  readonly tooMany: () => Error
  readonly signal?: AbortSignal
}

/**
 * The exemplars stored in `[start, end]` (epoch ms, both ends closed) on the series that any
 * of the matcher lists selects, each series once, under its labels as PromQL names them
 * (series-selection.ts). Exemplars belong to the exposed series that reads their value: a
 * gauge's or counter's own series, and of a histogram the bucket whose bound is the first at
 * or above the value (the bounds of its latest point up to `end`), as Prometheus' OpenTelemetry
 * translation places them. Sums, counts and quantiles have none. An exemplar stored twice
 * (the same series, time, value and labels) is answered once.
 */
export async function readExemplars(
  client: ClickHouseClient,
  db: string,
  matcherSets: readonly (readonly LabelMatcher[])[],
  start: number,
  end: number,
  opts: ExemplarReadOptions,
): Promise<SeriesExemplars[]> {
  const bySeries = new Map<bigint, { family: ExposedFamily; keyMatchers: Parameters<typeof keyMatches>[2] }[]>()
  for (const matchers of matcherSets) {
    const sel = await selectFamilies(client, db, matchers, {
      maxRows: opts.maxSeries,
      tooMany: opts.tooMany,
      ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    })
    for (const f of sel.families) {
      if (f.part !== 'value' && f.part !== 'bucket') continue
      const list = bySeries.get(f.series.id) ?? []
      list.push({ family: f, keyMatchers: sel.keyMatchers })
      bySeries.set(f.series.id, list)
    }
  }
  if (bySeries.size === 0) return []
  const ids = [...bySeries.keys()].join(',')
  const lo = Math.floor(start)
  const hi = Math.floor(end)
  const rows = await json<[string, number, number, Record<string, string>]>(
    client,
    `SELECT DISTINCT toString(series_id) AS id, ts, value, labels FROM ${db}.exemplars
WHERE series_id IN (${ids}) AND ts >= ${lo} AND ts <= ${hi}
ORDER BY id, ts, value`,
    opts.signal,
  )
  const histograms = [...bySeries.values()].flat().some((e) => e.family.part === 'bucket')
  const bounds = new Map<string, number[]>()
  if (histograms) {
    const read = await json<[string, number[]]>(
      client,
      `SELECT toString(series_id), argMax(bounds, ts) FROM ${db}.histograms
WHERE series_id IN (${ids}) AND ts <= ${hi} GROUP BY series_id`,
      opts.signal,
    )
    for (const [id, b] of read) bounds.set(id, b.map(Number))
  }
  const out = new Map<string, SeriesExemplars>()
  for (const [id, ts, value, labels] of rows) {
    for (const { family, keyMatchers } of bySeries.get(BigInt(id)) ?? []) {
      const key = family.keyLabel === 'le' ? bucketOf(bounds.get(id) ?? [], Number(value)) : undefined
      if (!keyMatches(family, key, keyMatchers)) continue
      const seriesLabels = keyedLabels(family, key)
      const k = JSON.stringify(Object.entries(seriesLabels).sort(([a], [b]) => (a < b ? -1 : 1)))
      let entry = out.get(k)
      if (entry === undefined) out.set(k, (entry = { seriesLabels, exemplars: [] }))
      entry.exemplars.push({ labels, value: formatFloat(Number(value)), timestamp: Number(ts) / 1000 })
    }
  }
  return [...out.values()]
}

/** The `le` of the bucket a value falls in: the first bound at or above it, else +Inf. */
function bucketOf(bounds: readonly number[], value: number): string {
  for (const b of bounds) if (value <= b) return formatKey(b)
  return '+Inf'
}

async function json<T>(client: ClickHouseClient, query: string, signal: AbortSignal | undefined): Promise<T[]> {
  const rs = await client.query({
    query,
    format: 'JSONCompactEachRow',
    ...(signal === undefined ? {} : { abort_signal: signal }),
  })
  return rs.json<T>()
}
