import { formatDuration, formatNumber, formatRelative } from './format.ts'
import type { Bounds, Decision, Observation } from './types.ts'

/**
 * The rules every controller algorithm obeys, whatever it computes: hold without good data,
 * keep the value inside the bounds, rest inside the dead band and during the cooldown, move at
 * most `maxStep` a tick, round for whole-number knobs, raise only what is used and binding,
 * lower faster while the SLO burns fast (`urgency`). An algorithm
 * proposes a raw value; `settle` turns it into a decision with a reason.
 *
 *   obs ─► holdForInput ─► intoBounds ─► read (dead band) ─► cooldownLeft ─► algorithm ─► settle
 *          no data, stale   forced by      rests inside       rests after      raw value    gates, step,
 *          bad bounds       the bounds     ±deadBand          a change                      clamp, round
 */

/** A decision that keeps the value as it is. */
export function hold(obs: Observation, reason: string): Decision {
  return { kind: 'hold', value: obs.value, reason }
}

const holding = (obs: Observation, algorithm: string) => `holding at ${formatNumber(obs.value)} (${algorithm})`

/** The lowest and highest values a decision may take (whole numbers inside the bounds for integer knobs). */
export function range(bounds: Bounds): { lo: number; hi: number } {
  return bounds.integer ? { lo: Math.ceil(bounds.min), hi: Math.floor(bounds.max) } : { lo: bounds.min, hi: bounds.max }
}

/** A hold when the tick cannot be acted on: bounds that make no sense, no SLI, stale data, a target that is no target. */
export function holdForInput(algorithm: string, obs: Observation, bounds: Bounds): Decision | undefined {
  const { lo, hi } = range(bounds)
  if (!(lo <= hi))
    return hold(
      obs,
      `bounds invalid (min ${bounds.min}, max ${bounds.max}${bounds.integer ? ', whole numbers' : ''}): ${holding(obs, algorithm)}`,
    )
  if (!(bounds.maxStep > 0)) return hold(obs, `max step ${bounds.maxStep} allows no change: ${holding(obs, algorithm)}`)
  if (!(bounds.deadBand >= 0) || !(bounds.cooldownMillis >= 0)) {
    return hold(
      obs,
      `dead band ${bounds.deadBand} or cooldown ${bounds.cooldownMillis} ms is negative: ${holding(obs, algorithm)}`,
    )
  }
  if (obs.sli === undefined) return hold(obs, `no SLI data: ${holding(obs, algorithm)}`)
  if (obs.stale === true) return hold(obs, `SLI data is stale: ${holding(obs, algorithm)}`)
  if (!Number.isFinite(obs.sli) || obs.sli < 0)
    return hold(obs, `SLI ${obs.sli} is not a measurement: ${holding(obs, algorithm)}`)
  if (!Number.isFinite(obs.target) || !(obs.target > 0))
    return hold(obs, `target ${obs.target} is not a positive number: ${holding(obs, algorithm)}`)
  if (!Number.isFinite(obs.value))
    return hold(obs, `the current value ${obs.value} is not a number: ${holding(obs, algorithm)}`)
  return undefined
}

/** A move to the nearest bound when the current value is outside the bounds (ops narrowed them): bounds come first. */
export function intoBounds(algorithm: string, obs: Observation, bounds: Bounds): Decision | undefined {
  const { lo, hi } = range(bounds)
  if (obs.value >= lo && obs.value <= hi) return undefined
  const value = obs.value < lo ? lo : hi
  return {
    kind: value > obs.value ? 'raise' : 'lower',
    value,
    reason: `${formatNumber(obs.value)} is outside the bounds [${formatNumber(bounds.min)}, ${formatNumber(bounds.max)}]: ${formatNumber(obs.value)} → ${formatNumber(value)} (${algorithm})`,
  }
}

/** Where the SLI stands against the target. */
export interface Reading {
  sli: number
  target: number
  /** The SLI is above the target (whatever the band). */
  over: boolean
  /** Within ±deadBand of the target: nothing to do. */
  inBand: boolean
  /** "SLI 412 over target 300 (+37 %)", or "SLI 310 within ±5 % of target 300 (+3 %)". */
  text: string
}

