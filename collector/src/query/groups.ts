import type { ChangeEvent } from '../changelog/types.ts'
import type { Attributes } from '../model/types.ts'
import type { PointRows, SeriesRow } from '../store/queries.ts'

/** Index range [begin, end) of one series' rows (rows are ordered by series, then time). */
export interface Slice {
  begin: number
  end: number
}

/** Each series' index range in `rows` (rows are ordered by series, then time). */
export function sliceBySeries(rows: PointRows): Map<string, Slice> {
  const out = new Map<string, Slice>()
  let begin = 0
  for (let i = 1; i <= rows.seriesId.length; i++) {
    if (i === rows.seriesId.length || rows.seriesId[i] !== rows.seriesId[begin]) {
      out.set(rows.seriesId[begin]!, { begin, end: i })
      begin = i
    }
  }
  return out
}

/** A run of one series' points that belongs to one group. */
export interface Part {
  series: SeriesRow
  slice: Slice
  deploy: ChangeEvent | undefined
}

export interface Group {
  labels: Attributes
  parts: Part[]
}

/** The `by` name that groups points by the deploy live for their service at their time. */
export const BY_DEPLOY = 'deploy'

/** The attribute a `match` or `by` names: point attributes first, then resource, then `service`. */
export function attr(s: SeriesRow, key: string): string | undefined {
  return s.attributes[key] ?? s.resource[key] ?? (key === 'service' ? s.service : undefined)
}

export function labelsOf(s: SeriesRow): Attributes {
  return { ...s.resource, ...s.attributes }
}

/**
 * Splits a series' points by deploy. A series that carries `service.version` (as OTel SDKs
 * set it) belongs whole to the deploy of that version, so a deploy recorded a little after
 * its first points still lines up. Otherwise points from a deploy's start until the next
 * deploy's start belong to it; points before the first deploy belong to none.
 *
 *   deploys:   d1 ─────────── d2 ──────────
 *   points:  · · │ · · · · · · │ · · · · ·
 *   parts:  none │     d1       │    d2
 */
export function splitByDeploy(
  series: SeriesRow,
  slice: Slice,
  ts: readonly number[],
  deploys: readonly ChangeEvent[],
): Part[] {
  const version = series.resource['service.version']
  if (version !== undefined) {
    const match = deploys.filter((d) => d.version === version).at(-1)
    if (match !== undefined) return [{ series, slice, deploy: match }]
  }
  const parts: Part[] = []
  let begin = slice.begin
  let current: ChangeEvent | undefined
  let next = 0
  while (next < deploys.length && deploys[next]!.time <= ts[begin]!) current = deploys[next++]
  for (let i = slice.begin; i < slice.end; i++) {
    if (next < deploys.length && ts[i]! >= deploys[next]!.time) {
      if (i > begin) parts.push({ series, slice: { begin, end: i }, deploy: current })
      while (next < deploys.length && deploys[next]!.time <= ts[i]!) current = deploys[next++]
      begin = i
    }
  }
  parts.push({ series, slice: { begin, end: slice.end }, deploy: current })
  return parts
}

/**
 * Groups parts: without `by` each series is its own group; with it, parts that share the
 * named attributes (and, for `deploy`, the same deploy) form one.
 */
export function groupParts(parts: Part[], by: string[] | undefined): Group[] {
  if (by === undefined) return parts.map((p) => ({ labels: labelsOf(p.series), parts: [p] }))
  const groups = new Map<string, Group>()
  for (const p of parts) {
    const labels: Attributes = {}
    for (const k of by) {
      if (k === BY_DEPLOY) {
        labels.deploy = p.deploy?.version ?? ''
        labels.deploy_id = p.deploy?.id ?? ''
      } else {
        labels[k] = attr(p.series, k) ?? ''
      }
    }
    const key = JSON.stringify(Object.values(labels))
    let g = groups.get(key)
    if (g === undefined) groups.set(key, (g = { labels, parts: [] }))
    g.parts.push(p)
  }
  return [...groups.values()]
}
