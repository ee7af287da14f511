import { GovernorError } from '../errors.ts'
import { unitMistake } from '../util/time-units.ts'

/** `GET /api/v1/query` parameters after validation. */
export interface QueryParams {
  metric: string
  service: string | undefined
  /** `attr=value` filters; a series matches when its point or resource attribute has that value. */
  match: [string, string][]
  from: number
  to: number
  /** Step in milliseconds; undefined for raw points. */
  stepMs: number | undefined
  agg: string | undefined
  by: string[] | undefined
}

export type RawQuery = Record<string, string | string[] | undefined>

/** Most buckets one query may return (as Prometheus limits a range query). */
export const MAX_BUCKETS = 11_000
const HOUR_MS = 3_600_000
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: HOUR_MS, d: 24 * HOUR_MS, w: 7 * 24 * HOUR_MS }

/** Validates the query string; every error names the parameter and the value received. */
export function parseQueryParams(q: RawQuery, now: number): QueryParams {
  const metric = single(q, 'metric')
  if (metric === undefined || metric === '') throw bad('metric is required')
  const to = q.to === undefined ? now : parseTime('to', single(q, 'to')!, now)
  const from = q.from === undefined ? to - HOUR_MS : parseTime('from', single(q, 'from')!, now)
  if (!(from < to)) throw bad(`from (${from}) must be before to (${to})`)
  const stepRaw = single(q, 'step')
  const stepMs = stepRaw === undefined || stepRaw === '' ? undefined : parseStep(stepRaw)
  if (stepMs !== undefined && (to - from) / stepMs > MAX_BUCKETS) {
    throw bad(
      `step=${stepRaw} makes ${Math.ceil((to - from) / stepMs)} buckets over the range; the most is ${MAX_BUCKETS}: use a larger step`,
    )
  }
  const aggRaw = single(q, 'agg')
  const agg = aggRaw === undefined || aggRaw === '' ? undefined : aggRaw
  if (agg !== undefined && agg !== 'raw' && stepMs === undefined)
    throw bad(`agg=${agg} needs a step (seconds), e.g. step=60`)
  const byRaw = single(q, 'by')
  const by =
    byRaw === undefined || byRaw === ''
      ? undefined
      : byRaw
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '')
  if (by !== undefined && stepMs === undefined) throw bad('by needs a step (seconds): groups are aggregated per step')
  const service = single(q, 'service')
  return {
    metric,
    service: service === '' ? undefined : service,
    match: parseMatch(q.match),
    from,
    to,
    stepMs,
    agg,
    by,
  }
}

function single(q: RawQuery, name: string): string | undefined {
  const v = q[name]
  if (Array.isArray(v)) {
    if (v.length > 1) throw bad(`${name} was given ${v.length} times; give it once`)
    return v[0]
  }
  return v
}

function parseMatch(v: string | string[] | undefined): [string, string][] {
  if (v === undefined) return []
  return (Array.isArray(v) ? v : [v]).map((m) => {
    const eq = m.indexOf('=')
    if (eq <= 0) throw bad(`match=${JSON.stringify(m)}: expected attribute=value`)
    return [m.slice(0, eq), m.slice(eq + 1)]
  })
}

/** Epoch milliseconds, ISO 8601, `now`, or `now-<n><unit>` (units ms, s, m, h, d, w). */
export function parseTime(name: string, v: string, now: number): number {
  const s = v.trim()
  if (/^\d+$/.test(s)) {
    const mistake = unitMistake(name, Number(s))
    if (mistake !== undefined) throw bad(mistake)
    return Number(s)
  }
  const rel = /^now(?:-(\d+(?:\.\d+)?)(ms|s|m|h|d|w))?$/.exec(s)
  if (rel !== null) return rel[1] === undefined ? now : now - Math.round(Number(rel[1]) * UNIT_MS[rel[2]!]!)
  const t = Date.parse(s)
  if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}/.test(s))
    throw bad(`${name}=${JSON.stringify(v)}: expected epoch milliseconds, ISO 8601, or now-<n><unit>`)
  return t
}

/** Seconds (`60`, `0.5`) or a duration (`30s`, `5m`, `1h`), in milliseconds. */
export function parseStep(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)?$/.exec(v.trim())
  const ms = m === null ? NaN : Math.round(Number(m[1]) * UNIT_MS[m[2] ?? 's']!)
  if (!(ms >= 1))
    throw bad(`step=${JSON.stringify(v)}: expected a positive number of seconds or a duration such as 30s, 5m, 1h`)
  return ms
}

function bad(message: string): GovernorError {
  return new GovernorError('GOV_ERR_QUERY_PARAM', message)
}
