/**
 * How a controller algorithm declares its parameters: default, bounds, one doc line. The
 * factory checks a binding's parameters against these, and the collector can show them.
 */
export interface ParamSpec {
  default: number
  /** Lowest allowed value; excluded when `minExclusive`. */
  min: number
  minExclusive?: boolean
  /** Highest allowed value (Infinity: none); excluded when `maxExclusive`. */
  max: number
  maxExclusive?: boolean
  /** One line for the operator: what the parameter does, with its unit. */
  doc: string
}

/** The parameters of one algorithm, by name. */
export type ParamSpecs = Readonly<Record<string, ParamSpec>>

/** "in (0, 1)", "of at least 0", "above 0": read after "a number". */
export function describeRange(spec: ParamSpec): string {
  if (spec.max === Infinity) return spec.minExclusive === true ? `above ${spec.min}` : `of at least ${spec.min}`
  return `in ${spec.minExclusive === true ? '(' : '['}${spec.min}, ${spec.max}${spec.maxExclusive === true ? ')' : ']'}`
}

/** True when `value` is a finite number inside the spec's range. */
export function fits(spec: ParamSpec, value: number): boolean {
  if (typeof value !== 'number' || Number.isNaN(value)) return false
  if (spec.minExclusive === true ? !(value > spec.min) : !(value >= spec.min)) return false
  if (spec.maxExclusive === true ? !(value < spec.max) : !(value <= spec.max)) return false
  return Number.isFinite(value)
}

/** The shared parameter: secondary signal, never a reason to move, only a reason not to raise. */
export const RAISE_BELOW_BURN_RATE: ParamSpec = {
  default: 1,
  min: 0,
  minExclusive: true,
  max: Infinity,
  doc: "no raise while the observation's SLO burn rate is at or above this (1: the budget is burning as fast as it may)",
}

/**
 * The shared parameter: how much faster the controller lowers while the SLO burns fast. A
 * lowering step is scaled by s = min(burn rate, burnSpeedup) (at least 1): the cooldown is
 * divided by s and the step made s times larger (each algorithm says how). 1: fixed steps.
 */
export const BURN_SPEEDUP: ParamSpec = {
  default: 4,
  min: 1,
  max: 100,
  doc: "while lowering, steps scale with the SLO's burn rate up to this factor: the cooldown divided by it, the step that many times larger (1: fixed steps)",
}
