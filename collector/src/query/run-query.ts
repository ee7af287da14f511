import { eventJson, type ChangeLog } from '../changelog/change-log.ts'
import type { ChangeEvent } from '../changelog/types.ts'
import { GovernorError } from '../errors.ts'
import type { Attributes, MetricType } from '../model/types.ts'
import { toNumber, type PointRows, type StoreQueries } from '../store/queries.ts'
import { alignDown, parseAgg } from './eval/index.ts'
import { evaluateGroup } from './evaluate-group.ts'
import { attr, BY_DEPLOY, groupParts, labelsOf, sliceBySeries, splitByDeploy, type Part, type Slice } from './groups.ts'
import type { QueryParams } from './params.ts'

/** One point of the response: `[ts_ms, value]`, or `[ts_ms, count, sum]` for raw histograms and summaries. */
export type OutPoint = [number, number] | [number, number, number]

export interface QueryResponse {
  metric: { name: string; type: MetricType; unit: string }
  series: { labels: Attributes; points: OutPoint[] }[]
  annotations: Record<string, unknown>[]
}

/** Where each metric type's points live, and the columns a query reads. */
export const TABLE_OF: Record<MetricType, { table: string; columns: readonly string[] }> = {
  gauge: { table: 'samples', columns: ['value'] },
  sum: { table: 'samples', columns: ['value'] },
  histogram: { table: 'histograms', columns: ['count', 'sum', 'bounds', 'counts'] },
  exponential_histogram: {
    table: 'exp_histograms',
    columns: [
      'count',
      'sum',
      'scale',
      'zero_count',
      'zero_threshold',
      'positive_offset',
      'positive_counts',
      'negative_offset',
      'negative_counts',
    ],
  },
  summary: { table: 'summaries', columns: ['count', 'sum', 'quantiles', 'values'] },
}

/** Runs `GET /api/v1/query`: selects the series, reads their points, returns raw or aggregated. */
export async function runQuery(
  queries: StoreQueries,
  changeLog: ChangeLog,
  p: QueryParams,
  maxPoints: number,
): Promise<QueryResponse> {
  const all = await queries.series(p.metric)
  if (all.length === 0)
    throw new GovernorError(
      'GOV_ERR_QUERY_UNKNOWN_METRIC',
      `no metric named ${JSON.stringify(p.metric)} has been stored; GET /api/v1/metrics lists the names`,
    )
  const first = all[0]!
  const selected = all.filter(
    (s) => (p.service === undefined || s.service === p.service) && p.match.every(([k, v]) => attr(s, k) === v),
  )
  const response: QueryResponse = {
    metric: { name: p.metric, type: first.type, unit: first.unit },
    series: [],
    annotations: [],
  }
  if (selected.length === 0) return response
  // The changes of the services on this page, and the last deploy before it.
  const services = [...new Set(selected.map((s) => s.service))]
  response.annotations = (await changeLog.annotations(services, p.from, p.to)).map(eventJson)

  const stepMs = p.agg === 'raw' ? undefined : p.stepMs
  if (stepMs !== undefined) parseAgg(p.agg ?? 'avg') // a bad agg name fails before any read
  // Aggregates read whole buckets: every bucket gives the same value in every query.
  const readFrom = stepMs === undefined ? p.from : alignDown(p.from, stepMs)
  const readTo = stepMs === undefined ? p.to : alignDown(p.to - 1, stepMs) + stepMs
  const { table, columns } = TABLE_OF[first.type]
  const rows = await queries.points(
    table,
    columns,
    selected.map((s) => s.id),
    readFrom,
    readTo,
    maxPoints,
  )
  if (rows.ts.length > maxPoints) {
    throw new GovernorError(
      'GOV_ERR_QUERY_TOO_LARGE',
      `the query reads more than ${maxPoints} points (GOVERNOR_MAX_QUERY_POINTS); narrow the time range or select fewer series with service= or match=`,
    )
  }
  const slices = sliceBySeries(rows)

  if (stepMs === undefined) {
    for (const s of selected) {
      const slice = slices.get(s.id)
      if (slice !== undefined) response.series.push({ labels: labelsOf(s), points: rawPoints(first.type, rows, slice) })
    }
    return response
  }

  const deploys = new Map<string, ChangeEvent[]>()
  if (p.by?.includes(BY_DEPLOY)) {
    for (const d of await changeLog.deploysUntil(services, readTo))
      deploys.set(d.service, [...(deploys.get(d.service) ?? []), d])
  }
  const parts = selected.flatMap((s): Part[] => {
    const slice = slices.get(s.id)
    if (slice === undefined) return []
    return p.by?.includes(BY_DEPLOY)
      ? splitByDeploy(s, slice, rows.ts, deploys.get(s.service) ?? [])
      : [{ series: s, slice, deploy: undefined }]
  })
  for (const group of groupParts(parts, p.by)) {
    const points = evaluateGroup(first, rows, group.parts, { ...p, stepMs })
    if (points.length > 0) response.series.push({ labels: group.labels, points })
  }
  return response
}

function rawPoints(type: MetricType, rows: PointRows, { begin, end }: Slice): OutPoint[] {
  const out: OutPoint[] = []
  if (type === 'gauge' || type === 'sum') {
    const value = rows.columns.value!
    for (let i = begin; i < end; i++) out.push([rows.ts[i]!, toNumber(value[i])])
  } else {
    const count = rows.columns.count!,
      sum = rows.columns.sum!
    for (let i = begin; i < end; i++) out.push([rows.ts[i]!, toNumber(count[i]), toNumber(sum[i])])
  }
  return out
}
