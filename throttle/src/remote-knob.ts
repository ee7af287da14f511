import { KNOB_TYPES, valueProblem, type KnobDefinition, type KnobType } from './declaration.ts'

/** How the collector runs a knob: ops set it, a controller drives it, or it is pinned. */
export type KnobMode = 'manual' | 'auto' | 'pinned'

/** A knob as the collector shows it (`GET /api/v1/knobs/{service}/{name}`, the live stream). */
export interface RemoteKnob {
  name: string
  /** The definition the collector holds, which may differ from this app's declaration. */
  definition: KnobDefinition
  value: unknown
  mode: KnobMode
  version: number
  /** Id of the change-log event of the last change. */
  changeId: string
  changedBy: string
  reason: string
  /** ISO 8601. */
  changedAt: string
  /** The object as the collector sent it. */
  json: Record<string, unknown>
}

/**
 * Reads a knob object the collector sent, or says why it cannot (a problem string). Pure.
 * The value is not checked here: the caller checks it against the declaration it trusts.
 */
export function parseRemoteKnob(x: unknown): RemoteKnob | string {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return 'a knob must be a JSON object'
  const j = x as Record<string, unknown>
  if (typeof j.name !== 'string' || j.name === '') return 'a knob has no name'
  if (!KNOB_TYPES.includes(j.type as KnobType)) return `knob ${j.name} has an unknown type ${JSON.stringify(j.type)}`
  if (!('value' in j)) return `knob ${j.name} has no value`
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null)
  const str = (v: unknown) => (typeof v === 'string' ? v : '')
  const definition: KnobDefinition = {
    type: j.type as KnobType,
    default: j.default as KnobDefinition['default'],
    min: num(j.min),
    max: num(j.max),
    values: Array.isArray(j.values) && j.values.every((v) => typeof v === 'string') ? (j.values as string[]) : null,
    unit: str(j.unit),
    description: str(j.description),
    owner: str(j.owner),
  }
  const mode = j.mode === 'auto' || j.mode === 'pinned' ? j.mode : 'manual'
  return {
    name: j.name,
    definition,
    value: j.value,
    mode,
    version: typeof j.version === 'number' && Number.isInteger(j.version) ? j.version : 0,
    changeId: str(j.change_id),
    changedBy: str(j.changed_by),
    reason: str(j.reason),
    changedAt: str(j.changed_at),
    json: j,
  }
}

/** Why the value of a knob the app did not declare does not fit the collector's own definition, or undefined. */
export function remoteValueProblem(k: RemoteKnob): string | undefined {
  if (k.definition.type === 'enum' && k.definition.values === null) return `enum knob ${k.name} has no values`
  return valueProblem(k.definition, k.value)
}
