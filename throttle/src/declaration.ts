import { ThrottleError } from './errors.ts'

/** The kinds of knob the collector knows (see the collector's `knobs/definition.ts`). */
export const KNOB_TYPES = ['int', 'float', 'bool', 'percent', 'enum', 'string'] as const
export type KnobType = (typeof KNOB_TYPES)[number]
export type KnobValue = number | boolean | string

interface DeclarationText {
  /** Unit of the value, UCUM style as in OpenTelemetry (`ms`, `{worker}`). */
  unit?: string
  /** One line for ops: what turning the knob does. */
  description?: string
  /** Team or person to ask. */
  owner?: string
}

/** A number knob: `int` (whole numbers), `float`, or `percent` (0 to 100 unless narrower). */
export interface NumberKnobDeclaration extends DeclarationText {
  type: 'int' | 'float' | 'percent'
  default: number
  min?: number
  max?: number
}
export interface BoolKnobDeclaration extends DeclarationText {
  type: 'bool'
  default: boolean
}
export interface EnumKnobDeclaration<V extends string = string> extends DeclarationText {
  type: 'enum'
  values: readonly V[]
  default: NoInfer<V>
}
export interface StringKnobDeclaration extends DeclarationText {
  type: 'string'
  default: string
}

/** What an app declares in code. */
export type KnobDeclaration = NumberKnobDeclaration | BoolKnobDeclaration | EnumKnobDeclaration | StringKnobDeclaration

/** A declaration in the collector's form: every field present, bounds as the collector reads them. */
export interface KnobDefinition {
  type: KnobType
  default: KnobValue
  min: number | null
  max: number | null
  values: string[] | null
  unit: string
  description: string
  owner: string
}

/** The collector's rule for service and knob names. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/
/** The collector's longest string (a string knob's value, a unit, a description). */
const MAX_STRING = 4096

/** Throws THROTTLE_ERR_DECLARATION_INVALID unless `name` is a name the collector accepts. */
export function checkName(name: unknown, what: string): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new ThrottleError(
      'THROTTLE_ERR_DECLARATION_INVALID',
      `${what} ${JSON.stringify(name)}: use letters, digits, '.', '_' and '-' (at most 128, starting with a letter or digit)`,
    )
  }
  return name
}

/**
 * A declaration (the body of `PUT /api/v1/knobs/{service}/{name}`, or what an app declares)
 * in the collector's form, and every problem of its shape. The default is only looked for
 * here; whether it fits is `valueFit`'s to say. One check for both sides: the collector
 * refuses exactly what an app refuses at once.
 */
export function readDefinition(decl: unknown): { definition: KnobDefinition; problems: string[] } {
  const problems: string[] = []
  const d = (typeof decl === 'object' && decl !== null ? decl : {}) as Record<string, unknown>
  const type = d.type as KnobType
  if (!KNOB_TYPES.includes(type))
    problems.push(`type must be one of ${KNOB_TYPES.join(', ')}, got ${JSON.stringify(d.type)}`)
  const bound = (k: 'min' | 'max'): number | null => {
    const v = d[k]
    if (v === undefined || v === null) return null
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      problems.push(`${k} must be a finite number, got ${JSON.stringify(v)}`)
      return null
    }
    return v
  }
  let min = bound('min'),
    max = bound('max')
  if (type === 'percent') {
    min = Math.max(0, min ?? 0)
    max = Math.min(100, max ?? 100)
  }
  const numeric = type === 'int' || type === 'float' || type === 'percent'
  if (!numeric && (min !== null || max !== null))
    problems.push(`min and max apply to int, float and percent knobs, not ${type}`)
  if (min !== null && max !== null && min > max) problems.push(`min (${min}) is above max (${max})`)
  let values: string[] | null = null
  if (type === 'enum') {
    if (!Array.isArray(d.values) || d.values.length === 0 || !d.values.every((v) => typeof v === 'string'))
      problems.push('values must be a non-empty array of strings for an enum knob')
    else values = [...new Set(d.values as string[])]
  } else if (d.values !== undefined && d.values !== null) problems.push('values applies to enum knobs only')
  const text = (k: string): string => {
    const v = d[k]
    if (v === undefined || v === null) return ''
    if (typeof v !== 'string' || v.length > MAX_STRING)
      problems.push(`${k} must be a string of at most ${MAX_STRING} characters`)
    return typeof v === 'string' ? v : ''
  }
  const definition: KnobDefinition = {
    type,
    default: d.default as KnobValue,
    min,
    max,
    values,
    unit: text('unit'),
    description: text('description'),
    owner: text('owner'),
  }
  if (problems.length === 0 && d.default === undefined) problems.push('default is required')
  return { definition, problems }
}

