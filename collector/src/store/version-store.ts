import type { ClickHouseClient } from '@clickhouse/client'

/** What every version of a named, versioned record carries (a knob, an SLO, a controller binding). */
export interface VersionMeta {
  service: string
  name: string
  version: number
  /** When the version was written, epoch ms. */
  changedAt: number
  actor: string
  reason: string
  /** Id of the change-log event of this version (or of the changeset it was part of). */
  changeId: string
}

/**
 * A deletion, stored as a version: the name is gone from the latest versions, its history
 * stays, and defining it again continues its version numbers.
 */
export type Tombstone = VersionMeta & { deleted: true }

/** Orders records by service, then name (as the tables' ORDER BY service, name does). */
export function byName(a: Pick<VersionMeta, 'service' | 'name'>, b: Pick<VersionMeta, 'service' | 'name'>): number {
  const x = `${a.service}\0${a.name}`
  const y = `${b.service}\0${b.name}`
  return x < y ? -1 : x > y ? 1 : 0
}

export function isTombstone<R extends VersionMeta>(r: R | Tombstone): r is Tombstone {
  return (r as Partial<Tombstone>).deleted === true
}

/** A versioned definition: an SLO, a controller binding. */
export type Versioned<T> = VersionMeta & { definition: T }

/**
 * Where the versions of one kind of record live: one row per version, so the history is the
 * table. A second row of the same version replaces the first (two collectors that wrote one
 * version at once converge on the one the store keeps).
 */
export interface VersionStore<R extends VersionMeta> {
  insert(record: R | Tombstone): Promise<void>
  /** The latest version of every name, tombstones included. */
  latest(): Promise<(R | Tombstone)[]>
  /** The latest version of one name, if any. */
  latestOf(service: string, name: string): Promise<R | Tombstone | undefined>
  /** Versions of one name, newest first, at most `limit`. */
  history(service: string, name: string, limit: number): Promise<(R | Tombstone)[]>
  /** Versions written at or after `since` (epoch ms), oldest version first per name. */
  changedSince(since: number): Promise<(R | Tombstone)[]>
}

/**
 * Versions in memory, kept as the tables keep them: a store double that several registries
 * can share, as collectors share a ClickHouse server.
 */
export class MemoryVersions<R extends VersionMeta> implements VersionStore<R> {
  readonly #rows = new Map<string, R | Tombstone>()

  async insert(record: R | Tombstone): Promise<void> {
    this.#rows.set(`${record.service}\0${record.name}\0${record.version}`, structuredClone(record))
  }

  async latest(): Promise<(R | Tombstone)[]> {
    const top = new Map<string, R | Tombstone>()
    for (const r of this.#rows.values()) {
      const seen = top.get(`${r.service}\0${r.name}`)
      if (seen === undefined || r.version > seen.version) top.set(`${r.service}\0${r.name}`, r)
    }
    return [...top.values()].map((r) => structuredClone(r))
  }

  async latestOf(service: string, name: string): Promise<R | Tombstone | undefined> {
    return (await this.history(service, name, 1))[0]
  }

  async history(service: string, name: string, limit: number): Promise<(R | Tombstone)[]> {
    return [...this.#rows.values()]
      .filter((r) => r.service === service && r.name === name)
      .sort((a, b) => b.version - a.version)
      .slice(0, limit)
      .map((r) => structuredClone(r))
  }

  async changedSince(since: number): Promise<(R | Tombstone)[]> {
    return [...this.#rows.values()]
      .filter((r) => r.changedAt >= since)
      .sort((a, b) => byName(a, b) || a.version - b.version)
      .map((r) => structuredClone(r))
  }
}

interface DefinitionRow {
  service: string
  name: string
  version: string | number
  definition: string
  actor: string
  reason: string
  change_id: string
  changed_ms: string | number
}

const DEFINITION_COLUMNS =
  'service, name, version, definition, actor, reason, change_id, toUnixTimestamp64Milli(changed_at) AS changed_ms'

/**
 * Versioned definitions in a table with the columns of `slo_versions` (migration 5; also
 * `controller_versions`), read with FINAL. A tombstone is a row whose definition is `null`.
 */
export class ClickHouseDefinitionVersions<T> implements VersionStore<Versioned<T>> {
  readonly #client: ClickHouseClient
  /** `<db>.<table>`. */
  readonly #table: string

  constructor(client: ClickHouseClient, db: string, table: 'slo_versions' | 'controller_versions') {
    this.#client = client
    this.#table = `${db}.${table}`
  }

  async insert(v: Versioned<T> | Tombstone): Promise<void> {
    await this.#client.insert({
      table: this.#table,
      values: [
        {
          service: v.service,
          name: v.name,
          version: v.version,
          definition: JSON.stringify(isTombstone(v) ? null : v.definition),
          actor: v.actor,
          reason: v.reason,
          change_id: v.changeId,
          changed_at: new Date(v.changedAt).toISOString().replace('T', ' ').replace('Z', ''),
        },
      ],
      format: 'JSONEachRow',
    })
  }

  latest(): Promise<(Versioned<T> | Tombstone)[]> {
    return this.#select('ORDER BY service, name, version DESC LIMIT 1 BY service, name', {})
  }

  async latestOf(service: string, name: string): Promise<Versioned<T> | Tombstone | undefined> {
    return (await this.history(service, name, 1))[0]
  }

  history(service: string, name: string, limit: number): Promise<(Versioned<T> | Tombstone)[]> {
    return this.#select(
      'WHERE service = {service:String} AND name = {name:String} ORDER BY version DESC LIMIT {limit:UInt32}',
      { service, name, limit },
    )
  }

  changedSince(since: number): Promise<(Versioned<T> | Tombstone)[]> {
    return this.#select('WHERE changed_at >= fromUnixTimestamp64Milli({since:Int64}) ORDER BY service, name, version', {
      since,
    })
  }

  async #select(tail: string, params: Record<string, unknown>): Promise<(Versioned<T> | Tombstone)[]> {
    const rs = await this.#client.query({
      query: `SELECT ${DEFINITION_COLUMNS} FROM ${this.#table} FINAL ${tail}`,
      query_params: params,
      format: 'JSONEachRow',
    })
    return (await rs.json<DefinitionRow>()).map((r) => {
      const meta: VersionMeta = {
        service: r.service,
        name: r.name,
        version: Number(r.version),
        changedAt: Number(r.changed_ms),
        actor: r.actor,
        reason: r.reason,
        changeId: r.change_id,
      }
      const definition = JSON.parse(r.definition) as T | null
      return definition === null ? { ...meta, deleted: true as const } : { ...meta, definition }
    })
  }
}
