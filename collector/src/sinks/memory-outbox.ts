import type { ChangeListener } from '../changelog/change-log.ts'
import type { ChangeEvent } from '../changelog/types.ts'
import type { ChangeSource, DeliveryFilter, DeliveryState, OutboxScan, OutboxStore, ScanCursor } from './outbox.ts'

/**
 * An outbox and change log in memory, for tests and for embedders without a store: `append`
 * records an event and tells the listeners, as `ChangeLog.append` does. Set `failSaves`
 * to make `save` reject, as a store that is down would.
 */
export class MemoryOutbox implements OutboxStore, ChangeSource {
  readonly events: ChangeEvent[] = []
  readonly states = new Map<string, DeliveryState>()
  readonly registered = new Map<string, number>()
  readonly #listeners = new Set<ChangeListener>()
  failSaves = false
  /** Every state saved, in order: the history of each delivery. */
  readonly saved: DeliveryState[] = []

  subscribe(listener: ChangeListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** Stores the event, then tells every listener. */
  append(event: ChangeEvent): void {
    this.events.push(event)
    for (const l of this.#listeners) l(event)
  }

  async registerSinks(names: readonly string[], now: number): Promise<Map<string, number>> {
    for (const n of names) if (!this.registered.has(n)) this.registered.set(n, now)
    return new Map(names.map((n) => [n, this.registered.get(n)!]))
  }

  async scan(sinks: readonly string[], cursor: ScanCursor, limit: number): Promise<OutboxScan> {
    const after = (e: ChangeEvent) =>
      e.recordedAt > cursor.since ||
      (e.recordedAt === cursor.since && (cursor.afterId === undefined || e.id > cursor.afterId))
    const events = this.events
      .filter(after)
      .sort((a, b) => a.recordedAt - b.recordedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .slice(0, limit)
    const ids = new Set(events.map((e) => e.id))
    const states = [...this.states.values()].filter((s) => sinks.includes(s.sink) && ids.has(s.eventId))
    return { events: events.map((e) => structuredClone(e)), states: states.map((s) => ({ ...s })) }
  }

  async save(state: DeliveryState): Promise<void> {
    if (this.failSaves) throw new Error('outbox unavailable')
    const key = `${state.sink}\n${state.eventId}`
    const prev = this.states.get(key)
    if (prev === undefined || prev.updatedAt <= state.updatedAt) this.states.set(key, { ...state })
    this.saved.push({ ...state })
  }

  async list(f: DeliveryFilter): Promise<DeliveryState[]> {
    return [...this.states.values()]
      .filter((s) => (f.sink === undefined || s.sink === f.sink) && (f.status === undefined || s.status === f.status))
      .sort((a, b) => b.eventRecordedAt - a.eventRecordedAt)
      .slice(0, f.limit)
      .map((s) => ({ ...s }))
  }
}
