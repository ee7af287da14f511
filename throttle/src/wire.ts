import { KNOB_TYPES, type KnobType, type KnobValue } from './declaration.ts'
import type { KnobMode } from './remote-knob.ts'

/**
 * The knob resource as the collector's HTTP API and live stream carry it, written once, here:
 * the collector serializes its answers with these schemas (JSON Schema, as fastify takes
 * them), this library and the collector's web UI read these types, and tests check real
 * answers against the schemas (every field required, none other allowed, so an answer that
 * fits the schema has exactly the fields of the type).
 *
 *   GET  /api/v1/knobs                     KnobListJson
 *   GET  /api/v1/knobs/{service}/{name}    KnobDetailJson
 *   PUT, POST …/value, …/mode, …/pin, …    KnobJson
 *   GET  /api/v1/knobs/stream              event: snapshot KnobListJson | event: knob KnobJson
 *
 * Plain objects, no schema library: apps install this package with nothing else.
 */

/** One knob: its definition, where it stands, and its last change. */
export interface KnobJson {
  service: string
  name: string
  type: KnobType
  default: KnobValue
  /** Bounds of int, float and percent knobs; null when unbounded or not a number knob. */
  min: number | null
  max: number | null
  /** An enum knob's values; null for other knobs. */
  values: string[] | null
  unit: string
  description: string
  owner: string
  mode: KnobMode
  value: KnobValue
  version: number
  /** ISO 8601, UTC. */
  changed_at: string
  changed_by: string
  reason: string
  /** Id of the change-log event of the last change. */
  change_id: string
  /** Nobody has set it since it was declared: a new declaration moves it to its new default. */
  follows_default: boolean
  /** Why the value does not fit the definition (a declaration kept a value somebody set), or null. */
  conflict: string | null
}

/** One version of a knob, in its history. */
export interface KnobVersionJson {
  version: number
  value: KnobValue
  mode: KnobMode
  changed_at: string
  changed_by: string
  reason: string
  change_id: string
}

/** A knob with its history, newest version first. */
export interface KnobDetailJson extends KnobJson {
  history: KnobVersionJson[]
}

/** A list of knobs, and the live stream's snapshot. */
export interface KnobListJson {
  knobs: KnobJson[]
}

const VALUE = { type: ['number', 'string', 'boolean'] } as const
const MODE = { type: 'string', enum: ['manual', 'auto', 'pinned'] } as const
const TIME = { type: 'string', format: 'date-time' } as const
const STRING = { type: 'string' } as const

/** An object schema whose every property is required and which allows no other. */
function exactly<P extends Record<string, object>>(properties: P) {
  return { type: 'object', properties, required: Object.keys(properties), additionalProperties: false } as const
}

const KNOB_PROPERTIES = {
  service: STRING,
  name: STRING,
  type: { type: 'string', enum: [...KNOB_TYPES] },
  default: VALUE,
  min: { type: ['number', 'null'] },
  max: { type: ['number', 'null'] },
  values: { type: ['array', 'null'], items: STRING },
  unit: STRING,
  description: STRING,
  owner: STRING,
  mode: MODE,
  value: VALUE,
  version: { type: 'integer', minimum: 1 },
  changed_at: TIME,
  changed_by: STRING,
  reason: STRING,
  change_id: STRING,
  follows_default: { type: 'boolean' },
  conflict: { type: ['string', 'null'] },
} satisfies Record<keyof KnobJson, object>

const VERSION_PROPERTIES = {
  version: { type: 'integer', minimum: 1 },
  value: VALUE,
  mode: MODE,
  changed_at: TIME,
  changed_by: STRING,
  reason: STRING,
  change_id: STRING,
} satisfies Record<keyof KnobVersionJson, object>

export const KNOB_JSON_SCHEMA = exactly(KNOB_PROPERTIES)
export const KNOB_VERSION_JSON_SCHEMA = exactly(VERSION_PROPERTIES)
export const KNOB_DETAIL_JSON_SCHEMA = exactly({
  ...KNOB_PROPERTIES,
  history: { type: 'array', items: KNOB_VERSION_JSON_SCHEMA },
} satisfies Record<keyof KnobDetailJson, object>)
export const KNOB_LIST_JSON_SCHEMA = exactly({ knobs: { type: 'array', items: KNOB_JSON_SCHEMA } } satisfies Record<
  keyof KnobListJson,
  object
>)
