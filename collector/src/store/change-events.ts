import type { ClickHouseClient } from '@clickhouse/client'
import { DEPLOY_KIND, type ChangeEvent } from '../model/change-event.ts'

/** Which events `list` returns, newest first. */
export interface EventFilter {
  /** Full-text search: every word must appear in the title, text, tags, service, version, actor or kind. */
  q?: string | undefined
  service?: string | undefined
  kind?: string | undefined
  environment?: string | undefined
  /** Events that end at or after this time, epoch ms. */
  from?: number | undefined
  /** Events that start at or before this time, epoch ms. */
  to?: number | undefined
  limit: number
}

/**
 * Where the change log's events live: one row per event, kept by id (a second row of the
 * same id replaces the first). The change log (changelog/change-log.ts) adds idempotency,
 * ordering and listeners on top.
 */
export interface ChangeEventStore {
  insert(event: ChangeEvent): Promise<void>
  get(id: string): Promise<ChangeEvent | undefined>
  /** Events matching the filter, newest end first (then newest recorded). */
  list(filter: EventFilter): Promise<ChangeEvent[]>
  /**
   * Events in the order they were stored, from `since` (epoch ms; strictly after
   * (since, afterId) when an id is given), at most `limit`.
   */
  recordedAfter(since: number, afterId: string | undefined, limit: number): Promise<ChangeEvent[]>
  /** The last deploy (latest end) of every service and environment, or of one service, or one environment. */
  lastDeploys(service?: string, environment?: string): Promise<ChangeEvent[]>
  /** Events of these services overlapping [from, to), by start time. */
  inRange(services: readonly string[], from: number, to: number): Promise<ChangeEvent[]>
  /** The last deploy of each of these services that ended before `before`. */
  lastDeploysBefore(services: readonly string[], before: number): Promise<ChangeEvent[]>
  /** Deploys of these services that started before `to`, oldest first. */
  deploysUntil(services: readonly string[], to: number): Promise<ChangeEvent[]>
}

interface EventRow {
  id: string
  kind: string
  time_ms: string
  time_end_ms: string
  service: string
  environment: string
  actor: string
  title: string
  text: string
  tags: string[]
  version: string
  data: string
  recorded_at_ms: string
}

// Aliases differ from the column names: ClickHouse resolves WHERE names to SELECT aliases
// first, and `time < …` must compare the DateTime64 column, not its milliseconds.
const COLUMNS = `id, kind, toUnixTimestamp64Milli(time) AS time_ms, toUnixTimestamp64Milli(time_end) AS time_end_ms, service,
  environment, actor, title, text, tags, version, data, toUnixTimestamp64Milli(recorded_at) AS recorded_at_ms`

/** Events in `<db>.events` (a ReplacingMergeTree read with FINAL), searched through its text index. */
export class ClickHouseChangeEvents implements ChangeEventStore {
  readonly #client: ClickHouseClient
  readonly #table: string

  constructor(client: ClickHouseClient, db: string) {
    this.#client = client
    this.#table = `${db}.events`
  }