/** Reads an observation that passed `holdForInput`; its text is `obs.sliText` when set. */
export function read(obs: Observation, bounds: Bounds): Reading {
  const sli = obs.sli as number
  const { target } = obs
  const inBand = Math.abs(sli - target) <= bounds.deadBand * target
  const over = sli > target
  const rel = formatRelative(sli, target)
  const text =
    obs.sliText !== undefined
      ? obs.sliText
      : inBand
        ? `SLI ${formatNumber(sli)} within ±${formatNumber(bounds.deadBand * 100)} % of target ${formatNumber(target)} (${rel})`
        : `SLI ${formatNumber(sli)} ${over ? 'over' : 'under'} target ${formatNumber(target)} (${rel})`
  return { sli, target, over, inBand, text }
}

/** The hold for a reading inside the dead band. */
export function holdInBand(algorithm: string, obs: Observation, reading: Reading): Decision {
  return hold(obs, `${reading.text}: ${holding(obs, algorithm)}`)
}

/**
 * Milliseconds left before the next change is allowed, or undefined when a change is allowed
 * now. `speedup` (see `urgency`) divides the cooldown.
 */
export function cooldownLeft(
  lastChangeAt: number | null,
  now: number,
  bounds: Bounds,
  speedup = 1,
): number | undefined {
  if (lastChangeAt === null) return undefined
  const since = now - lastChangeAt
  const cooldown = bounds.cooldownMillis / speedup
  return since < cooldown ? cooldown - since : undefined
}

/** The hold for a tick inside the cooldown. */
export function holdInCooldown(
  algorithm: string,
  obs: Observation,
  bounds: Bounds,
  reading: Reading,
  lastChangeAt: number,
  speedup = 1,
): Decision {
  const scaled =
    speedup > 1
      ? `, ${formatDuration(bounds.cooldownMillis / speedup)} at burn rate ${formatNumber(obs.burnRate as number)}×`
      : ''
  return hold(
    obs,
    `${reading.text} but the last change was ${formatDuration(obs.now - lastChangeAt)} ago (cooldown ${formatDuration(bounds.cooldownMillis)}${scaled}): ${holding(obs, algorithm)}`,
  )
}

/**
 * How much faster a lowering step goes while the SLO burns fast: the burn rate, between 1 and
 * `burnSpeedup`. 1 under the target (raises never speed up) and without a burn rate. A p99
 * twice the SLO's threshold burns the budget at tens to hundreds × the allowed rate; waiting
 * a full cooldown between small steps then costs minutes of a breached SLO.
 */
export function urgency(obs: Observation, reading: Reading, burnSpeedup: number): number {
  const b = obs.burnRate
  if (!reading.over || b === undefined || !(b > 1) || !(burnSpeedup > 1)) return 1
  return Math.min(b, burnSpeedup)
}

/** ", step ×4 at burn rate 12×" when `speedup` scales the step; '' otherwise. */
export function speedupText(obs: Observation, speedup: number): string {
  return speedup > 1 ? `, step ×${formatNumber(speedup)} at burn rate ${formatNumber(obs.burnRate as number)}×` : ''
}

/** Settings of `settle` that algorithms share. */
export interface SettleOptions {
  /** No raise while the observation's burn rate is at or above this. */
  raiseBelowBurnRate: number
}

/**
 * Turns an algorithm's raw proposal into a decision: no move against the error, no raise while
 * raises must wait (`obs.raiseHold`), the value is not used, the app's limiter stays under it
 * (`obs.limit`: the bound is not binding) or the error budget burns, at
 * most `maxStep`, inside the bounds, whole numbers for integer knobs (a move that rounding
 * would erase becomes a move of 1, so that a small knob still moves). `how` names the
 * algorithm's own step ("×0.8", "+1").
 */
