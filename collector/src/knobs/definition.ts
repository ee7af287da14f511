import { readDefinition, valueFit } from '@governor/throttle'
import { GovernorError } from '../errors.ts'
import type { KnobDefinition, KnobValue } from '../model/knob.ts'

export { sameDefinition } from '@governor/throttle'
export { KNOB_TYPES, type KnobDefinition, type KnobType, type KnobValue } from '../model/knob.ts'

/**
 * Reads a declaration body; throws GOV_ERR_KNOB_INVALID naming every problem of its shape,
 * then checks the default as any value (see `checkValue`). The checks are the library's
 * (`readDefinition`, `valueFit`): an app refuses at once what the collector would refuse.
 */
export function parseDefinition(body: unknown): KnobDefinition {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('the body must be a JSON object')
  const { definition, problems } = readDefinition(body)
  if (problems.length > 0) throw invalid(problems.join('; '))
  definition.default = checkValue(definition, definition.default, 'default')
  return definition
}

/**
 * The value if it fits the knob: a wrong type is GOV_ERR_KNOB_INVALID (400), a value out of
 * bounds or not among an enum's values GOV_ERR_KNOB_OUT_OF_BOUNDS (422), naming the bounds.
 */
export function checkValue(def: KnobDefinition, v: unknown, what = 'value'): KnobValue {
  const fit = valueFit(def, v)
  if (fit === undefined) return v as KnobValue
  throw new GovernorError(
    fit.kind === 'bounds' ? 'GOV_ERR_KNOB_OUT_OF_BOUNDS' : 'GOV_ERR_KNOB_INVALID',
    `${what} ${fit.problem}`,
  )
}

/**
 * The value carried over to a new definition: kept when it still fits, clamped into a
 * narrower numeric range, otherwise the new default.
 */
export function carryOver(def: KnobDefinition, v: KnobValue): KnobValue {
  if ((def.type === 'int' || def.type === 'float' || def.type === 'percent') && typeof v === 'number') {
    const clamped = Math.min(def.max ?? Infinity, Math.max(def.min ?? -Infinity, v))
    return def.type === 'int' ? Math.round(clamped) : clamped
  }
  try {
    return checkValue(def, v)
  } catch {
    return def.default
  }
}

/**
 * Why the knob's value does not fit its definition (a declaration that no longer admits it:
 * the value is kept, see KnobService.declare), or undefined when it fits.
 */
export function valueConflict(def: KnobDefinition, v: KnobValue): string | undefined {
  try {
    checkValue(def, v)
    return undefined
  } catch (err) {
    return (err as Error).message
  }
}

function invalid(message: string): GovernorError {
  return new GovernorError('GOV_ERR_KNOB_INVALID', message)
}