  async insert(event: ChangeEvent): Promise<void> {
    await this.#client.insert({
      table: this.#table,
      values: [
        {
          id: event.id,
          kind: event.kind,
          time: dt(event.time),
          time_end: dt(event.timeEnd),
          service: event.service,
          environment: event.environment,
          actor: event.actor,
          title: event.title,
          text: event.text,
          tags: event.tags,
          version: event.version,
          data: JSON.stringify(event.data),
          recorded_at: dt(event.recordedAt),
        },
      ],
      format: 'JSONEachRow',
    })
  }

  async get(id: string): Promise<ChangeEvent | undefined> {
    const rows = await this.#select(`WHERE id = {id:String} LIMIT 1`, { id })
    return rows[0]
  }

  list(f: EventFilter): Promise<ChangeEvent[]> {
    const where: string[] = []
    const params: Record<string, unknown> = { limit: f.limit }
    if (f.service !== undefined) {
      where.push('service = {service:String}')
      params.service = f.service
    }
    if (f.kind !== undefined) {
      where.push('kind = {kind:String}')
      params.kind = f.kind
    }
    if (f.environment !== undefined) {
      where.push('environment = {environment:String}')
      params.environment = f.environment
    }
    if (f.from !== undefined) {
      where.push('time_end >= fromUnixTimestamp64Milli({from:Int64})')
      params.from = f.from
    }
    if (f.to !== undefined) {
      where.push('time <= fromUnixTimestamp64Milli({to:Int64})')
      params.to = f.to
    }
    if (f.q !== undefined && f.q.trim() !== '') {
      // The same tokenizer as the index, so every query word is looked up as the index saw it.
      where.push(`hasAllTokens(search, tokens(lower({q:String}), 'splitByNonAlpha'))`)
      params.q = f.q
    }
    return this.#select(
      `${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY time_end DESC, recorded_at DESC LIMIT {limit:UInt32}`,
      params,
    )
  }

  recordedAfter(since: number, afterId: string | undefined, limit: number): Promise<ChangeEvent[]> {
    const after =
      afterId === undefined
        ? 'recorded_at >= fromUnixTimestamp64Milli({since:Int64})'
        : '(recorded_at, id) > (fromUnixTimestamp64Milli({since:Int64}), {afterId:String})'
    return this.#select(`WHERE ${after} ORDER BY recorded_at, id LIMIT {limit:UInt32}`, {
      since,
      afterId: afterId ?? '',
      limit,
    })
  }

  lastDeploys(service?: string, environment?: string): Promise<ChangeEvent[]> {
    const params: Record<string, unknown> = { kind: DEPLOY_KIND }
    let where = 'kind = {kind:String}'
    if (service !== undefined) {
      where += ' AND service = {service:String}'
      params.service = service
    }
    if (environment !== undefined) {
      where += ' AND environment = {environment:String}'
      params.environment = environment
    }
    return this.#select(
      `WHERE ${where} ORDER BY time_end DESC, recorded_at DESC LIMIT 1 BY service, environment`,
      params,
    )
  }

  inRange(services: readonly string[], from: number, to: number): Promise<ChangeEvent[]> {
    return this.#select(
      `WHERE service IN {services:Array(String)} AND time_end >= fromUnixTimestamp64Milli({from:Int64})
  AND time < fromUnixTimestamp64Milli({to:Int64}) ORDER BY time`,
      { services, from, to },
    )
  }

  lastDeploysBefore(services: readonly string[], before: number): Promise<ChangeEvent[]> {
    return this.#select(
      `WHERE service IN {services:Array(String)} AND kind = {kind:String} AND time_end < fromUnixTimestamp64Milli({before:Int64})
  ORDER BY time_end DESC LIMIT 1 BY service`,
      { services, before, kind: DEPLOY_KIND },
    )
  }

  deploysUntil(services: readonly string[], to: number): Promise<ChangeEvent[]> {
    return this.#select(
      `WHERE service IN {services:Array(String)} AND kind = {kind:String} AND time < fromUnixTimestamp64Milli({to:Int64}) ORDER BY time`,
      { services, to, kind: DEPLOY_KIND },
    )
  }

  async #select(tail: string, params: Record<string, unknown>): Promise<ChangeEvent[]> {
    const rs = await this.#client.query({
      query: `SELECT ${COLUMNS} FROM ${this.#table} FINAL ${tail}`,
      query_params: params,
      format: 'JSONEachRow',
    })
    return (await rs.json<EventRow>()).map(fromRow)
  }
}

function fromRow(r: EventRow): ChangeEvent {
  return {
    id: r.id,
    kind: r.kind,
    time: Number(r.time_ms),
    timeEnd: Number(r.time_end_ms),
    service: r.service,
    environment: r.environment,
    actor: r.actor,
    title: r.title,
    text: r.text,
    tags: r.tags,
    version: r.version,
    data: r.data === '' ? {} : (JSON.parse(r.data) as Record<string, unknown>),
    recordedAt: Number(r.recorded_at_ms),
  }
}

/** DateTime64(3) text for an epoch-ms time, which the UTC columns read as UTC. */
function dt(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '')
}

/**
 * Events in memory, answering as the table does (the same order, the same search by words):
 * for unit tests, and for several change logs that share one store as collectors share a server.
 */
