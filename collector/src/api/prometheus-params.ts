import { PromqlError } from '../promql/errors.ts'
import type { LabelMatcher, MatchType } from '../promql/querier.ts'
import { matchesEmpty } from '../store/label-matchers.ts'

/**
 * Parameters of the Prometheus HTTP API, parsed as Prometheus parses them: times as RFC 3339
 * or float seconds since the epoch, durations as `5m`/`1h30m` or float seconds, series
 * selectors (`match[]`) as PromQL writes them, Prometheus 3's quoted UTF-8 names included.
 */

/** Prometheus' own bounds for an open start or end (its MinTime and MaxTime, in ms). */
export const MIN_TIME = -9_223_372_036_854
export const MAX_TIME = 9_223_372_036_854

const bad = (message: string): PromqlError => new PromqlError('bad_data', message)

/** A time parameter in epoch milliseconds; `fallback` when absent. */
export function parseTime(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value === '') return fallback
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value)) {
    const ms = Math.round(Number(value) * 1000)
    if (!Number.isFinite(ms)) throw bad(`invalid parameter "${name}": cannot parse "${value}" to a valid timestamp`)
    return ms
  }
  // Prometheus' spelling of its own bounds (Go's time.Time printed as RFC 3339).
  if (value === '0001-01-01T00:00:00Z' || value === '-292273086-05-16T16:47:06Z') return MIN_TIME
  if (value === '292277025-08-18T07:12:54.999999999Z') return MAX_TIME
  if (/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(value)) {
    const ms = Date.parse(value)
    if (!Number.isNaN(ms)) return ms
  }
  throw bad(`invalid parameter "${name}": cannot parse "${value}" to a valid timestamp`)
}

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
}

/** A duration parameter (`step`, `timeout`) in milliseconds. */
export function parseDuration(value: string, name: string): number {
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value)) {
    const ms = Math.round(Number(value) * 1000)
    if (!Number.isFinite(ms)) throw bad(`invalid parameter "${name}": cannot parse "${value}" to a valid duration`)
    return ms
  }
  const re = /(\d+)(ms|y|w|d|h|m|s)/y
  let ms = 0
  let at = 0
  while (at < value.length) {
    re.lastIndex = at
    const m = re.exec(value)
    if (m === null) throw bad(`invalid parameter "${name}": cannot parse "${value}" to a valid duration`)
    ms += Number(m[1]) * UNIT_MS[m[2]!]!
    at = re.lastIndex
  }
  if (value === '') throw bad(`invalid parameter "${name}": cannot parse "" to a valid duration`)
  return ms
}

/** Every value of a parameter that may repeat (`match[]`). */
export function paramList(params: Record<string, unknown>, name: string): string[] {
  const v = params[name]
  if (v === undefined) return []
  return (Array.isArray(v) ? v : [v]).map(String)
}

/** One value of a parameter: the last when it repeats. */
export function param(params: Record<string, unknown>, name: string): string | undefined {
  const list = paramList(params, name)
  return list.length === 0 ? undefined : list[list.length - 1]
}

/** A `limit` parameter: Infinity when absent or 0, as Prometheus reads it. */
export function parseLimit(value: string | undefined): number {
  if (value === undefined || value === '') return Infinity
  if (!/^\d+$/.test(value)) throw bad(`invalid parameter "limit": cannot parse "${value}" to a valid limit`)
  return Number(value) === 0 ? Infinity : Number(value)
}

/**
 * A series selector: `name`, `name{…}`, `{…}` with `=`, `!=`, `=~`, `!~` matchers; names and
 * label names may be quoted (`{"http.server.duration", "http.route"="/"}`).
 */
export function parseSelector(text: string): LabelMatcher[] {
  const p = new SelectorParser(text)
  const out = p.selector()
  if (out.length === 0 || out.every(matchesEmpty))
    throw bad(
      `invalid parameter "match[]": 1:1: parse error: vector selector must contain at least one non-empty matcher`,
    )
  return out
}

