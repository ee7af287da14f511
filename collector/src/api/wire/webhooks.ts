import {
  arrayOf,
  BOOLEAN,
  exactly,
  NULLABLE_STRING,
  NULLABLE_STRINGS,
  NULLABLE_TIME,
  NUMBER,
  STRING,
  STRINGS,
  TIME,
} from './schema.ts'

/**
 * Chat and webhook sinks (collector/src/api/webhooks.ts):
 *
 *   GET /api/v1/webhooks/deliveries   DeliveryListJson
 *   GET /api/v1/webhooks/sinks        SinkListJson
 */

export type DeliveryStatusJson = 'pending' | 'delivered' | 'failed' | 'disabled'

/** Where the delivery of one event to one sink stands. */
export interface DeliveryJson {
  sink: string
  event_id: string
  /** The `webhook-id` header a webhook sink receives; null for chat sinks. */
  webhook_id: string | null
  kind: string
  service: string
  event_recorded_at: string
  attempts: number
  status: DeliveryStatusJson
  /** The sink's last HTTP status; null before any answer. */
  last_status_code: number | null
  last_error: string | null
  /** When the next attempt is due; null unless pending. */
  next_attempt_at: string | null
  delivered_at: string | null
  updated_at: string
}

export interface DeliveryListJson {
  deliveries: DeliveryJson[]
  /** Sinks turned off after refusing deliveries. */
  disabled_sinks: string[]
}

export interface SinkJson {
  name: string
  type: 'slack' | 'webhook'
  /** With any secret in it redacted. */
  url: string
  /** The event kinds it receives; null for every kind. */
  kinds: string[] | null
  services: string[] | null
  signed: boolean
  disabled: boolean
  disabled_reason: string | null
  disabled_at: string | null
  /** Deliveries this collector holds that are not final yet. */
  pending: number
}

export interface SinkListJson {
  sinks: SinkJson[]
}

export const DELIVERY_JSON_SCHEMA = exactly({
  sink: STRING,
  event_id: STRING,
  webhook_id: NULLABLE_STRING,
  kind: STRING,
  service: STRING,
  event_recorded_at: TIME,
  attempts: NUMBER,
  status: { type: 'string', enum: ['pending', 'delivered', 'failed', 'disabled'] },
  last_status_code: { type: ['number', 'null'] },
  last_error: NULLABLE_STRING,
  next_attempt_at: NULLABLE_TIME,
  delivered_at: NULLABLE_TIME,
  updated_at: TIME,
} satisfies Record<keyof DeliveryJson, object>)

export const DELIVERY_LIST_JSON_SCHEMA = exactly({
  deliveries: arrayOf(DELIVERY_JSON_SCHEMA),
  disabled_sinks: STRINGS,
} satisfies Record<keyof DeliveryListJson, object>)

export const SINK_JSON_SCHEMA = exactly({
  name: STRING,
  type: { type: 'string', enum: ['slack', 'webhook'] },
  url: STRING,
  kinds: NULLABLE_STRINGS,
  services: NULLABLE_STRINGS,
  signed: BOOLEAN,
  disabled: BOOLEAN,
  disabled_reason: NULLABLE_STRING,
  disabled_at: NULLABLE_TIME,
  pending: NUMBER,
} satisfies Record<keyof SinkJson, object>)

export const SINK_LIST_JSON_SCHEMA = exactly({ sinks: arrayOf(SINK_JSON_SCHEMA) } satisfies Record<
  keyof SinkListJson,
  object
>)
