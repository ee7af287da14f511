import { GovernorError } from '../errors.ts'
import { formatDuration, parseWindow } from './duration.ts'

/**
 * What an SLO measures (its SLI), as ops write it:
 *
 * - `latency`: observations of a histogram (`metric`) above `threshold_ms` are bad events;
 *   `percentile` is the percentile the SLI is shown at and a controller steers on.
 * - `error_ratio`: the increase of the series matching `errors` over the increase of all
 *   series of a counter (a monotonic sum) or of a histogram's count.
 * - `gauge_max`: samples of a gauge above `max` are bad events.
 *
 * Every kind takes an optional `filter` (see `AttributeFilter`): only the series it admits
 * count, e.g. `{"http.response.status_code": "!503"}` leaves out the fast 503s an app sheds,
 * which would otherwise count as good events of a latency SLI.
 */
export type SliSpec =
  | { type: 'latency'; metric: string; percentile: number; threshold_ms: number; filter?: AttributeFilter }
  | { type: 'error_ratio'; metric: string; errors: ErrorFilter; filter?: AttributeFilter }
  | { type: 'gauge_max'; metric: string; max: number; filter?: AttributeFilter }

/**
 * Which series an SLI reads: attribute → value or values, as in `ErrorFilter` (`5xx` matches
 * 500 to 599), and a value written `!v` leaves out the series whose attribute matches v.
 * Per attribute: a series passes when its value matches one of the plain values (if any are
 * given) and none of the `!` values (a series without the attribute passes those). Every
 * attribute named must pass. `{"http.response.status_code": ["!503", "!429"]}`: all but
 * the shed requests; `{"http.route": "/pay"}`: one route only.
 */
export type AttributeFilter = Record<string, string | string[]>

export type SliType = SliSpec['type']
export const SLI_TYPES: readonly SliType[] = ['latency', 'error_ratio', 'gauge_max']

/**
 * Which series count as errors: attribute → value, or any of several values. A value `Nxx`
 * (`5xx`, `4XX`) matches the HTTP statuses N00 to N99 and the literal text; others match exactly.
 * Every attribute named must match (point attributes first, then resource attributes).
 */
export type ErrorFilter = Record<string, string | string[]>