export class MemoryChangeEvents implements ChangeEventStore {
  readonly #rows = new Map<string, ChangeEvent>()

  async insert(event: ChangeEvent): Promise<void> {
    this.#rows.set(event.id, structuredClone(event))
  }

  async get(id: string): Promise<ChangeEvent | undefined> {
    const e = this.#rows.get(id)
    return e === undefined ? undefined : structuredClone(e)
  }

  async list(f: EventFilter): Promise<ChangeEvent[]> {
    const words = f.q === undefined ? [] : tokens(f.q)
    return this.#all(
      (e) =>
        (f.service === undefined || e.service === f.service) &&
        (f.kind === undefined || e.kind === f.kind) &&
        (f.environment === undefined || e.environment === f.environment) &&
        (f.from === undefined || e.timeEnd >= f.from) &&
        (f.to === undefined || e.time <= f.to) &&
        (words.length === 0 || hasAll(searchText(e), words)),
    )
      .sort(newestEnd)
      .slice(0, f.limit)
  }

  async recordedAfter(since: number, afterId: string | undefined, limit: number): Promise<ChangeEvent[]> {
    return this.#all((e) =>
      afterId === undefined
        ? e.recordedAt >= since
        : e.recordedAt > since || (e.recordedAt === since && e.id > afterId),
    )
      .sort((a, b) => a.recordedAt - b.recordedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .slice(0, limit)
  }

  async lastDeploys(service?: string, environment?: string): Promise<ChangeEvent[]> {
    const deploys = this.#all(
      (e) =>
        e.kind === DEPLOY_KIND &&
        (service === undefined || e.service === service) &&
        (environment === undefined || e.environment === environment),
    ).sort(newestEnd)
    return firstBy(deploys, (e) => `${e.service}\0${e.environment}`)
  }

  async inRange(services: readonly string[], from: number, to: number): Promise<ChangeEvent[]> {
    return this.#all((e) => services.includes(e.service) && e.timeEnd >= from && e.time < to).sort(
      (a, b) => a.time - b.time,
    )
  }

  async lastDeploysBefore(services: readonly string[], before: number): Promise<ChangeEvent[]> {
    const deploys = this.#all((e) => e.kind === DEPLOY_KIND && services.includes(e.service) && e.timeEnd < before).sort(
      (a, b) => b.timeEnd - a.timeEnd,
    )
    return firstBy(deploys, (e) => e.service)
  }

  async deploysUntil(services: readonly string[], to: number): Promise<ChangeEvent[]> {
    return this.#all((e) => e.kind === DEPLOY_KIND && services.includes(e.service) && e.time < to).sort(
      (a, b) => a.time - b.time,
    )
  }

  #all(keep: (e: ChangeEvent) => boolean): ChangeEvent[] {
    return [...this.#rows.values()].filter(keep).map((e) => structuredClone(e))
  }
}

function newestEnd(a: ChangeEvent, b: ChangeEvent): number {
  return b.timeEnd - a.timeEnd || b.recordedAt - a.recordedAt
}

function firstBy(sorted: ChangeEvent[], key: (e: ChangeEvent) => string): ChangeEvent[] {
  const seen = new Set<string>()
  return sorted.filter((e) => !seen.has(key(e)) && seen.add(key(e)) !== undefined)
}

// eslint-disable-next-line no-control-regex -- every ASCII separator, control characters included
const SEPARATORS = /[\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]+/

/**
 * The words of a text as the events table's text index splits them (`splitByNonAlpha` over
 * `lower`): ASCII punctuation and spaces separate; ASCII letters are lower-cased, other
 * characters kept as they are.
 */
function tokens(text: string): string[] {
  return text
    .replace(/[A-Z]/g, (c) => c.toLowerCase())
    .split(SEPARATORS)
    .filter((w) => w !== '')
}

/** What the table's `search` column holds (migration of the events table). */
function searchText(e: ChangeEvent): Set<string> {
  return new Set(tokens([e.title, e.text, e.tags.join(' '), e.service, e.version, e.actor, e.kind].join(' ')))
}

function hasAll(have: Set<string>, words: readonly string[]): boolean {
  return words.every((w) => have.has(w))
}
