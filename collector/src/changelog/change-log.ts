import { randomUUID } from 'node:crypto'
import type { ClickHouseClient } from '@clickhouse/client'
import type { ChangeEvent } from './types.ts'
import { DEPLOY_KIND } from './types.ts'

/** Called with every event once it is stored. Must not throw. */
export type ChangeListener = (event: ChangeEvent) => void

export interface EventFilter {
  /** Full-text search: every word must appear in the title, text, tags, service, version or actor. */
  q?: string | undefined
  service?: string | undefined
  kind?: string | undefined
  environment?: string | undefined
  from?: number | undefined
  to?: number | undefined
  limit: number
}

/** An event to append; the id is generated when absent (an id given is an idempotency key). */
export type NewEvent = Omit<ChangeEvent, 'id' | 'recordedAt'> & { id?: string | undefined }

interface EventRow {
  id: string; kind: string; time_ms: string; time_end_ms: string; service: string; environment: string; actor: string
  title: string; text: string; tags: string[]; version: string; data: string; recorded_at_ms: string
}

// Aliases differ from the column names: ClickHouse resolves WHERE names to SELECT aliases
// first, and `time < …` must compare the DateTime64 column, not its milliseconds.
const COLUMNS = `id, kind, toUnixTimestamp64Milli(time) AS time_ms, toUnixTimestamp64Milli(time_end) AS time_end_ms, service,
  environment, actor, title, text, tags, version, data, toUnixTimestamp64Milli(recorded_at) AS recorded_at_ms`

/**
 * The change log: one table of every change, in the store. Appends are idempotent by id
 * and serialised within this process, so the id check and the insert of two requests
 * carrying the same id never interleave. Listeners (chat, webhooks) hear of each new event.
 */
export class ChangeLog {
  readonly #client: ClickHouseClient
  readonly #table: string
  readonly #listeners = new Set<ChangeListener>()
  #tail: Promise<unknown> = Promise.resolve()

  constructor(client: ClickHouseClient, db: string) {
    this.#client = client
    this.#table = `${db}.events`
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
  append(input: NewEvent, prepare?: (e: ChangeEvent) => Promise<void>): Promise<{ event: ChangeEvent; created: boolean }> {
    const run = async () => {
      if (input.id !== undefined) {
        const existing = await this.get(input.id)
        if (existing !== undefined) return { event: existing, created: false }
      }
      const event: ChangeEvent = { ...input, id: input.id ?? randomUUID(), recordedAt: Date.now() }
      if (prepare !== undefined) await prepare(event)
      await this.#client.insert({
        table: this.#table,
        values: [{
          id: event.id, kind: event.kind, time: dt(event.time), time_end: dt(event.timeEnd), service: event.service,
          environment: event.environment, actor: event.actor, title: event.title, text: event.text, tags: event.tags,
          version: event.version, data: JSON.stringify(event.data), recorded_at: dt(event.recordedAt),
        }],
        format: 'JSONEachRow',
      })
      for (const l of this.#listeners) l(event)
      return { event, created: true }
    }
    const result = this.#tail.then(run, run)
    this.#tail = result.catch(() => undefined)
    return result
  }

  async get(id: string): Promise<ChangeEvent | undefined> {
    const rows = await this.#select(`WHERE id = {id:String} LIMIT 1`, { id })
    return rows[0]
  }

  /** Events matching the filter, newest first. */
  async list(f: EventFilter): Promise<ChangeEvent[]> {
    const where: string[] = []
    const params: Record<string, unknown> = { limit: f.limit }
    if (f.service !== undefined) { where.push('service = {service:String}'); params.service = f.service }
    if (f.kind !== undefined) { where.push('kind = {kind:String}'); params.kind = f.kind }
    if (f.environment !== undefined) { where.push('environment = {environment:String}'); params.environment = f.environment }
    if (f.from !== undefined) { where.push('time_end >= fromUnixTimestamp64Milli({from:Int64})'); params.from = f.from }
    if (f.to !== undefined) { where.push('time <= fromUnixTimestamp64Milli({to:Int64})'); params.to = f.to }
    if (f.q !== undefined && f.q.trim() !== '') {
      // The same tokenizer as the index, so every query word is looked up as the index saw it.
      where.push(`hasAllTokens(search, tokens(lower({q:String}), 'splitByNonAlpha'))`)
      params.q = f.q
    }
    return this.#select(`${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY time_end DESC, recorded_at DESC LIMIT {limit:UInt32}`, params)
  }