/** An SLO as stored: the SLI, the objective (a percentage, 99.9) and the window (`30d`). */
export interface SloDefinition {
  sli: SliSpec
  /** Percentage of good events the SLO promises, strictly between 0 and 100. */
  objective: number
  /** The rolling window the objective holds over, as written (`30d`). */
  window: string
  description: string
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/
const MAX_METRIC = 512
const MAX_TEXT = 4096
/** The shortest and longest SLO window: burn rates need at least an hour to scale into. */
export const MIN_WINDOW_MILLIS = 3_600_000
export const MAX_WINDOW_MILLIS = 90 * 86_400_000

const FIELDS: Record<SliType, readonly string[]> = {
  latency: ['type', 'metric', 'percentile', 'threshold_ms', 'filter'],
  error_ratio: ['type', 'metric', 'errors', 'filter'],
  gauge_max: ['type', 'metric', 'max', 'filter'],
}
const TOP_FIELDS = ['sli', 'objective', 'window', 'description', 'actor', 'reason']

/** Checks a service or SLO name; throws GOV_ERR_SLO_INVALID. */
export function checkSloName(v: string, what: string): void {
  if (!NAME.test(v))
    throw invalid([`${what} ${JSON.stringify(v)}: use letters, digits, '.', '_' and '-' (at most 128)`])
}

/**
 * Reads an SLO from a request body or a file entry; throws GOV_ERR_SLO_INVALID naming every
 * problem. `actor` and `reason` are the caller's to check (they are not part of the definition).
 */
export function parseSlo(body: unknown): SloDefinition {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw invalid(['the body must be a JSON object'])
  const b = body as Record<string, unknown>
  const problems: string[] = []
  for (const k of Object.keys(b))
    if (!TOP_FIELDS.includes(k)) problems.push(`unknown field ${k} (fields: ${TOP_FIELDS.join(', ')})`)
  const sli = parseSli(b.sli, problems)
  let objective = 0
  if (typeof b.objective !== 'number' || !Number.isFinite(b.objective)) {
    problems.push(`objective must be a percentage such as 99.9, got ${JSON.stringify(b.objective)}`)
  } else if (b.objective <= 1 || b.objective >= 100) {
    problems.push(`objective must be a percentage above 1 and below 100 (99.9 for 99.9 %), got ${b.objective}`)
  } else objective = b.objective
  const windowMs = parseWindow(b.window)
  if (windowMs === undefined)
    problems.push(`window must be a duration such as 30d, 7d or 12h, got ${JSON.stringify(b.window)}`)
  else if (windowMs < MIN_WINDOW_MILLIS || windowMs > MAX_WINDOW_MILLIS)
    problems.push(`window must be from 1h to 90d, got ${JSON.stringify(b.window)}`)
  let description = ''
  if (b.description !== undefined && b.description !== null) {
    if (typeof b.description !== 'string' || b.description.length > MAX_TEXT)
      problems.push(`description must be a string of at most ${MAX_TEXT} characters`)
    else description = b.description
  }
  if (problems.length > 0 || sli === undefined) throw invalid(problems)
  return { sli, objective, window: String(b.window).trim(), description }
}

function parseSli(v: unknown, problems: string[]): SliSpec | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    problems.push(
      `sli must be an object with a type (${SLI_TYPES.join(', ')}) and its fields, got ${JSON.stringify(v)}`,
    )
    return undefined
  }
  const s = v as Record<string, unknown>
  const type = s.type as SliType
  if (!SLI_TYPES.includes(type)) {
    problems.push(`sli.type must be one of ${SLI_TYPES.join(', ')}, got ${JSON.stringify(s.type)}`)
    return undefined
  }
  const before = problems.length
  for (const k of Object.keys(s))
    if (!FIELDS[type].includes(k))
      problems.push(`sli.${k} does not apply to a ${type} SLI (fields: ${FIELDS[type].join(', ')})`)
  const metric = typeof s.metric === 'string' ? s.metric.trim() : ''
  if (metric === '' || metric.length > MAX_METRIC)
    problems.push(`sli.metric must be a metric name, got ${JSON.stringify(s.metric)}`)
  const positive = (k: string, what: string): number => {
    const n = s[k]
    if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0)
      problems.push(`sli.${k} must be ${what}, got ${JSON.stringify(n)}`)
    return typeof n === 'number' ? n : 0
  }
  let sli: SliSpec
  switch (type) {
    case 'latency': {
      const percentile = positive('percentile', 'a percentile above 0 and below 100, such as 99')
      if (percentile >= 100) problems.push(`sli.percentile must be below 100, got ${percentile}`)
      sli = { type, metric, percentile, threshold_ms: positive('threshold_ms', 'a positive number of milliseconds') }
      break
    }
    case 'error_ratio':
      sli = { type, metric, errors: parseErrors(s.errors, problems) }
      break
    case 'gauge_max':
      if (typeof s.max !== 'number' || !Number.isFinite(s.max))
        problems.push(`sli.max must be a finite number, got ${JSON.stringify(s.max)}`)
      sli = { type, metric, max: typeof s.max === 'number' ? s.max : 0 }
      break
  }
  if (s.filter !== undefined) {
    const filter = parseFilter(s.filter, problems)
    if (filter !== undefined) sli.filter = filter
  }
  return problems.length > before ? undefined : sli
}

function parseFilter(v: unknown, problems: string[]): AttributeFilter | undefined {
  const example = 'such as {"http.response.status_code": "!503"} (!v leaves v out)'
  if (typeof v !== 'object' || v === null || Array.isArray(v) || Object.keys(v).length === 0) {
    problems.push(`sli.filter must be an attribute filter ${example}, got ${JSON.stringify(v)}`)
    return undefined
  }
  const out: AttributeFilter = {}
  const ok = (x: unknown) => typeof x === 'string' && x !== '' && x !== '!'
  for (const [k, value] of Object.entries(v as Record<string, unknown>)) {
    if (k === '') problems.push('sli.filter: an attribute name must not be empty')
    else if (ok(value)) out[k] = value as string
    else if (Array.isArray(value) && value.length > 0 && value.every(ok)) out[k] = [...(value as string[])]
    else problems.push(`sli.filter.${k} must be a value or a list of values ${example}, got ${JSON.stringify(value)}`)
  }
  return out
}

