import { GovernorError } from '../errors.ts'

export { KNOB_TYPES, type KnobDefinition, type KnobType, type KnobValue } from '../model/knob.ts'
import { KNOB_TYPES, type KnobDefinition, type KnobType, type KnobValue } from '../model/knob.ts'

const MAX_STRING = 4096

/** Reads a declaration body; throws GOV_ERR_KNOB_INVALID naming every problem. */
export function parseDefinition(body: unknown): KnobDefinition {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('the body must be a JSON object')
  const b = body as Record<string, unknown>
  const problems: string[] = []
  const type = b.type as KnobType
  if (!KNOB_TYPES.includes(type)) problems.push(`type must be one of ${KNOB_TYPES.join(', ')}, got ${JSON.stringify(b.type)}`)
  const num = (k: 'min' | 'max'): number | null => {
    const v = b[k]
    if (v === undefined || v === null) return null
    if (typeof v !== 'number' || !Number.isFinite(v)) problems.push(`${k} must be a finite number`)
    return typeof v === 'number' ? v : null
  }
  let min = num('min'), max = num('max')
  if (type === 'percent') {
    min = Math.max(0, min ?? 0)
    max = Math.min(100, max ?? 100)
  }
  if (type !== 'int' && type !== 'float' && type !== 'percent' && (min !== null || max !== null)) problems.push(`min and max apply to int, float and percent knobs, not ${type}`)
  if (min !== null && max !== null && min > max) problems.push(`min (${min}) is above max (${max})`)
  let values: string[] | null = null
  if (type === 'enum') {
    if (!Array.isArray(b.values) || b.values.length === 0 || !b.values.every((v) => typeof v === 'string')) problems.push('values must be a non-empty array of strings for an enum knob')
    else values = [...new Set(b.values as string[])]
  } else if (b.values !== undefined && b.values !== null) problems.push('values applies to enum knobs only')
  const text = (k: string): string => {
    const v = b[k]
    if (v === undefined || v === null) return ''
    if (typeof v !== 'string' || v.length > MAX_STRING) problems.push(`${k} must be a string of at most ${MAX_STRING} characters`)
    return typeof v === 'string' ? v : ''
  }
  const def: KnobDefinition = { type, default: false, min, max, values, unit: text('unit'), description: text('description'), owner: text('owner') }
  if (problems.length > 0) throw invalid(problems.join('; '))
  if (b.default === undefined) throw invalid('default is required')
  def.default = checkValue(def, b.default, 'default')
  return def
}

/**
 * The value if it fits the knob: a wrong type is GOV_ERR_KNOB_INVALID (400), a value out of
 * bounds or not among an enum's values GOV_ERR_KNOB_OUT_OF_BOUNDS (422), naming the bounds.
 */
export function checkValue(def: KnobDefinition, v: unknown, what = 'value'): KnobValue {
  switch (def.type) {
    case 'int':
    case 'float':
    case 'percent': {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(`${what} must be a finite number for a ${def.type} knob, got ${JSON.stringify(v)}`)
      if (def.type === 'int' && !Number.isInteger(v)) throw invalid(`${what} must be a whole number for an int knob, got ${v}`)
      if ((def.min !== null && v < def.min) || (def.max !== null && v > def.max)) {
        throw new GovernorError('GOV_ERR_KNOB_OUT_OF_BOUNDS', `${what} ${v} is outside the bounds [${def.min ?? '-∞'}, ${def.max ?? '∞'}]`)
      }
      return v
    }
    case 'bool':
      if (typeof v !== 'boolean') throw invalid(`${what} must be true or false for a bool knob, got ${JSON.stringify(v)}`)
      return v
    case 'enum':
      if (typeof v !== 'string') throw invalid(`${what} must be a string for an enum knob, got ${JSON.stringify(v)}`)
      if (!def.values!.includes(v)) throw new GovernorError('GOV_ERR_KNOB_OUT_OF_BOUNDS', `${what} ${JSON.stringify(v)} is not one of ${def.values!.map((x) => JSON.stringify(x)).join(', ')}`)
      return v
    case 'string':
      if (typeof v !== 'string' || v.length > MAX_STRING) throw invalid(`${what} must be a string of at most ${MAX_STRING} characters`)
      return v
  }
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

export function sameDefinition(a: KnobDefinition, b: KnobDefinition): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

function invalid(message: string): GovernorError {
  return new GovernorError('GOV_ERR_KNOB_INVALID', message)
}
