import type { ClickHouseClient } from '@clickhouse/client'
import type {
  DeliveryFilter,
  DeliveryState,
  DeliveryStatus,
  OutboxScan,
  OutboxStore,
  ScanCursor,
} from '../model/webhook-delivery.ts'
import type { ChangeEventStore } from './change-events.ts'

interface StateRow {
  sink: string
  event_id: string
  kind: string
  service: string
  event_recorded_ms: string
  attempts: number
  status: string
  next_attempt_ms: string
  last_status_code: number
  last_error: string
  delivered_ms: string
  updated_ms: string
}

// Times are read as epoch ms under names of their own: an alias named like its column would
// replace the column in WHERE and ORDER BY (ClickHouse resolves aliases first).
const STATE_COLUMNS = `sink, event_id, kind, service, toUnixTimestamp64Milli(event_recorded_at) AS event_recorded_ms, attempts, status,
  toUnixTimestamp64Milli(next_attempt_at) AS next_attempt_ms, last_status_code, last_error,
  toUnixTimestamp64Milli(delivered_at) AS delivered_ms, toUnixTimestamp64Milli(updated_at) AS updated_ms`

/**
 * The outbox in ClickHouse: the `events` table is the queue, `webhook_deliveries` holds the
 * latest state of each delivery (a ReplacingMergeTree keyed by (sink, event_id) whose
 * newest `updated_at` wins, read with FINAL), `webhook_sinks` when each sink was added.
 */
export class ClickHouseOutbox implements OutboxStore {
  readonly #client: ClickHouseClient
  readonly #db: string
  readonly #events: ChangeEventStore

  constructor(client: ClickHouseClient, db: string, events: ChangeEventStore) {
    this.#client = client
    this.#db = db
    this.#events = events
  }

  async registerSinks(names: readonly string[], now: number): Promise<Map<string, number>> {
    const rs = await this.#client.query({
      query: `SELECT name, toUnixTimestamp64Milli(min(registered_at)) AS registered_ms FROM ${this.#db}.webhook_sinks
  WHERE name IN {names:Array(String)} GROUP BY name`,
      query_params: { names },
      format: 'JSONEachRow',
    })
    const known = new Map(
      (await rs.json<{ name: string; registered_ms: string }>()).map((r) => [r.name, Number(r.registered_ms)]),
    )
    const fresh = names.filter((n) => !known.has(n))
    if (fresh.length > 0) {
      await this.#client.insert({
        table: `${this.#db}.webhook_sinks`,
        values: fresh.map((name) => ({ name, registered_at: dt(now) })),
        format: 'JSONEachRow',
      })
      for (const n of fresh) known.set(n, now)
    }
    return known
  }

  async scan(sinks: readonly string[], cursor: ScanCursor, limit: number): Promise<OutboxScan> {
    const events = await this.#events.recordedAfter(cursor.since, cursor.afterId, limit)
    if (events.length === 0) return { events, states: [] }
    const states = await this.#client.query({
      query: `SELECT ${STATE_COLUMNS} FROM ${this.#db}.webhook_deliveries FINAL
  WHERE sink IN {sinks:Array(String)} AND event_id IN {ids:Array(String)}`,
      query_params: { sinks, ids: events.map((e) => e.id) },
      format: 'JSONEachRow',
    })
    return { events, states: (await states.json<StateRow>()).map(stateFromRow) }
  }

  async save(s: DeliveryState): Promise<void> {
    await this.#client.insert({
      table: `${this.#db}.webhook_deliveries`,
      values: [
        {
          sink: s.sink,
          event_id: s.eventId,
          kind: s.kind,
          service: s.service,
          event_recorded_at: dt(s.eventRecordedAt),
          attempts: s.attempts,
          status: s.status,
          next_attempt_at: dt(s.nextAttemptAt),
          last_status_code: s.lastStatusCode,
          last_error: s.lastError,
          delivered_at: dt(s.deliveredAt),
          updated_at: dt(s.updatedAt),
        },
      ],
      format: 'JSONEachRow',
    })
  }

  async list(f: DeliveryFilter): Promise<DeliveryState[]> {
    const where: string[] = []
    const params: Record<string, unknown> = { limit: f.limit }
    if (f.sink !== undefined) {
      where.push('sink = {sink:String}')
      params.sink = f.sink
    }
    if (f.status !== undefined) {
      where.push('status = {status:String}')
      params.status = f.status
    }
    const rs = await this.#client.query({
      query: `SELECT ${STATE_COLUMNS} FROM ${this.#db}.webhook_deliveries FINAL ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
  ORDER BY event_recorded_at DESC, event_id, sink LIMIT {limit:UInt32}`,
      query_params: params,
      format: 'JSONEachRow',
    })
    return (await rs.json<StateRow>()).map(stateFromRow)
  }
}

function stateFromRow(r: StateRow): DeliveryState {
  return {
    sink: r.sink,
    eventId: r.event_id,
    kind: r.kind,
    service: r.service,
    eventRecordedAt: Number(r.event_recorded_ms),
    attempts: Number(r.attempts),
    status: r.status as DeliveryStatus,
    nextAttemptAt: Number(r.next_attempt_ms),
    lastStatusCode: Number(r.last_status_code),
    lastError: r.last_error,
    deliveredAt: Number(r.delivered_ms),
    updatedAt: Number(r.updated_ms),
  }
}

/** DateTime64(3) text for an epoch-ms time, which the UTC columns read as UTC. */
function dt(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '')
}
