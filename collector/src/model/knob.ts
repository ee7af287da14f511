/** A knob's definition, value and state: the shapes the knob service, the store and the API share. */

// The knob model is the library's: apps and the collector read one definition, checked one way.
import type { KnobDefinition, KnobValue } from '@governor/throttle'

export { KNOB_TYPES, type KnobDefinition, type KnobType, type KnobValue } from '@governor/throttle'

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
