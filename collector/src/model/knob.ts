/** A knob's definition, value and state: the shapes the knob service, the store and the API share. */

/** The kinds of knob: numbers with bounds, switches, percentage rollouts, choices, text. */
export const KNOB_TYPES = ['int', 'float', 'bool', 'percent', 'enum', 'string'] as const
export type KnobType = (typeof KNOB_TYPES)[number]
export type KnobValue = number | boolean | string

/** What an app declares in code: the type, the default, the bounds, and words for ops. */
export interface KnobDefinition {
  type: KnobType
  default: KnobValue
  /** Bounds of int, float and percent knobs (percent: 0 to 100 unless narrower). */
  min: number | null
  max: number | null
  /** Allowed values of an enum knob. */
  values: string[] | null
  unit: string
  description: string
  owner: string
}

/** manual: ops set it; auto: a controller drives it inside its bounds; pinned: ops override everything. */
export type KnobMode = 'manual' | 'auto' | 'pinned'
export const KNOB_MODES: readonly KnobMode[] = ['manual', 'auto', 'pinned']

/** A knob as it is now. */
export interface KnobState {
  service: string
  name: string
  definition: KnobDefinition
  mode: KnobMode
  value: KnobValue
  version: number
  changedAt: number
  actor: string
  reason: string
  /** Id of the change-log event of the last change. */
  changeId: string
  /**
   * True while the value is the declaration's: nobody (person, controller, pin, mode switch)
   * has changed the knob since it was declared, so a new declaration moves it to its new
   * default. Absent: the value was set, and declarations keep it.
   */
  declared?: boolean
}