export function settle(
  algorithm: string,
  how: string,
  obs: Observation,
  bounds: Bounds,
  reading: Reading,
  raw: number,
  options: SettleOptions,
): Decision {
  const { value } = obs
  const at = holding(obs, algorithm)
  if (!Number.isFinite(raw)) return hold(obs, `${reading.text} but ${algorithm} proposed ${raw}: ${at}`)
  if ((reading.over && raw > value) || (!reading.over && raw < value)) {
    return hold(
      obs,
      `${reading.text} but ${algorithm} proposed ${formatNumber(raw)} (${how}), against the error: ${at}`,
    )
  }
  if (raw > value) {
    if (obs.raiseHold !== undefined) return hold(obs, `${reading.text} but ${obs.raiseHold}: ${at}`)
    if (obs.inUse !== undefined && obs.inUse * 2 < value) {
      return hold(obs, `${reading.text} but only ${formatNumber(obs.inUse)} of ${formatNumber(value)} in use: ${at}`)
    }
    if (obs.limit !== undefined && obs.limit < value) {
      return hold(
        obs,
        `${reading.text} but the app's limiter stays at ${formatNumber(obs.limit)}, under the bound ${formatNumber(value)} (not binding): ${at}`,
      )
    }
    if (obs.burnRate !== undefined && obs.burnRate >= options.raiseBelowBurnRate) {
      return hold(
        obs,
        `${reading.text} but the error budget burns at ${formatNumber(obs.burnRate)}× (raises wait below ${formatNumber(options.raiseBelowBurnRate)}×): ${at}`,
      )
    }
  }

  const notes: string[] = []
  const { lo, hi } = range(bounds)
  const maxStep = bounds.integer ? Math.floor(bounds.maxStep) : bounds.maxStep
  if (maxStep <= 0)
    return hold(
      obs,
      `${reading.text} but max step ${formatNumber(bounds.maxStep)} allows no whole-number change: ${at}`,
    )
  const direction = Math.sign(raw - value)
  let next = raw
  if (Math.abs(raw - value) > maxStep) {
    next = value + direction * maxStep
    notes.push(`max step ${formatNumber(maxStep)}`)
  }
  if (bounds.integer) {
    const rounded = Math.round(next)
    // Rounding must not swallow a move the algorithm wanted: 3 × 0.9 = 2.7 would round back to 3 forever.
    next = rounded === value && next !== value ? value + direction : rounded
  }
  if (next < lo) {
    next = lo
    notes.push(`clamped to min ${formatNumber(bounds.min)}`)
  } else if (next > hi) {
    next = hi
    notes.push(`clamped to max ${formatNumber(bounds.max)}`)
  }
  if (next === value) {
    const why =
      direction < 0 && value <= lo
        ? `already at min ${formatNumber(bounds.min)}`
        : direction > 0 && value >= hi
          ? `already at max ${formatNumber(bounds.max)}`
          : `${algorithm} proposes no change (${how})`
    return hold(obs, `${reading.text}: ${why}; ${at}`)
  }
  return {
    kind: next > value ? 'raise' : 'lower',
    value: next,
    reason: `${reading.text}: ${formatNumber(value)} → ${formatNumber(next)} (${[algorithm, how, ...notes].join(', ')})`,
  }
}

/**
 * The shared start of a step for algorithms that keep no running terms: a decision that ends
 * the tick (hold or forced into bounds), or the reading to act on.
 */
export function begin(
  algorithm: string,
  lastChangeAt: number | null,
  obs: Observation,
  bounds: Bounds,
  burnSpeedup = 1,
): Decision | Reading {
  const early = holdForInput(algorithm, obs, bounds) ?? intoBounds(algorithm, obs, bounds)
  if (early !== undefined) return early
  const reading = read(obs, bounds)
  if (reading.inBand) return holdInBand(algorithm, obs, reading)
  const speedup = urgency(obs, reading, burnSpeedup)
  if (lastChangeAt !== null && cooldownLeft(lastChangeAt, obs.now, bounds, speedup) !== undefined)
    return holdInCooldown(algorithm, obs, bounds, reading, lastChangeAt, speedup)
  return reading
}

/** True when `begin` ended the tick. */
export function isDecision(x: Decision | Reading): x is Decision {
  return 'kind' in x
}

/** The time of the last change after `decision`: now when it changed the value. */
export function lastChange(lastChangeAt: number | null, decision: Decision, now: number): number | null {
  return decision.kind === 'hold' ? lastChangeAt : now
}
