import { randomUUID } from 'node:crypto'
import type { ChangeEventStore, EventFilter } from '../store/change-events.ts'
import type { ChangeEvent } from './types.ts'

export type { EventFilter } from '../store/change-events.ts'

/** Called with every event once it is stored. Must not throw. */
export type ChangeListener = (event: ChangeEvent) => void

/** An event to append; the id is generated when absent (an id given is an idempotency key). */
export type NewEvent = Omit<ChangeEvent, 'id' | 'recordedAt'> & { id?: string | undefined }

/**
 * The change log: one table of every change, in the store. Appends are idempotent by id
 * and serialised within this process, so the id check and the insert of two requests
 * carrying the same id never interleave. Listeners (chat, webhooks) hear of each new event.
 */
export class ChangeLog {
  readonly #events: ChangeEventStore
  readonly #listeners = new Set<ChangeListener>()
  #tail: Promise<unknown> = Promise.resolve()

  constructor(events: ChangeEventStore) {
    this.#events = events
  }

  subscribe(listener: ChangeListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /**
   * Stores the event unless one with its id exists. Resolves to the stored event and
   * whether this call created it. `prepare` runs inside the serialised section, just
   * before the insert, to fill fields that depend on earlier events (a deploy's rollback flag).
   */
  append(
    input: NewEvent,
    prepare?: (e: ChangeEvent) => Promise<void>,
  ): Promise<{ event: ChangeEvent; created: boolean }> {
    const run = async () => {
      if (input.id !== undefined) {
        const existing = await this.get(input.id)
        if (existing !== undefined) return { event: existing, created: false }
      }
      const event: ChangeEvent = { ...input, id: input.id ?? randomUUID(), recordedAt: Date.now() }
      if (prepare !== undefined) await prepare(event)
      await this.#events.insert(event)
      for (const l of this.#listeners) l(event)
      return { event, created: true }
    }
    const result = this.#tail.then(run, run)
    this.#tail = result.catch(() => undefined)
    return result
  }

  get(id: string): Promise<ChangeEvent | undefined> {
    return this.#events.get(id)
  }

  /** Events matching the filter, newest first. */
  list(f: EventFilter): Promise<ChangeEvent[]> {
    return this.#events.list(f)
  }

  /**
   * Events in the order they were stored, from `since` (epoch ms; strictly after
   * (since, afterId) when an id is given): a cursor for readers that must see every event,
   * such as the webhook outbox.
   */
  recordedAfter(since: number, afterId: string | undefined, limit: number): Promise<ChangeEvent[]> {
    return this.#events.recordedAfter(since, afterId, limit)
  }

  /** The last deploy of every service (and environment), or of one service. */
  lastDeploys(service?: string, environment?: string): Promise<ChangeEvent[]> {
    return this.#events.lastDeploys(service, environment)
  }

  /**
   * What a query over these services and [from, to) should show: their events in the range,
   * and the last deploy of each before it, so that the time of the last deploy is on every page.
   */
  async annotations(services: string[], from: number, to: number): Promise<ChangeEvent[]> {
    if (services.length === 0) return []
    const [inRange, before] = await Promise.all([
      this.#events.inRange(services, from, to),
      this.#events.lastDeploysBefore(services, from),
    ])
    return [...before.sort((a, b) => a.time - b.time), ...inRange]
  }

  /** Deploys of these services that started before `to`, oldest first. */
  async deploysUntil(services: string[], to: number): Promise<ChangeEvent[]> {
    if (services.length === 0) return []
    return this.#events.deploysUntil(services, to)
  }
}

/** An event as the API shows it: times as ISO 8601. */
export function eventJson(e: ChangeEvent): Record<string, unknown> {
  return {
    id: e.id,
    kind: e.kind,
    time: iso(e.time),
    time_end: iso(e.timeEnd),
    service: e.service,
    environment: e.environment,
    actor: e.actor,
    title: e.title,
    text: e.text,
    tags: e.tags,
    ...(e.version !== '' ? { version: e.version } : {}),
    data: e.data,
    recorded_at: iso(e.recordedAt),
  }
}

export function iso(ms: number): string {
  return new Date(ms).toISOString()
}