  /**
   * Events in the order they were stored, from `since` (epoch ms; strictly after
   * (since, afterId) when an id is given): a cursor for readers that must see every event,
   * such as the webhook outbox.
   */
  recordedAfter(since: number, afterId: string | undefined, limit: number): Promise<ChangeEvent[]> {
    const after = afterId === undefined
      ? 'recorded_at >= fromUnixTimestamp64Milli({since:Int64})'
      : '(recorded_at, id) > (fromUnixTimestamp64Milli({since:Int64}), {afterId:String})'
    return this.#select(`WHERE ${after} ORDER BY recorded_at, id LIMIT {limit:UInt32}`, { since, afterId: afterId ?? '', limit })
  }

  /** The last deploy of every service (and environment), or of one service. */
  async lastDeploys(service?: string, environment?: string): Promise<ChangeEvent[]> {
    const params: Record<string, unknown> = { kind: DEPLOY_KIND }
    let where = 'kind = {kind:String}'
    if (service !== undefined) { where += ' AND service = {service:String}'; params.service = service }
    if (environment !== undefined) { where += ' AND environment = {environment:String}'; params.environment = environment }
    return this.#select(`WHERE ${where} ORDER BY time_end DESC, recorded_at DESC LIMIT 1 BY service, environment`, params)
  }

  /**
   * What a query over these services and [from, to) should show: their events in the range,
   * and the last deploy of each before it, so that the time of the last deploy is on every page.
   */
  async annotations(services: string[], from: number, to: number): Promise<ChangeEvent[]> {
    if (services.length === 0) return []
    const params = { services, from, to, kind: DEPLOY_KIND }
    const inRange = await this.#select(`WHERE service IN {services:Array(String)} AND time_end >= fromUnixTimestamp64Milli({from:Int64})
  AND time < fromUnixTimestamp64Milli({to:Int64}) ORDER BY time`, params)
    const before = await this.#select(`WHERE service IN {services:Array(String)} AND kind = {kind:String} AND time_end < fromUnixTimestamp64Milli({from:Int64})
  ORDER BY time_end DESC LIMIT 1 BY service`, params)
    return [...before.sort((a, b) => a.time - b.time), ...inRange]
  }

  /** Deploys of these services that started before `to`, oldest first. */
  async deploysUntil(services: string[], to: number): Promise<ChangeEvent[]> {
    if (services.length === 0) return []
    return this.#select(`WHERE service IN {services:Array(String)} AND kind = {kind:String} AND time < fromUnixTimestamp64Milli({to:Int64}) ORDER BY time`,
      { services, to, kind: DEPLOY_KIND })
  }

  async #select(tail: string, params: Record<string, unknown>): Promise<ChangeEvent[]> {
    const rs = await this.#client.query({ query: `SELECT ${COLUMNS} FROM ${this.#table} FINAL ${tail}`, query_params: params, format: 'JSONEachRow' })
    return (await rs.json<EventRow>()).map(fromRow)
  }
}

function fromRow(r: EventRow): ChangeEvent {
  return {
    id: r.id, kind: r.kind, time: Number(r.time_ms), timeEnd: Number(r.time_end_ms), service: r.service, environment: r.environment,
    actor: r.actor, title: r.title, text: r.text, tags: r.tags, version: r.version,
    data: r.data === '' ? {} : JSON.parse(r.data) as Record<string, unknown>, recordedAt: Number(r.recorded_at_ms),
  }
}

/** DateTime64(3) text for an epoch-ms time, which the UTC columns read as UTC. */
function dt(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '')
}

/** An event as the API shows it: times as ISO 8601. */
export function eventJson(e: ChangeEvent): Record<string, unknown> {
  return {
    id: e.id, kind: e.kind, time: iso(e.time), time_end: iso(e.timeEnd), service: e.service, environment: e.environment,
    actor: e.actor, title: e.title, text: e.text, tags: e.tags, ...(e.version !== '' ? { version: e.version } : {}),
    data: e.data, recorded_at: iso(e.recordedAt),
  }
}

export function iso(ms: number): string {
  return new Date(ms).toISOString()
}
