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
 */
export class DefinitionRegistry<T> {
  readonly #o: RegistryOptions<T>
  readonly #latest = new Map<string, Versioned<T>>()
  #tail: Promise<unknown> = Promise.resolve()

  constructor(options: RegistryOptions<T>) {
    this.#o = options
  }

  /** Loads the latest version of every definition. */
  async load(): Promise<void> {
    for (const v of await this.#select('ORDER BY service, name, version DESC LIMIT 1 BY service, name', {})) this.#latest.set(key(v.service, v.name), v)
  }

  list(service?: string): Versioned<T>[] {
    return [...this.#latest.values()].filter((v) => service === undefined || v.service === service)
      .sort((a, b) => (a.service + '\0' + a.name < b.service + '\0' + b.name ? -1 : 1))
  }

  get(service: string, name: string): Versioned<T> | undefined {
    return this.#latest.get(key(service, name))
  }

  /** Every version, newest first. */
  history(service: string, name: string): Promise<Versioned<T>[]> {
    return this.#select('WHERE service = {service:String} AND name = {name:String} ORDER BY version DESC LIMIT 1000', { service, name })
  }

  /** Stores `definition` as the next version and records the change, unless it equals the current one. */
  put(service: string, name: string, definition: T, who: Who): Promise<{ current: Versioned<T>; previous: Versioned<T> | undefined; created: boolean; changed: boolean }> {
    return this.#serial(async () => {
      const old = this.#latest.get(key(service, name))
      if (old !== undefined && this.#o.same(old.definition, definition)) return { current: old, previous: old, created: false, changed: false }
      const next: Versioned<T> = {
        service, name, definition, version: (old?.version ?? 0) + 1, changedAt: Date.now(), actor: who.actor, reason: who.reason, changeId: randomUUID(),
      }
      await this.#o.client.insert({
        table: this.#o.table,
        values: [{
          service, name, version: next.version, definition: JSON.stringify(definition), actor: next.actor, reason: next.reason,
          change_id: next.changeId, changed_at: new Date(next.changedAt).toISOString().replace('T', ' ').replace('Z', ''),
        }],
        format: 'JSONEachRow',
      })
      this.#latest.set(key(service, name), next)
      await this.#o.changeLog.append({
        id: next.changeId, kind: this.#o.kind, time: next.changedAt, timeEnd: next.changedAt, service, environment: '', actor: next.actor,
        title: this.#o.title(old, next), text: next.reason, tags: [name], version: '',
        data: { name, version: next.version, before: old?.definition ?? null, after: definition, ...this.#o.data?.(old, next) },
      })
      return { current: next, previous: old, created: old === undefined, changed: true }
    })
  }

  #serial<R>(run: () => Promise<R>): Promise<R> {
    const result = this.#tail.then(run, run)
    this.#tail = result.catch(() => undefined)
    return result
  }

  async #select(tail: string, params: Record<string, unknown>): Promise<Versioned<T>[]> {
    const rs = await this.#o.client.query({
      query: `SELECT service, name, version, definition, actor, reason, change_id, toUnixTimestamp64Milli(changed_at) AS changed_ms
FROM ${this.#o.table} FINAL ${tail}`,
      query_params: params,
      format: 'JSONEachRow',
    })
    return (await rs.json<Row>()).map((r) => ({
      service: r.service, name: r.name, version: Number(r.version), definition: JSON.parse(r.definition) as T,
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
