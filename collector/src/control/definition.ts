import { GovernorError } from '../errors.ts'
import type { KnobState } from '../knobs/knob-service.ts'
import type { SloDefinition } from '../slo/definition.ts'
import type { AlgorithmName } from '@governor/throttle'
import { EFFECTS, GUARD_DEFAULTS, type Effect } from '@governor/throttle'

/**
 * `active`: the controller turns the knob; `shadow`: it records what it would do, and touches
 * nothing; `off`: it holds, reads nothing and records nothing (the binding is kept).
 */
export type ControllerMode = 'active' | 'shadow' | 'off'
export const CONTROLLER_MODES: readonly ControllerMode[] = ['active', 'shadow', 'off']
export const ALGORITHMS: readonly AlgorithmName[] = ['aimd', 'gradient', 'pid']

/** A controller binding as stored: which knob it turns, against which SLO, how, and inside which limits. */
export interface ControllerDefinition {
  /** A knob of the same service (int, float or percent). */
  knob: string
  /** An SLO of the same service: its SLI is the observation, its threshold the target. */
  slo: string
  algorithm: AlgorithmName
  /** The algorithm's parameters over its defaults. */
  params: Record<string, number>
  /** Time between two steps, ms. */
  interval_ms: number
  /** Bounds of the controller's decisions, inside the knob's own. */
  min: number
  max: number
  /** Largest change of one step, in the knob's unit. */
  max_step: number
  /** Least time between two changes, ms. */
  cooldown_ms: number
  /** Relative band around the target in which nothing changes (0.05: ±5 %). */
  dead_band: number
  mode: ControllerMode
  description: string
  /**
   * How the knob moves the SLI: `raises` (more of it, a higher SLI: over the target the knob
   * goes down) or `lowers` (more workers, less queue lag: over the target it goes up).
   */
  effect: Effect
  /** Another SLO of the service that the controller must not break, or null. */
  guard: ControllerGuard | null
}

/** A guard SLO and how it holds the controller back (see `steered` in the throttle library). */
export interface ControllerGuard {
  /** An SLO of the same service, other than the binding's `slo` (e.g. downstream latency). */
  slo: string
  /** Factor the knob is multiplied by at each step while the guard's SLI is over its threshold, in (0, 1). Default 0.8. */
  decrease: number
  /** Share under the guard's threshold where raises wait, in [0, 1). Default 0.1. */
  headroom: number
}

/**
 * A stored definition with every field: those stored before `effect` and `guard` existed
 * keep today's behaviour (`raises`, no guard). Keys in one order, so that two definitions
 * compare by their JSON.
 */
export function withDefaults(def: ControllerDefinition): ControllerDefinition {
  const { effect, guard, ...rest } = def as Omit<ControllerDefinition, 'effect' | 'guard'> &
    Partial<Pick<ControllerDefinition, 'effect' | 'guard'>>
  return { ...rest, effect: effect ?? 'raises', guard: guard ?? null }
}