/**
 * A declaration in the collector's form, checked the way the collector checks it (so that
 * a declaration it would refuse fails in the app, at once, naming every problem).
 */
export function normalizeDeclaration(name: string, decl: KnobDeclaration): KnobDefinition {
  const { definition, problems } = readDefinition(decl)
  if (problems.length === 0) {
    const problem = valueProblem(definition, definition.default)
    if (problem !== undefined) problems.push(`default: ${problem}`)
  }
  if (problems.length > 0)
    throw new ThrottleError('THROTTLE_ERR_DECLARATION_INVALID', `knob ${name}: ${problems.join('; ')}`, { knob: name })
  return definition
}

/**
 * Why `v` does not fit the knob, and how: `type` for a value of the wrong kind (or a string
 * too long), `bounds` for one outside the bounds or not among an enum's values. Undefined
 * when it fits. Pure: the check the client applies to every value the collector sends, and
 * the collector to every value it is asked to set.
 */
export function valueFit(def: KnobDefinition, v: unknown): { kind: 'type' | 'bounds'; problem: string } | undefined {
  const type = (problem: string) => ({ kind: 'type' as const, problem })
  const bounds = (problem: string) => ({ kind: 'bounds' as const, problem })
  switch (def.type) {
    case 'int':
    case 'float':
    case 'percent':
      if (typeof v !== 'number' || !Number.isFinite(v))
        return type(`${JSON.stringify(v)} is not a finite number (${def.type} knob)`)
      if (def.type === 'int' && !Number.isInteger(v)) return type(`${v} is not a whole number (int knob)`)
      if ((def.min !== null && v < def.min) || (def.max !== null && v > def.max))
        return bounds(`${v} is outside the bounds [${def.min ?? '-∞'}, ${def.max ?? '∞'}]`)
      return undefined
    case 'bool':
      return typeof v === 'boolean' ? undefined : type(`${JSON.stringify(v)} is not true or false (bool knob)`)
    case 'enum':
      if (typeof v !== 'string') return type(`${JSON.stringify(v)} is not a string (enum knob)`)
      return def.values!.includes(v)
        ? undefined
        : bounds(`${JSON.stringify(v)} is not one of ${def.values!.map((x) => JSON.stringify(x)).join(', ')}`)
    case 'string':
      if (typeof v !== 'string') return type(`${JSON.stringify(v)} is not a string (string knob)`)
      return v.length > MAX_STRING ? type(`a string of ${v.length} characters is over ${MAX_STRING}`) : undefined
  }
}

/** Why `v` does not fit the knob (see `valueFit`), or undefined when it fits. */
export function valueProblem(def: KnobDefinition, v: unknown): string | undefined {
  return valueFit(def, v)?.problem
}

/** True when two definitions are the same (what the collector compares before it records a change). */
export function sameDefinition(a: KnobDefinition, b: KnobDefinition): boolean {
  return (
    a.type === b.type &&
    a.default === b.default &&
    a.min === b.min &&
    a.max === b.max &&
    a.unit === b.unit &&
    a.description === b.description &&
    a.owner === b.owner &&
    JSON.stringify(a.values) === JSON.stringify(b.values)
  )
}

/** The body of `PUT /api/v1/knobs/{service}/{name}`. */
export function declarationBody(def: KnobDefinition): Record<string, unknown> {
  const body: Record<string, unknown> = { type: def.type, default: def.default }
  if (def.min !== null) body.min = def.min
  if (def.max !== null) body.max = def.max
  if (def.values !== null) body.values = def.values
  if (def.unit !== '') body.unit = def.unit
  if (def.description !== '') body.description = def.description
  if (def.owner !== '') body.owner = def.owner
  return body
}