class SelectorParser {
  #at = 0
  readonly #s: string

  constructor(s: string) {
    this.#s = s
  }

  selector(): LabelMatcher[] {
    const out: LabelMatcher[] = []
    this.#space()
    const name = /[a-zA-Z_:][a-zA-Z0-9_:]*/y
    name.lastIndex = this.#at
    const m = name.exec(this.#s)
    if (m !== null) {
      out.push({ name: '__name__', type: '=', value: m[0] })
      this.#at = name.lastIndex
    }
    this.#space()
    if (this.#s[this.#at] === '{') {
      this.#at++
      for (;;) {
        this.#space()
        if (this.#s[this.#at] === '}') {
          this.#at++
          break
        }
        const label =
          this.#s[this.#at] === '"' || this.#s[this.#at] === "'" || this.#s[this.#at] === '`'
            ? this.#string()
            : this.#ident()
        this.#space()
        const op = /=~|!~|!=|=/y
        op.lastIndex = this.#at
        const o = op.exec(this.#s)
        if (o === null) {
          // A quoted name alone is the metric name (Prometheus 3).
          if (this.#s[this.#at] === ',' || this.#s[this.#at] === '}') {
            out.push({ name: '__name__', type: '=', value: label })
          } else throw this.#error('expected a label matcher operator')
        } else {
          this.#at = op.lastIndex
          this.#space()
          out.push({ name: label, type: o[0] as MatchType, value: this.#string() })
        }
        this.#space()
        if (this.#s[this.#at] === ',') this.#at++
        else if (this.#s[this.#at] !== '}') throw this.#error('expected "," or "}"')
      }
    }
    this.#space()
    if (this.#at !== this.#s.length || (m === null && out.length === 0)) throw this.#error('unexpected input')
    return out
  }

  #ident(): string {
    const re = /[a-zA-Z_][a-zA-Z0-9_]*/y
    re.lastIndex = this.#at
    const m = re.exec(this.#s)
    if (m === null) throw this.#error('expected a label name')
    this.#at = re.lastIndex
    return m[0]
  }

  #string(): string {
    const q = this.#s[this.#at]
    if (q !== '"' && q !== "'" && q !== '`') throw this.#error('expected a quoted string')
    const end = q === '`' ? this.#s.indexOf('`', this.#at + 1) : this.#closing(q)
    if (end < 0) throw this.#error('unterminated quoted string')
    const raw = this.#s.slice(this.#at + 1, end)
    this.#at = end + 1
    if (q === '`') return raw
    // Go's escapes are JSON's plus \a \v \' \x.. and octal: the common ones are handled.
    return raw.replace(/\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|x[0-9a-fA-F]{2}|[0-7]{3}|.)/gs, (_, e: string) => {
      switch (e[0]) {
        case 'n':
          return '\n'
        case 't':
          return '\t'
        case 'r':
          return '\r'
        case 'a':
          return '\x07'
        case 'b':
          return '\b'
        case 'f':
          return '\f'
        case 'v':
          return '\v'
        case 'u':
        case 'U':
        case 'x':
          return String.fromCodePoint(parseInt(e.slice(1), 16))
        default:
          return /^[0-7]{3}$/.test(e) ? String.fromCharCode(parseInt(e, 8)) : e
      }
    })
  }

  #closing(q: string): number {
    for (let i = this.#at + 1; i < this.#s.length; i++) {
      if (this.#s[i] === '\\') i++
      else if (this.#s[i] === q) return i
    }
    return -1
  }

  #space(): void {
    while (this.#at < this.#s.length && /\s/.test(this.#s[this.#at]!)) this.#at++
  }

  #error(what: string): PromqlError {
    return bad(`invalid parameter "match[]": 1:${this.#at + 1}: parse error: ${what}`)
  }
}
