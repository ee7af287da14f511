import { randomUUID } from 'node:crypto'
import type { ClickHouseClient } from '@clickhouse/client'
import type { ChangeLog } from '../changelog/change-log.ts'

/** One version of a named definition of a service (an SLO, a controller binding). */
export interface Versioned<T> {
  service: string
  name: string
  version: number
  definition: T
  changedAt: number
  actor: string
  reason: string
  /** Id of the change-log event of this version. */
  changeId: string
}

export interface Who { actor: string; reason: string }

export interface RegistryOptions<T> {
  client: ClickHouseClient
  /** `<db>.<table>`, with the columns of `slo_versions` (migration 5). */
  table: string
  changeLog: ChangeLog
  /** The change-log kind of a change (`slo`, `controller`). */
  kind: string
  same(a: T, b: T): boolean
  /** The change-log title of a new version. */
  title(old: Versioned<T> | undefined, next: Versioned<T>): string
  /** Extra `data` of the change-log event. */
  data?(old: Versioned<T> | undefined, next: Versioned<T>): Record<string, unknown>
}

/**
 * Named definitions with versions, held in memory and written through to a table of one
 * row per version (so the history is the table), as the knob service keeps knobs. Changes
 * are serialised; each new version is an event of the change log; the same definition
 * again changes nothing.
 *
 * A deletion is a version too: a row whose definition is `null` (a tombstone). The name is
 * then gone from `list` and `get`, its history stays in the table, and defining it again
 * continues its version numbers.
 */
export class DefinitionRegistry<T> {
  readonly #o: RegistryOptions<T>
  readonly #latest = new Map<string, Versioned<T>>()
  /** The last version number of every name, deleted ones included. */
  readonly #lastVersion = new Map<string, number>()
  #tail: Promise<unknown> = Promise.resolve()

  constructor(options: RegistryOptions<T>) {
    this.#o = options
  }

  /** Loads the latest version of every definition (again: to follow changes made by other collectors). */
  async load(): Promise<void> {
    for (const v of await this.#select('ORDER BY service, name, version DESC LIMIT 1 BY service, name', {})) {
      this.#lastVersion.set(key(v.service, v.name), v.version)
      // Loaded again by followers of a shared store: a deletion made elsewhere removes it here.
      if (v.definition !== null) this.#latest.set(key(v.service, v.name), v as Versioned<T>)
      else this.#latest.delete(key(v.service, v.name))
    }
  }

  list(service?: string): Versioned<T>[] {
    return [...this.#latest.values()].filter((v) => service === undefined || v.service === service)
      .sort((a, b) => (a.service + '\0' + a.name < b.service + '\0' + b.name ? -1 : 1))
  }

  get(service: string, name: string): Versioned<T> | undefined {
    return this.#latest.get(key(service, name))
  }

  /** Every version since the name was last deleted (if it was), newest first. */
  async history(service: string, name: string): Promise<Versioned<T>[]> {
    const all = await this.#select('WHERE service = {service:String} AND name = {name:String} ORDER BY version DESC LIMIT 1000', { service, name })
    const end = all.findIndex((v) => v.definition === null)
    return (end < 0 ? all : all.slice(0, end)) as Versioned<T>[]
  }

  /** Stores `definition` as the next version and records the change, unless it equals the current one. */
  put(service: string, name: string, definition: T, who: Who): Promise<{ current: Versioned<T>; previous: Versioned<T> | undefined; created: boolean; changed: boolean }> {
    return this.#serial(async () => {
      const old = this.#latest.get(key(service, name))
      if (old !== undefined && this.#o.same(old.definition, definition)) return { current: old, previous: old, created: false, changed: false }
      const next: Versioned<T> = {
        service, name, definition, version: (this.#lastVersion.get(key(service, name)) ?? 0) + 1, changedAt: Date.now(), actor: who.actor, reason: who.reason, changeId: randomUUID(),
      }
      await this.#insert(next, definition)
      this.#latest.set(key(service, name), next)
      await this.#o.changeLog.append({
        id: next.changeId, kind: this.#o.kind, time: next.changedAt, timeEnd: next.changedAt, service, environment: '', actor: next.actor,
        title: this.#o.title(old, next), text: next.reason, tags: [name], version: '',
        data: { name, version: next.version, before: old?.definition ?? null, after: definition, ...this.#o.data?.(old, next) },
      })
      return { current: next, previous: old, created: old === undefined, changed: true }
    })
  }

  /**
   * Deletes a definition: stores a tombstone version and records the deletion as an event
   * (`data.deleted: true`, `after: null`). Resolves to the version deleted, undefined when
   * there is none. `title` says what was deleted, for the event.
   */
  remove(service: string, name: string, who: Who, title: (old: Versioned<T>) => string): Promise<Versioned<T> | undefined> {
    return this.#serial(async () => {
      const old = this.#latest.get(key(service, name))
      if (old === undefined) return undefined
      const tomb = { service, name, version: old.version + 1, changedAt: Date.now(), actor: who.actor, reason: who.reason, changeId: randomUUID() }
      await this.#insert(tomb, null)
      this.#latest.delete(key(service, name))
      this.#lastVersion.set(key(service, name), tomb.version)
      await this.#o.changeLog.append({
        id: tomb.changeId, kind: this.#o.kind, time: tomb.changedAt, timeEnd: tomb.changedAt, service, environment: '', actor: who.actor,
        title: title(old), text: who.reason, tags: [name, 'deleted'], version: '',
        data: { name, version: tomb.version, before: old.definition, after: null, deleted: true },
      })
      return old
    })
  }

  async #insert(v: Omit<Versioned<T>, 'definition'>, definition: T | null): Promise<void> {
    await this.#o.client.insert({
      table: this.#o.table,
      values: [{
        service: v.service, name: v.name, version: v.version, definition: JSON.stringify(definition), actor: v.actor, reason: v.reason,
        change_id: v.changeId, changed_at: new Date(v.changedAt).toISOString().replace('T', ' ').replace('Z', ''),
      }],
      format: 'JSONEachRow',
    })
    this.#lastVersion.set(key(v.service, v.name), v.version)
  }

  #serial<R>(run: () => Promise<R>): Promise<R> {
    const result = this.#tail.then(run, run)
    this.#tail = result.catch(() => undefined)
    return result
  }

  /** Rows as stored: a tombstone's definition is null. */
  async #select(tail: string, params: Record<string, unknown>): Promise<Versioned<T | null>[]> {
    const rs = await this.#o.client.query({
      query: `SELECT service, name, version, definition, actor, reason, change_id, toUnixTimestamp64Milli(changed_at) AS changed_ms
FROM ${this.#o.table} FINAL ${tail}`,
      query_params: params,
      format: 'JSONEachRow',
    })
    return (await rs.json<Row>()).map((r) => ({
      service: r.service, name: r.name, version: Number(r.version), definition: JSON.parse(r.definition) as T | null,
      changedAt: Number(r.changed_ms), actor: r.actor, reason: r.reason, changeId: r.change_id,
    }))
  }
}

interface Row {
  service: string; name: string; version: string | number; definition: string; actor: string; reason: string; change_id: string; changed_ms: string | number
}

function key(service: string, name: string): string {
  return `${service}\0${name}`
}
