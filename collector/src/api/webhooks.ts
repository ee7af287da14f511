import type { FastifyInstance } from 'fastify'
import { READ } from '../auth/roles.ts'
import { iso } from '../changelog/change-log.ts'
import { GovernorError } from '../errors.ts'
import { DELIVERY_STATUSES, type DeliveryState, type DeliveryStatus } from '../sinks/outbox.ts'
import { webhookId } from '../sinks/signature.ts'
import {
  DELIVERY_LIST_JSON_SCHEMA,
  SINK_LIST_JSON_SCHEMA,
  type DeliveryJson,
  type DeliveryListJson,
  type SinkListJson,
} from './wire/webhooks.ts'

type Q = Record<string, string | undefined>
const MAX_LIMIT = 1000

/** Chat and webhook sinks over HTTP: their delivery states and their configuration. */
export async function webhookRoutes(app: FastifyInstance): Promise<void> {
  const { webhooks } = app.governor

  const deliveries = { response: { 200: DELIVERY_LIST_JSON_SCHEMA } }
  app.get<{ Querystring: Q }>(
    '/webhooks/deliveries',
    { config: { roles: READ }, schema: deliveries },
    async (req): Promise<DeliveryListJson> => {
      const q = req.query
      const limit = q.limit === undefined || q.limit === '' ? 100 : Number(q.limit)
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
        throw new GovernorError(
          'GOV_ERR_QUERY_PARAM',
          `limit=${JSON.stringify(q.limit)}: expected a whole number from 1 to ${MAX_LIMIT}`,
        )
      }
      const status = q.status || undefined
      if (status !== undefined && !DELIVERY_STATUSES.includes(status as DeliveryStatus)) {
        throw new GovernorError(
          'GOV_ERR_QUERY_PARAM',
          `status=${JSON.stringify(status)}: expected one of ${DELIVERY_STATUSES.join(', ')}`,
        )
      }
      const states = await webhooks.deliveries({
        sink: q.sink || undefined,
        status: status as DeliveryStatus | undefined,
        limit,
      })
      const sinks = webhooks.sinks()
      const signed = new Set(sinks.filter((s) => s.type === 'webhook').map((s) => s.name))
      return {
        deliveries: states.map((s) => deliveryJson(s, signed.has(s.sink))),
        disabled_sinks: sinks.filter((s) => s.disabled).map((s) => s.name),
      }
    },
  )

  const sinks = { response: { 200: SINK_LIST_JSON_SCHEMA } }
  app.get('/webhooks/sinks', { config: { roles: READ }, schema: sinks }, async (): Promise<SinkListJson> => ({
    sinks: webhooks.sinks().map((s) => ({
      name: s.name,
      type: s.type,
      url: s.url,
      kinds: s.kinds === null ? null : [...s.kinds],
      services: s.services === null ? null : [...s.services],
      signed: s.signed,
      disabled: s.disabled,
      disabled_reason: s.disabledReason,
      disabled_at: s.disabledAt === null ? null : iso(s.disabledAt),
      pending: s.pending,
    })),
  }))
}

/** A delivery state as the API shows it; `webhook_id` is the header a webhook sink receives (null for chat sinks). */
function deliveryJson(s: DeliveryState, webhook: boolean): DeliveryJson {
  return {
    sink: s.sink,
    event_id: s.eventId,
    webhook_id: webhook ? webhookId(s.sink, s.eventId) : null,
    kind: s.kind,
    service: s.service,
    event_recorded_at: iso(s.eventRecordedAt),
    attempts: s.attempts,
    status: s.status,
    last_status_code: s.lastStatusCode === 0 ? null : s.lastStatusCode,
    last_error: s.lastError === '' ? null : s.lastError,
    next_attempt_at: s.status === 'pending' ? iso(s.nextAttemptAt) : null,
    delivered_at: s.deliveredAt === 0 ? null : iso(s.deliveredAt),
    updated_at: iso(s.updatedAt),
  }
}
