import type { ChangeEvent } from './change-event.ts'

/**
 * Where a delivery (one event to one sink) stands.
 * - `pending`: not delivered yet; retried at `nextAttemptAt`.
 * - `delivered`: a 2xx answer; final.
 * - `failed`: given up after the retry time; final.
 * - `disabled`: the sink answered 410 Gone and is disabled until Governor restarts; not final,
 *   so a restart within the retry time tries again.
 */
export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'disabled'

export const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['pending', 'delivered', 'failed', 'disabled']

export function isFinal(status: DeliveryStatus): boolean {
  return status === 'delivered' || status === 'failed'
}

/** The latest state of one delivery, as the outbox stores it. Times are epoch ms, 0 for none. */
export interface DeliveryState {
  sink: string
  eventId: string
  kind: string
  service: string
  /** When the event was recorded: the retry time counts from here. */
  eventRecordedAt: number
  attempts: number
  status: DeliveryStatus
  nextAttemptAt: number
  /** HTTP status of the last answer; 0 when there was none (refused, timed out). */
  lastStatusCode: number
  lastError: string
  deliveredAt: number
  updatedAt: number
}

/** What a scan finds: one page of recent events, and the states of their deliveries to the sinks asked about. */
export interface OutboxScan {
  /** Events after the cursor, oldest first (by recorded time, then id). */
  events: ChangeEvent[]
  states: DeliveryState[]
}

/** Where a scan starts: events recorded at or after `since`; with `afterId`, only those after (since, afterId). */
export interface ScanCursor {
  since: number
  afterId?: string | undefined
}

export interface DeliveryFilter {
  sink?: string | undefined
  status?: DeliveryStatus | undefined
  limit: number
}

/**
 * The durable half of the sender. Nothing is ever queued here: pending deliveries are the
 * recent events of the change log that have no final state for a sink, so an event is
 * "queued" by the very insert that stores it, and a restart finds it again.
 */
export interface OutboxStore {
  /**
   * When each sink was first configured; a sink seen for the first time is registered at
   * `now`, so adding a sink does not replay the events recorded before it.
   */
  registerSinks(names: readonly string[], now: number): Promise<Map<string, number>>
  scan(sinks: readonly string[], cursor: ScanCursor, limit: number): Promise<OutboxScan>
  /** Writes the latest state of a delivery; the newest `updatedAt` wins. */
  save(state: DeliveryState): Promise<void>
  /** Delivery states, newest event first. */
  list(filter: DeliveryFilter): Promise<DeliveryState[]>
}
