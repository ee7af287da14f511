import { arrayOf, BOOLEAN, exactly, MEASURED, NUMBER, someOf, STRING, STRINGS, TIME } from './schema.ts'

/**
 * SLOs and the deploy gate (collector/src/api/slos.ts):
 *
 *   PUT    /api/v1/slos/{service}/{name}   SloAnswerJson (201 created; the status when it can be computed)
 *   GET    /api/v1/slos?service=           SloListJson
 *   GET    /api/v1/slos/{service}/{name}   SloDetailJson
 *   DELETE /api/v1/slos/{service}/{name}   DeletedJson
 *   GET    /api/v1/gate?service=           GateJson
 */

/** Attribute → value, or any of several values (`!v` leaves v out). */
export type AttributeFilterJson = Record<string, string | string[]>

/** What the SLI reads: one of three types, and the series it reads. */
export interface SliJson {
  type: 'latency' | 'error_ratio' | 'gauge_max'
  metric: string
  /** latency */
  percentile?: number
  threshold_ms?: number
  /** error_ratio: which series count as errors. */
  errors?: AttributeFilterJson
  /** gauge_max */
  max?: number
  filter?: AttributeFilterJson
}

/** An SLO's definition: its SLI, its objective (a percentage) and its window (`30d`). */
export interface SloDefinitionJson {
  sli: SliJson
  objective: number
  window: string
  /** Absent when empty. */
  description?: string
}

/** An SLO as stored, with its last change. */
export interface SloJson extends SloDefinitionJson {
  service: string
  name: string
  version: number
  changed_at: string
  changed_by: string
  reason: string
  change_id: string
}

export interface BurnRateJson {
  long_window: string
  short_window: string
  threshold: number
  severity: 'page' | 'ticket'
  /** Burn rates; null without events. */
  long: number | null
  short: number | null
  firing: boolean
  /** Windows floored, or a short window with no data point (absent when nothing to say). */
  notes?: string[]
}

export type SloStateJson = 'ok' | 'spent' | 'no_data' | 'error'

/** Where an SLO stands over its window. */
export interface SloStatusJson {
  /** Percentage of good events; null without events. */
  current_sli: number | null
  events: { bad: number; total: number }
  error_budget_remaining: number
  burn_rates: BurnRateJson[]
  alert: 'ok' | 'page' | 'ticket'
  state: SloStateJson
  /** Why the SLI cannot be read. */
  error?: string
}

export type SloWithStatusJson = SloJson & SloStatusJson

/**
 * An SLO with its status, or without it (and with an `error` when it was asked for) when the
 * store could not compute it: the answer of a PUT and of the services' pages.
 */
export type SloAnswerJson = SloJson & Partial<SloStatusJson>

export interface SloVersionJson extends SloDefinitionJson {
  version: number
  changed_at: string
  changed_by: string
  reason: string
  change_id: string
}

export type SloDetailJson = SloWithStatusJson & { history: SloVersionJson[] }

export interface SloListJson {
  slos: SloWithStatusJson[]
}

/** The answer of a DELETE of an SLO or a controller. */
export interface DeletedJson {
  deleted: true
  service: string
  name: string
  /** The version deleted. */
  version: number
}

export interface GateSloJson {
  name: string
  state: SloStateJson
  error_budget_remaining: number
  alert: string
  error?: string
}

/** Whether a deploy may go out, and why. */
export interface GateJson {
  allowed: boolean
  service: string
  outcome: 'allowed' | 'denied' | 'overridden'
  reasons: string[]
  warnings: string[]
  rollback: boolean
  override: { actor: string; reason: string } | null
  slos: GateSloJson[]
}

const FILTER = { type: 'object', additionalProperties: { anyOf: [STRING, STRINGS] } } as const
const STATE = { type: 'string', enum: ['ok', 'spent', 'no_data', 'error'] } as const

const SLI_JSON_SCHEMA = someOf(
  {
    type: { type: 'string', enum: ['latency', 'error_ratio', 'gauge_max'] },
    metric: STRING,
    percentile: NUMBER,
    threshold_ms: NUMBER,
    errors: FILTER,
    max: NUMBER,
    filter: FILTER,
  } satisfies Record<keyof SliJson, object>,
  ['percentile', 'threshold_ms', 'errors', 'max', 'filter'],
)

