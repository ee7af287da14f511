import { DELETED_JSON_SCHEMA, type DeletedJson } from './slos.ts'
import { arrayOf, BOOLEAN, exactly, MEASURED, NUMBER, someOf, STRING, STRINGS, TIME } from './schema.ts'

/**
 * Controller bindings (collector/src/api/controllers.ts):
 *
 *   PUT    /api/v1/controllers/{service}/{name}   ControllerPutJson (201 created)
 *   GET    /api/v1/controllers?service=           ControllerListJson
 *   GET    /api/v1/controllers/{service}/{name}   ControllerDetailJson
 *   DELETE /api/v1/controllers/{service}/{name}   ControllerDeletedJson
 */

export type ControllerModeJson = 'active' | 'shadow' | 'off'
export type KnobModeJson = 'manual' | 'auto' | 'pinned'

/** A controller's definition, every field filled (defaults included). */
export interface ControllerDefinitionJson {
  knob: string
  slo: string
  algorithm: string
  params: Record<string, number>
  interval_ms: number
  min: number
  max: number
  max_step: number
  cooldown_ms: number
  dead_band: number
  mode: ControllerModeJson
  /** How raising the knob moves the SLI. */
  effect: 'raises' | 'lowers'
  /** A guard SLO the controller must not break, or null. */
  guard: { slo: string; decrease: number; headroom: number } | null
}

/** What the runner last read. */
export interface ObservationJson {
  at: string
  sli: number | null
  target: number
  value: number
  burn_rate: number | null
  text: string
  /** Limiter knobs: how much of the limit is in use, and the limiter's own limit. */
  in_use?: number
  limiter_limit?: number
  guard?: { sli: number | null; target: number; text: string | null }
}

/** What the runner last decided. */
export interface DecisionJson {
  at: string
  kind: string
  value: number | null
  reason: string
  applied: boolean
}

export interface ControllerJson extends ControllerDefinitionJson {
  service: string
  name: string
  /** Absent when empty. */
  description?: string
  version: number
  changed_at: string
  changed_by: string
  reason: string
  change_id: string
  last_observation: ObservationJson | null
  last_decision: DecisionJson | null
  /** Why the controller holds the knob still, and since when; null while it steers. */
  holding: { kind: string; reason: string; since: string } | null
}

/** The answer of a PUT: the binding, the knob's mode, and what will not work as expected. */
export interface ControllerPutJson extends ControllerJson {
  knob_mode: KnobModeJson
  warnings?: string[]
}

export interface ControllerVersionJson extends ControllerDefinitionJson {
  /** As stored, empty included. */
  description: string
  version: number
  changed_at: string
  changed_by: string
  reason: string
  change_id: string
}

export interface ControllerDetailJson extends ControllerJson {
  history: ControllerVersionJson[]
}

export interface ControllerListJson {
  controllers: ControllerJson[]
}

/** A deleted binding; `knob_mode` when the knob was left to another mode. */
export interface ControllerDeletedJson extends DeletedJson {
  knob_mode?: KnobModeJson
}

const KNOB_MODE = { type: 'string', enum: ['manual', 'auto', 'pinned'] } as const
const NULLABLE_OBJECT = { type: ['object', 'null'] } as const

const DEFINITION_PROPERTIES = {
  knob: STRING,
  slo: STRING,
  algorithm: STRING,
  params: { type: 'object', additionalProperties: NUMBER },
  interval_ms: NUMBER,
  min: NUMBER,
  max: NUMBER,
  max_step: NUMBER,
  cooldown_ms: NUMBER,
  dead_band: NUMBER,
  mode: { type: 'string', enum: ['active', 'shadow', 'off'] },
  effect: { type: 'string', enum: ['raises', 'lowers'] },
  guard: {
    ...NULLABLE_OBJECT,
    properties: { slo: STRING, decrease: NUMBER, headroom: NUMBER },
    required: ['slo', 'decrease', 'headroom'],
    additionalProperties: false,
  },
} satisfies Record<keyof ControllerDefinitionJson, object>

const CHANGE_PROPERTIES = {
  version: NUMBER,
  changed_at: TIME,
  changed_by: STRING,
  reason: STRING,
  change_id: STRING,
}

const OBSERVATION_PROPERTIES = {
  at: TIME,
  sli: MEASURED,
  target: MEASURED,
  value: MEASURED,
  burn_rate: MEASURED,
  text: STRING,
  in_use: MEASURED,
  limiter_limit: MEASURED,
  guard: exactly({ sli: MEASURED, target: MEASURED, text: { type: ['string', 'null'] } }),
} satisfies Record<keyof ObservationJson, object>

const DECISION_PROPERTIES = {
  at: TIME,
  kind: STRING,
  value: MEASURED,
  reason: STRING,
  applied: BOOLEAN,
} satisfies Record<keyof DecisionJson, object>

const CONTROLLER_PROPERTIES = {
  service: STRING,
  name: STRING,
  ...DEFINITION_PROPERTIES,
  description: STRING,
  ...CHANGE_PROPERTIES,
  last_observation: {
    ...NULLABLE_OBJECT,
    properties: OBSERVATION_PROPERTIES,
    required: ['at', 'sli', 'target', 'value', 'burn_rate', 'text'],
    additionalProperties: false,
  },
  last_decision: {
    ...NULLABLE_OBJECT,
    properties: DECISION_PROPERTIES,
    required: Object.keys(DECISION_PROPERTIES),
    additionalProperties: false,
  },
  holding: {
    ...NULLABLE_OBJECT,
    properties: { kind: STRING, reason: STRING, since: TIME },
    required: ['kind', 'reason', 'since'],
    additionalProperties: false,
  },
} satisfies Record<keyof ControllerJson, object>

export const CONTROLLER_JSON_SCHEMA = someOf(CONTROLLER_PROPERTIES, ['description'])
export const CONTROLLER_PUT_JSON_SCHEMA = someOf(
  { ...CONTROLLER_PROPERTIES, knob_mode: KNOB_MODE, warnings: STRINGS } satisfies Record<
    keyof ControllerPutJson,
    object
  >,
  ['description', 'warnings'],
)
export const CONTROLLER_VERSION_JSON_SCHEMA = exactly({
  ...DEFINITION_PROPERTIES,
  description: STRING,
  ...CHANGE_PROPERTIES,
} satisfies Record<keyof ControllerVersionJson, object>)
export const CONTROLLER_DETAIL_JSON_SCHEMA = someOf(
  { ...CONTROLLER_PROPERTIES, history: arrayOf(CONTROLLER_VERSION_JSON_SCHEMA) } satisfies Record<
    keyof ControllerDetailJson,
    object
  >,
  ['description'],
)
export const CONTROLLER_LIST_JSON_SCHEMA = exactly({
  controllers: arrayOf(CONTROLLER_JSON_SCHEMA),
} satisfies Record<keyof ControllerListJson, object>)
export const CONTROLLER_DELETED_JSON_SCHEMA = someOf(
  { ...DELETED_JSON_SCHEMA.properties, knob_mode: KNOB_MODE } satisfies Record<keyof ControllerDeletedJson, object>,
  ['knob_mode'],
)