export const DEFAULT_INTERVAL_MILLIS = 5_000
export const MIN_INTERVAL_MILLIS = 100
export const MAX_INTERVAL_MILLIS = 3_600_000
export const DEFAULT_DEAD_BAND = 0.05
/** The short window an SLI is read over: 6 intervals, at least 30 s. */
export function observationWindowMillis(intervalMillis: number): number {
  return Math.max(30_000, 6 * intervalMillis)
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/

/** Checks a service or controller name; throws GOV_ERR_CONTROLLER_INVALID. */
export function checkControllerName(v: string, what: string): void {
  if (!NAME.test(v))
    throw invalid([`${what} ${JSON.stringify(v)}: use letters, digits, '.', '_' and '-' (at most 128)`])
}

const FIELDS = [
  'knob',
  'slo',
  'algorithm',
  'params',
  'interval_ms',
  'min',
  'max',
  'max_step',
  'cooldown_ms',
  'dead_band',
  'mode',
  'description',
  'effect',
  'guard',
  'actor',
  'reason',
]
const GUARD_FIELDS = ['slo', 'decrease', 'headroom']
const NUMERIC_KNOBS = ['int', 'float', 'percent']

/** What the caller knows of the service: the knob and whether the SLO exists; the algorithm's check of its parameters. */
export interface ControllerContext {
  /** The knob named by the body; undefined when the service has none of that name. */
  knob(name: string): KnobState | undefined
  /** Whether the service has an SLO of that name. */
  hasSlo(name: string): boolean
  /** Throws a message naming the bad parameter, or returns. */
  checkParams(algorithm: AlgorithmName, params: Record<string, number>): void
}

/**
 * Reads a controller binding, in this order: malformed fields (400 GOV_ERR_CONTROLLER_INVALID
 * naming each), an unknown knob (404 GOV_ERR_KNOB_NOT_FOUND) or SLO (404 GOV_ERR_SLO_NOT_FOUND),
 * a knob that is not a number, parameters the algorithm refuses (400), then bounds outside
 * the knob's bounds (422 GOV_ERR_CONTROLLER_BOUNDS naming both).
 *
 * Defaults: `interval_ms` 5000, `min`/`max` the knob's bounds, `max_step` the whole range,
 * `cooldown_ms` the observation window (6 intervals, at least 30 s: the next step sees only
 * data from after a change), `dead_band` 0.05, `mode` shadow, `params` the algorithm's,
 * `effect` raises, no `guard` (a guard's `decrease` 0.8, `headroom` 0.1).
 */
export function parseController(body: unknown, service: string, ctx: ControllerContext): ControllerDefinition {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw invalid(['the body must be a JSON object'])
  const b = body as Record<string, unknown>
  const problems: string[] = []
  for (const k of Object.keys(b))
    if (!FIELDS.includes(k)) problems.push(`unknown field ${k} (fields: ${FIELDS.join(', ')})`)
  const name = (k: 'knob' | 'slo') => {
    if (typeof b[k] !== 'string' || (b[k] as string).trim() === '')
      problems.push(`${k} is required: the name of a${k === 'knob' ? ' knob' : 'n SLO'} of ${service}`)
    return typeof b[k] === 'string' ? (b[k] as string).trim() : ''
  }
  const knobName = name('knob'),
    sloName = name('slo')
  const algorithm = b.algorithm as AlgorithmName
  if (!ALGORITHMS.includes(algorithm))
    problems.push(`algorithm must be one of ${ALGORITHMS.join(', ')}, got ${JSON.stringify(b.algorithm)}`)
  let params: Record<string, number> = {}
  if (b.params !== undefined && b.params !== null) {
    if (typeof b.params !== 'object' || Array.isArray(b.params))
      problems.push(`params must be an object of numbers, got ${JSON.stringify(b.params)}`)
    else {
      params = { ...(b.params as Record<string, number>) }
      for (const [k, v] of Object.entries(params))
        if (typeof v !== 'number' || !Number.isFinite(v))
          problems.push(`params.${k} must be a finite number, got ${JSON.stringify(v)}`)
    }
  }
  const num = (k: string, check: (n: number) => boolean, what: string): number | undefined => {
    const v = b[k]
    if (v === undefined || v === null) return undefined
    if (typeof v !== 'number' || !Number.isFinite(v) || !check(v)) {
      problems.push(`${k} must be ${what}, got ${JSON.stringify(v)}`)
      return undefined
    }
    return v
  }
  const interval =
    num(
      'interval_ms',
      (n) => Number.isInteger(n) && n >= MIN_INTERVAL_MILLIS && n <= MAX_INTERVAL_MILLIS,
      `a whole number of milliseconds from ${MIN_INTERVAL_MILLIS} to ${MAX_INTERVAL_MILLIS}`,
    ) ?? DEFAULT_INTERVAL_MILLIS
  let min = num('min', () => true, 'a finite number')
  let max = num('max', () => true, 'a finite number')
  const maxStep = num('max_step', (n) => n > 0, 'a positive number')
  const cooldown = num('cooldown_ms', (n) => Number.isInteger(n) && n >= 0, 'a whole number of milliseconds, 0 or more')
  const deadBand =
    num('dead_band', (n) => n >= 0 && n < 1, 'a share from 0 (inclusive) to 1 (0.05 for ±5 %)') ?? DEFAULT_DEAD_BAND
  const mode = (b.mode ?? 'shadow') as ControllerMode
  if (!CONTROLLER_MODES.includes(mode))
    problems.push(`mode must be one of ${CONTROLLER_MODES.join(', ')}, got ${JSON.stringify(b.mode)}`)
  let description = ''
  if (b.description !== undefined && b.description !== null) {
    if (typeof b.description !== 'string' || b.description.length > 4096)
      problems.push('description must be a string of at most 4096 characters')
    else description = b.description
  }
  const effect = (b.effect ?? 'raises') as Effect
  if (!EFFECTS.includes(effect))
    problems.push(
      `effect must be one of ${EFFECTS.join(', ')} (how raising the knob moves the SLI), got ${JSON.stringify(b.effect)}`,
    )
  const guard = parseGuard(b.guard, service, sloName, problems)
  if (problems.length > 0) throw invalid(problems)

  const knob = ctx.knob(knobName)
  if (knob === undefined)
    throw new GovernorError(
      'GOV_ERR_KNOB_NOT_FOUND',
      `no knob ${service}/${knobName}: a controller turns a knob of its own service`,
    )
  for (const [field, slo] of [
    ['', sloName],
    [' (guard.slo)', guard?.slo],
  ] as const) {
    if (slo !== undefined && !ctx.hasSlo(slo))
      throw new GovernorError(
        'GOV_ERR_SLO_NOT_FOUND',
        `no SLO ${service}/${slo}${field}: define it with PUT /api/v1/slos/${service}/${slo} first`,
      )
  }
  const def = knob.definition
  if (!NUMERIC_KNOBS.includes(def.type))
    throw invalid([`knob ${service}/${knobName} is a ${def.type} knob: a controller turns int, float or percent knobs`])
  try {
    ctx.checkParams(algorithm, params)
  } catch (err) {
    throw invalid([(err as Error).message])
  }
  min ??= def.min ?? undefined
  max ??= def.max ?? undefined
  if (min === undefined || max === undefined) {
    throw invalid([
      `${min === undefined ? 'min' : 'max'} is required: knob ${service}/${knobName} has no ${min === undefined ? 'min' : 'max'} of its own`,
    ])
  }
  if (!(min < max)) throw invalid([`min (${min}) must be below max (${max})`])
  if ((def.min !== null && min < def.min) || (def.max !== null && max > def.max)) {
    throw new GovernorError(
      'GOV_ERR_CONTROLLER_BOUNDS',
      `the controller's bounds [${min}, ${max}] are outside the bounds [${def.min ?? '-∞'}, ${def.max ?? '∞'}] of knob ${service}/${knobName}`,
    )
  }
  return {
    knob: knobName,
    slo: sloName,
    algorithm,
    params,
    interval_ms: interval,
    min,
    max,
    max_step: maxStep ?? max - min,
    cooldown_ms: cooldown ?? observationWindowMillis(interval),
    dead_band: deadBand,
    mode,
    description,
    effect,
    guard,
  }
}

/** `guard`: an SLO's name, or `{slo, decrease?, headroom?}`; null when absent. Problems go to `problems`, each naming its field. */
function parseGuard(v: unknown, service: string, sloName: string, problems: string[]): ControllerGuard | null {
  if (v === undefined || v === null) return null
  const g = (typeof v === 'string' ? { slo: v } : v) as Record<string, unknown>
  if (typeof g !== 'object' || Array.isArray(g)) {
    problems.push(
      `guard must be the name of another SLO of ${service} or {${GUARD_FIELDS.join(', ')}}, got ${JSON.stringify(v)}`,
    )
    return null
  }
  const before = problems.length
  for (const k of Object.keys(g))
    if (!GUARD_FIELDS.includes(k))
      problems.push(`unknown field guard.${k} (fields of guard: ${GUARD_FIELDS.join(', ')})`)
  const slo = typeof g.slo === 'string' ? g.slo.trim() : ''
  if (slo === '') problems.push(`guard.slo is required: the name of another SLO of ${service}`)
  else if (slo === sloName)
    problems.push(
      `guard.slo must name another SLO than slo (${sloName}): the guard is a second objective the controller must not break`,
    )
  const share = (k: 'decrease' | 'headroom', ok: (n: number) => boolean, what: string): number => {
    const x = g[k]
    if (x === undefined || x === null) return GUARD_DEFAULTS[k]
    if (typeof x !== 'number' || !Number.isFinite(x) || !ok(x))
      problems.push(`guard.${k} must be ${what}, got ${JSON.stringify(x)}`)
    return x as number
  }
  const decrease = share(
    'decrease',
    (n) => n > 0 && n < 1,
    'a factor above 0 and below 1 (0.8: ×0.8 a step while the guard is breached)',
  )
  const headroom = share(
    'headroom',
    (n) => n >= 0 && n < 1,
    "a share from 0 (inclusive) to 1 (0.1: no raise within 10 % of the guard's threshold)",
  )
  return problems.length > before ? null : { slo, decrease, headroom }
}

/**
 * What a binding's operator should know before it runs, as sentences (none: nothing). Today
 * one: a latency SLO whose objective asks more than its percentile. At the target (the
 * SLI, the p-th percentile, at the threshold) 100 − p % of observations are over the
 * threshold; the objective allows 100 − objective %. With p99 and 99.9 % the burn rate at the
 * target is 10×, so a controller that raises only below `raiseBelowBurnRate` (1× by default)
 * lowers to meet the p99 but raises only once about the p99.9 is under the threshold: it
 * settles well under the target, and nothing said why.
 */
export function controllerWarnings(
  def: Pick<ControllerDefinition, 'slo' | 'params' | 'effect'>,
  service: string,
  slo: SloDefinition | undefined,
): string[] {
  if (slo === undefined || slo.sli.type !== 'latency' || def.effect !== 'raises') return []
  const p = slo.sli.percentile
  const burnAtTarget = (100 - p) / (100 - slo.objective)
  const raiseBelow = def.params.raiseBelowBurnRate ?? 1
  if (!(burnAtTarget > raiseBelow)) return []
  const burn = Number(burnAtTarget.toPrecision(3))
  return [
    `SLO ${service}/${def.slo} holds p${p} within ${slo.sli.threshold_ms} ms but promises ${slo.objective} % of observations within it: ` +
      `with the p${p} at the threshold, ${Number((100 - p).toPrecision(3))} % of observations are over it, a burn rate of ${burn}×, and this controller raises only below ${raiseBelow}× ` +
      `(params.raiseBelowBurnRate); it will lower the knob to meet the p${p} but raise it only once about the p${slo.objective} is within ${slo.sli.threshold_ms} ms. ` +
      `Make the SLO's percentile ${slo.objective} (or its objective ${p}), or set params.raiseBelowBurnRate above ${burn}`,
  ]
}

function invalid(problems: string[]): GovernorError {
  return new GovernorError('GOV_ERR_CONTROLLER_INVALID', problems.join('; '))
}