const DEFINITION_PROPERTIES = {
  sli: SLI_JSON_SCHEMA,
  objective: NUMBER,
  window: STRING,
  description: STRING,
} satisfies Record<keyof SloDefinitionJson, object>

const CHANGE_PROPERTIES = {
  version: NUMBER,
  changed_at: TIME,
  changed_by: STRING,
  reason: STRING,
  change_id: STRING,
}

const SLO_PROPERTIES = {
  service: STRING,
  name: STRING,
  ...DEFINITION_PROPERTIES,
  ...CHANGE_PROPERTIES,
} satisfies Record<keyof SloJson, object>

const BURN_RATE_JSON_SCHEMA = someOf(
  {
    long_window: STRING,
    short_window: STRING,
    threshold: NUMBER,
    severity: { type: 'string', enum: ['page', 'ticket'] },
    long: MEASURED,
    short: MEASURED,
    firing: BOOLEAN,
    notes: STRINGS,
  } satisfies Record<keyof BurnRateJson, object>,
  ['notes'],
)

const STATUS_PROPERTIES = {
  current_sli: MEASURED,
  events: exactly({ bad: NUMBER, total: NUMBER }),
  // Measured: a budget over data whose ratio is not a number reads null, as it always has.
  error_budget_remaining: MEASURED,
  burn_rates: arrayOf(BURN_RATE_JSON_SCHEMA),
  alert: { type: 'string', enum: ['ok', 'page', 'ticket'] },
  state: STATE,
  error: STRING,
} satisfies Record<keyof SloStatusJson, object>

const STATUS_KEYS = Object.keys(STATUS_PROPERTIES) as (keyof SloStatusJson)[]

export const SLO_WITH_STATUS_JSON_SCHEMA = someOf({ ...SLO_PROPERTIES, ...STATUS_PROPERTIES }, ['description', 'error'])
export const SLO_ANSWER_JSON_SCHEMA = someOf({ ...SLO_PROPERTIES, ...STATUS_PROPERTIES }, [
  'description',
  ...STATUS_KEYS,
])
export const SLO_LIST_JSON_SCHEMA = exactly({ slos: arrayOf(SLO_WITH_STATUS_JSON_SCHEMA) } satisfies Record<
  keyof SloListJson,
  object
>)
export const SLO_VERSION_JSON_SCHEMA = someOf(
  { ...DEFINITION_PROPERTIES, ...CHANGE_PROPERTIES } satisfies Record<keyof SloVersionJson, object>,
  ['description'],
)
export const SLO_DETAIL_JSON_SCHEMA = someOf(
  { ...SLO_PROPERTIES, ...STATUS_PROPERTIES, history: arrayOf(SLO_VERSION_JSON_SCHEMA) } satisfies Record<
    keyof SloDetailJson,
    object
  >,
  ['description', 'error'],
)

export const DELETED_JSON_SCHEMA = exactly({
  deleted: { type: 'boolean', enum: [true] },
  service: STRING,
  name: STRING,
  version: NUMBER,
} satisfies Record<keyof DeletedJson, object>)

export const GATE_JSON_SCHEMA = exactly({
  allowed: BOOLEAN,
  service: STRING,
  outcome: { type: 'string', enum: ['allowed', 'denied', 'overridden'] },
  reasons: STRINGS,
  warnings: STRINGS,
  rollback: BOOLEAN,
  override: {
    type: ['object', 'null'],
    properties: { actor: STRING, reason: STRING },
    required: ['actor', 'reason'],
    additionalProperties: false,
  },
  slos: arrayOf(
    someOf(
      {
        name: STRING,
        state: STATE,
        error_budget_remaining: MEASURED,
        alert: STRING,
        error: STRING,
      } satisfies Record<keyof GateSloJson, object>,
      ['error'],
    ),
  ),
} satisfies Record<keyof GateJson, object>)
