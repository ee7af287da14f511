import type { ClickHouseClient } from '@clickhouse/client'
import type { LabelMatcher, Labels } from '../promql/querier.ts'
import { attributeCondition, compileMatchers, matcherPredicate, sqlString, type Predicate } from './label-matchers.ts'
import {
  exposedFamilies,
  isPrometheusNative,
  nameStems,
  PART_SUFFIXES,
  sanitizeLabelName,
  type ExposedFamily,
  type StoredSeries,
} from './prometheus-names.ts'

/**
 * The first stage of every PromQL read: which stored series, and which of their parts, a list
 * of matchers selects. A SQL condition on the series table cuts the rows (a superset of the
 * answer: names and labels are mapped in JS, see prometheus-names.ts), then every matcher is
 * checked on the mapped labels. Matchers on `le` and `quantile` are kept for later: those
 * labels are known only once the bounds are read.
 */
export interface Selection {
  readonly families: ExposedFamily[]
  /** Matchers on a family's key label (`le`, `quantile`), checked per key. */
  readonly keyMatchers: readonly { name: string; test: Predicate }[]
}

/** Times at or past these (epoch ms) are open bounds: Prometheus' MinTime and MaxTime. */
const MIN_OPEN = -9_223_372_036_854
const MAX_OPEN = 9_223_372_036_854

/** Normalized name of a stored metric in SQL: its letter-and-digit runs joined by `_`. */
const TOKENS = "extractAll(metric, '[\\\\p{L}\\\\p{N}]+')"
const NORMALIZED = `arrayStringConcat(${TOKENS}, '_')`
const NORMALIZED_NO_TOTAL = `arrayStringConcat(arrayFilter(t -> t != 'total', ${TOKENS}), '_')`

/**
 * A SQL condition the stored rows of series exposed as `name` satisfy. The normalized forms
 * cost a regular expression per row, so they are tried only on rows whose metric holds the
 * name's first letter-and-digit run: every run of a normalized form is a run of the metric,
 * and every stem the name could come from starts with that run.
 */
export function nameCondition(name: string): string {
  const own = [name, ...PART_SUFFIXES.filter((s) => name.endsWith(s)).map((s) => name.slice(0, -s.length))]
  const stems = nameStems(name).map(sqlString).join(', ')
  const first = /[\p{L}\p{N}]+/u.exec(name)?.[0]
  const normalized =
    first === undefined
      ? ''
      : ` OR (position(metric, ${sqlString(first)}) > 0 AND (${NORMALIZED} IN (${stems}) OR ${NORMALIZED_NO_TOTAL} IN (${stems})))`
  return `(metric IN (${own.map(sqlString).join(', ')})${normalized})`
}

/** The WHERE clause of the series table for one matcher list ('1' when nothing can be pushed down). */
export function seriesCondition(matchers: readonly LabelMatcher[]): string {
  const parts: string[] = []
  for (const m of matchers) {
    if (m.name === '__name__' && m.type === '=') parts.push(nameCondition(m.value))
    else {
      const c = attributeCondition(m)
      if (c !== undefined) parts.push(c)
    }
  }
  return parts.length === 0 ? '1' : parts.join(' AND ')
}

/** Whether the family's labels satisfy the matchers; a positive name matcher may match its own name. */
function familyMatches(f: ExposedFamily, matchers: readonly (LabelMatcher & { test: Predicate })[]): boolean {
  for (const m of matchers) {
    if (m.name === f.keyLabel) continue
    // A quoted OTel label name (`"http.route"`) finds the label it is exposed as (`http_route`).
    const value =
      f.labels[m.name] ?? (!isPrometheusNative(f.series) ? f.labels[sanitizeLabelName(m.name)] : undefined) ?? ''
    if (m.test(value)) continue
    if (m.name === '__name__' && (m.type === '=' || m.type === '=~') && m.test(f.ownName)) continue
    return false
  }
  return true
}

type SeriesRow = [
  string,
  string,
  string,
  string,
  boolean | number,
  string,
  string,
  string,
  Record<string, string>,
  Record<string, string>,
]

/**
 * Reads the series table rows that `matchers` could select (at most `maxRows`, else
 * `tooMany` is thrown) and returns the matching families. `activeIn` restricts to series with
 * points in `[start, end]`.
 */
export async function selectFamilies(
  client: ClickHouseClient,
  db: string,
  matchers: readonly LabelMatcher[],
  opts: { maxRows: number; tooMany: () => Error; activeIn?: { start: number; end: number }; signal?: AbortSignal },
): Promise<Selection> {
  const compiled = compileMatchers(matchers).map((c, i) => ({ ...matchers[i]!, test: c.test }))
  let where = seriesCondition(matchers)
  // With no bounds (Prometheus' default of series and labels), every stored series is active.
  if (opts.activeIn !== undefined && (opts.activeIn.start > MIN_OPEN || opts.activeIn.end < MAX_OPEN)) {
    const { start, end } = opts.activeIn
    const tables = ['samples', 'histograms', 'exp_histograms', 'summaries']
    where += ` AND series_id IN (${tables.map((t) => `SELECT series_id FROM ${db}.${t} WHERE ts >= ${Math.floor(start)} AND ts <= ${Math.floor(end)}`).join(' UNION ALL ')})`
  }
  const rs = await client.query({
    query: `SELECT metric, toString(series_id), type, temporality, monotonic, unit, service, scope, resource, attributes
FROM ${db}.series WHERE ${where} LIMIT 1 BY series_id LIMIT ${opts.maxRows + 1}`,
    format: 'JSONCompactEachRow',
    ...(opts.signal === undefined ? {} : { abort_signal: opts.signal }),
  })
  const rows = await rs.json<SeriesRow>()
  if (rows.length > opts.maxRows) throw opts.tooMany()
  const families: ExposedFamily[] = []
  for (const r of rows) {
    const stored: StoredSeries = {
      metric: r[0],
      id: BigInt(r[1]),
      type: r[2],
      temporality: r[3],
      monotonic: r[4] === true || r[4] === 1,
      unit: r[5],
      service: r[6],
      scope: r[7],
      resource: r[8],
      attributes: r[9],
    }
    for (const f of exposedFamilies(stored)) if (familyMatches(f, compiled)) families.push(f)
  }
  const keyMatchers = matchers
    .filter((m) => m.name === 'le' || m.name === 'quantile')
    .map((m) => ({ name: m.name, test: matcherPredicate(m) }))
  return { families, keyMatchers }
}

/** The labels of a family's series at one key (`le`/`quantile` value), or its labels when it has none. */
export function keyedLabels(f: ExposedFamily, key: string | undefined): Labels {
  return f.keyLabel === undefined || key === undefined ? f.labels : { ...f.labels, [f.keyLabel]: key }
}

/** Whether a family's series at `key` passes the key matchers (and, unkeyed, the ones that then see ''). */
export function keyMatches(f: ExposedFamily, key: string | undefined, keyMatchers: Selection['keyMatchers']): boolean {
  for (const m of keyMatchers) {
    const value = m.name === f.keyLabel ? (key ?? '') : (f.labels[m.name] ?? '')
    if (!m.test(value)) return false
  }
  return true
}
