import type { ClickHouseClient } from '@clickhouse/client'
import type { KnobDefinition, KnobMode, KnobState, KnobValue } from '../model/knob.ts'

/**
 * Where knob versions live: one row per version of every knob, so the history is the
 * table. The knob service writes and reads through it; the follower (knob-follower.ts) reads
 * what other collectors wrote.
 */
export interface KnobVersionStore {
  insert(knob: KnobState): Promise<void>
  /** The latest version of every knob. */
  latest(): Promise<KnobState[]>
  /** The latest version of one knob, if any. */
  latestOf(service: string, name: string): Promise<KnobState | undefined>
  /** Versions of one knob, newest first, at most `limit`. */
  history(service: string, name: string, limit: number): Promise<KnobState[]>
  /** Versions changed at or after `since` (epoch ms), oldest version first per knob. */
  changedSince(since: number): Promise<KnobState[]>
}

const COLUMNS = 'service, name, version, definition, mode, value, actor, reason, change_id, toUnixTimestamp64Milli(changed_at) AS changed_ms'

interface VersionRow {
  service: string; name: string; version: string | number; definition: string; mode: KnobMode | typeof DECLARED; value: string
  actor: string; reason: string; change_id: string; changed_ms: string | number
}

/** Knob versions in `<db>.knob_versions` (migration 3), read with FINAL. */
export class ClickHouseKnobVersions implements KnobVersionStore {
  readonly #client: ClickHouseClient
  /** `<db>.knob_versions`. */
  readonly table: string

  constructor(client: ClickHouseClient, db: string) {
    this.#client = client
    this.table = `${db}.knob_versions`
  }

  async insert(k: KnobState): Promise<void> {
    await this.#client.insert({
      table: this.table,
      values: [{
        service: k.service, name: k.name, version: k.version, definition: JSON.stringify(k.definition), mode: storedMode(k),
        value: JSON.stringify(k.value), actor: k.actor, reason: k.reason, change_id: k.changeId,
        changed_at: new Date(k.changedAt).toISOString().replace('T', ' ').replace('Z', ''),
      }],
      format: 'JSONEachRow',
    })
  }

  latest(): Promise<KnobState[]> {
    return this.#select('ORDER BY service, name, version DESC LIMIT 1 BY service, name', {})
  }

  async latestOf(service: string, name: string): Promise<KnobState | undefined> {
    return (await this.history(service, name, 1))[0]
  }

  history(service: string, name: string, limit: number): Promise<KnobState[]> {
    return this.#select('WHERE service = {service:String} AND name = {name:String} ORDER BY version DESC LIMIT {limit:UInt32}', { service, name, limit })
  }

  changedSince(since: number): Promise<KnobState[]> {
    return this.#select('WHERE changed_at >= fromUnixTimestamp64Milli({since:Int64}) ORDER BY service, name, version', { since })
  }

  async #select(tail: string, params: Record<string, unknown>): Promise<KnobState[]> {
    const rs = await this.#client.query({ query: `SELECT ${COLUMNS} FROM ${this.table} FINAL ${tail}`, query_params: params, format: 'JSONEachRow' })
    return (await rs.json<VersionRow>()).map(fromRow)
  }
}

/**
 * The `mode` column also says whether a manual knob's value is still the declaration's:
 *
 *   declared   manual mode, value set by declarations only (follows a new default)
 *   manual     manual mode, value set by a person (a declaration keeps it)
 *   auto, pinned
 *
 * A version 1 stored as `manual` (written before `declared` existed) is a declaration too.
 */
const DECLARED = 'declared'

function storedMode(k: KnobState): string {
  return k.mode === 'manual' && k.declared === true ? DECLARED : k.mode
}

function fromRow(r: VersionRow): KnobState {
  const version = Number(r.version)
  const declared = r.mode === DECLARED || (r.mode === 'manual' && version === 1)
  return {
    service: r.service, name: r.name, version, definition: JSON.parse(r.definition) as KnobDefinition,
    mode: r.mode === DECLARED ? 'manual' : r.mode as KnobMode, value: JSON.parse(r.value) as KnobValue, changedAt: Number(r.changed_ms), actor: r.actor, reason: r.reason, changeId: r.change_id,
    ...(declared ? { declared: true } : {}),
  }
}

/**
 * Knob versions in memory, kept as the table keeps them (a second row of the same version
 * replaces the first, as FINAL shows it): a store double that several knob services can
 * share, as collectors share a ClickHouse server.
 */
export class MemoryKnobVersions implements KnobVersionStore {
  readonly #rows = new Map<string, KnobState>()

  async insert(knob: KnobState): Promise<void> {
    this.#rows.set(`${knob.service}\0${knob.name}\0${knob.version}`, structuredClone(knob))
  }

  async latest(): Promise<KnobState[]> {
    const top = new Map<string, KnobState>()
    for (const k of this.#rows.values()) {
      const seen = top.get(`${k.service}\0${k.name}`)
      if (seen === undefined || k.version > seen.version) top.set(`${k.service}\0${k.name}`, k)
    }
    return [...top.values()].map((k) => structuredClone(k))
  }

  async latestOf(service: string, name: string): Promise<KnobState | undefined> {
    return (await this.history(service, name, 1))[0]
  }

  async history(service: string, name: string, limit: number): Promise<KnobState[]> {
    return [...this.#rows.values()].filter((k) => k.service === service && k.name === name)
      .sort((a, b) => b.version - a.version).slice(0, limit).map((k) => structuredClone(k))
  }

  async changedSince(since: number): Promise<KnobState[]> {
    return [...this.#rows.values()].filter((k) => k.changedAt >= since).sort((a, b) => a.version - b.version).map((k) => structuredClone(k))
  }
}
