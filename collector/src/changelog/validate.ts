import { GovernorError } from '../errors.ts'
import { unitMistake } from '../util/time-units.ts'
import type { DeployPlan } from './types.ts'

/** Longest title, and longest text, an event may carry. */
export const MAX_TITLE_CHARS = 1_000
export const MAX_TEXT_CHARS = 65_536
/** How far ahead of this clock a given time may be (other clocks drift). */
const FUTURE_SLACK_MILLIS = 5 * 60_000

type Body = Record<string, unknown>

/**
 * Reads a JSON body field by field, collecting every problem so that one 400 names them
 * all (a client fixing one missing field at a time is a poor loop).
 */
export class BodyReader {
  readonly #body: Body
  readonly #problems: string[] = []
  readonly #now: number

  constructor(body: unknown, now: number) {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new GovernorError('GOV_ERR_CHANGE_INVALID', 'the body must be a JSON object')
    }
    this.#body = body as Body
    this.#now = now
  }

  /** A required, non-empty string. */
  required(name: string, max = MAX_TITLE_CHARS): string {
    const v = this.#body[name]
    if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) {
      this.#problems.push(`${name} is required`)
      return ''
    }
    return this.#string(name, v, max)
  }

  optional(name: string, fallback = '', max = MAX_TITLE_CHARS): string {
    const v = this.#body[name]
    return v === undefined || v === null ? fallback : this.#string(name, v, max)
  }

  /**
   * A time as epoch milliseconds or ISO 8601; not in the future. A number that can only be
   * another unit (epoch seconds, microseconds, nanoseconds) is refused, naming the unit.
   */
  time(name: string, fallback: number): number {
    const v = this.#body[name]
    if (v === undefined || v === null || v === '') return fallback
    const t = typeof v === 'number' ? v : typeof v === 'string' ? (/^\d+$/.test(v) ? Number(v) : Date.parse(v)) : NaN
    if (typeof v !== 'number' && typeof v !== 'string')
      this.#problems.push(`${name} must be epoch milliseconds or an ISO 8601 string`)
    else if (!Number.isFinite(t))
      this.#problems.push(`${name}=${JSON.stringify(v)} is not a time (epoch milliseconds or ISO 8601)`)
    else if (typeof v === 'number' || /^\d+$/.test(v)) {
      const mistake = unitMistake(name, t)
      if (mistake !== undefined) this.#problems.push(mistake)
      else if (t > this.#now + FUTURE_SLACK_MILLIS) this.#problems.push(`${name}=${JSON.stringify(v)} is in the future`)
    } else if (t < 0) this.#problems.push(`${name}=${JSON.stringify(v)} is before 1970`)
    else if (t > this.#now + FUTURE_SLACK_MILLIS) this.#problems.push(`${name}=${JSON.stringify(v)} is in the future`)
    return Number.isFinite(t) ? t : fallback
  }

  tags(name: string): string[] {
    const v = this.#body[name]
    if (v === undefined || v === null) return []
    if (!Array.isArray(v) || !v.every((t) => typeof t === 'string')) {
      this.#problems.push(`${name} must be an array of strings`)
      return []
    }
    return v as string[]
  }

  plan(name: string): DeployPlan | null {
    const v = this.#body[name]
    if (v === undefined || v === null) return null
    if (typeof v !== 'object' || Array.isArray(v)) {
      this.#problems.push(`${name} must be an object with expect, risks, watch, contingency`)
      return null
    }
    const p = v as Body
    const plan: DeployPlan = {}
    if (p.expect !== undefined) {
      const ok =
        Array.isArray(p.expect) &&
        p.expect.every(
          (e: unknown) =>
            typeof e === 'object' &&
            e !== null &&
            typeof (e as Body).metric === 'string' &&
            ['up', 'down', 'none'].includes((e as Body).change as string) &&
            ((e as Body).note === undefined || typeof (e as Body).note === 'string'),
        )
      if (ok) plan.expect = p.expect as DeployPlan['expect']
      else this.#problems.push(`${name}.expect must be an array of { metric, change: "up" | "down" | "none", note? }`)
    }
    if (p.risks !== undefined) {
      if (typeof p.risks === 'string') plan.risks = this.#limit(`${name}.risks`, p.risks, MAX_TEXT_CHARS)
      else this.#problems.push(`${name}.risks must be a string`)
    }
    for (const list of ['watch', 'contingency'] as const) {
      const l = p[list]
      if (l === undefined) continue
      if (Array.isArray(l) && l.every((x) => typeof x === 'string')) plan[list] = l as string[]
      else this.#problems.push(`${name}.${list} must be an array of names`)
    }
    return plan
  }

  /** Throws one 400 naming every problem found, if any. */
  done(): void {
    if (this.#problems.length > 0) throw new GovernorError('GOV_ERR_CHANGE_INVALID', this.#problems.join('; '))
  }

  #string(name: string, v: unknown, max: number): string {
    if (typeof v !== 'string') {
      this.#problems.push(`${name} must be a string, got ${Array.isArray(v) ? 'array' : typeof v}`)
      return ''
    }
    return this.#limit(name, v, max)
  }

  #limit(name: string, v: string, max: number): string {
    if (v.length > max) {
      throw new GovernorError('GOV_ERR_CHANGE_TOO_LARGE', `${name} is ${v.length} characters; the most is ${max}`)
    }
    return v
  }
}