/** Whether an attribute value (undefined: the series has no such attribute) passes one attribute's part of a filter. */
export function passesFilter(actual: string | undefined, wanted: string | string[]): boolean {
  const values = Array.isArray(wanted) ? wanted : [wanted]
  const plain = values.filter((w) => !w.startsWith('!'))
  const excluded = values.filter((w) => w.startsWith('!')).map((w) => w.slice(1))
  if (plain.length > 0 && (actual === undefined || !plain.some((w) => matchesValue(actual, w)))) return false
  return actual === undefined || !excluded.some((w) => matchesValue(actual, w))
}

/** The filter as people read it: `http.response.status_code≠503, http.route=/pay`. */
export function describeFilter(f: AttributeFilter): string {
  return Object.entries(f)
    .map(([k, v]) =>
      (Array.isArray(v) ? v : [v]).map((w) => (w.startsWith('!') ? `${k}≠${w.slice(1)}` : `${k}=${w}`)).join(' or '),
    )
    .join(', ')
}

function parseErrors(v: unknown, problems: string[]): ErrorFilter {
  const example = 'such as {"http.response.status_code": "5xx"}'
  if (typeof v !== 'object' || v === null || Array.isArray(v) || Object.keys(v).length === 0) {
    problems.push(`sli.errors must be an attribute filter ${example}, got ${JSON.stringify(v)}`)
    return {}
  }
  const out: ErrorFilter = {}
  for (const [k, value] of Object.entries(v as Record<string, unknown>)) {
    const ok = (x: unknown) => typeof x === 'string' && x !== ''
    if (ok(value)) out[k] = value as string
    else if (Array.isArray(value) && value.length > 0 && value.every(ok)) out[k] = [...(value as string[])]
    else problems.push(`sli.errors.${k} must be a value or a list of values ${example}, got ${JSON.stringify(value)}`)
  }
  return out
}

/** Whether an attribute value matches one value of an error filter (`5xx` matches 500 to 599). */
export function matchesValue(actual: string, wanted: string): boolean {
  const family = /^([1-5])xx$/i.exec(wanted)
  if (family !== null) return new RegExp(`^${family[1]}(\\d\\d|xx)$`, 'i').test(actual)
  return actual === wanted
}

/** Whether two definitions are the same (a file applied again changes nothing). */
export function sameSlo(a: SloDefinition, b: SloDefinition): boolean {
  return canonical(a) === canonical(b)
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`
  if (typeof v === 'object' && v !== null) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`
  }
  return JSON.stringify(v)
}

/** The window in ms; the definition was validated, so it parses. */
export function windowMillis(def: SloDefinition): number {
  return parseWindow(def.window)!
}

/** The share of bad events the objective allows: 1 − objective (0.001 for 99.9 %). */
export function allowedBadRatio(def: SloDefinition): number {
  return 1 - def.objective / 100
}

/** One line saying what the SLO promises, for titles and logs. */
export function describeSlo(def: SloDefinition): string {
  const over = `${def.sli.filter !== undefined ? `where ${describeFilter(def.sli.filter)} ` : ''}over ${formatDuration(windowMillis(def))}`
  const s = def.sli
  switch (s.type) {
    case 'latency':
      return `${def.objective} % of ${s.metric} observations within ${s.threshold_ms} ms (p${s.percentile}) ${over}`
    case 'error_ratio': {
      const filter = Object.entries(s.errors)
        .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('|') : v}`)
        .join(', ')
      return `${def.objective} % of ${s.metric} without errors (${filter}) ${over}`
    }
    case 'gauge_max':
      return `${def.objective} % of ${s.metric} samples at or below ${s.max} ${over}`
  }
}

function invalid(problems: string[]): GovernorError {
  return new GovernorError('GOV_ERR_SLO_INVALID', problems.join('; '))
}
