import type { ClickHouseClient } from '@clickhouse/client'
import type { KnobDefinition, KnobMode, KnobState, KnobValue } from '../model/knob.ts'
import { isTombstone, type Tombstone, type VersionStore } from './version-store.ts'

/**
 * Where knob versions live: one row per version of every knob, so the history is the
 * table. Knobs are never deleted, so no tombstone is ever written or read.
 */
export type KnobVersionStore = VersionStore<KnobState>

const COLUMNS =
  'service, name, version, definition, mode, value, actor, reason, change_id, toUnixTimestamp64Milli(changed_at) AS changed_ms'

interface VersionRow {
  service: string
  name: string
  version: string | number
  definition: string
  mode: KnobMode | typeof DECLARED
  value: string
  actor: string
  reason: string
  change_id: string
  changed_ms: string | number
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

  async insert(k: KnobState | Tombstone): Promise<void> {
    if (isTombstone(k)) throw new Error(`knob ${k.service}/${k.name}: knobs are not deleted`)
    await this.#client.insert({
      table: this.table,
      values: [
        {
          service: k.service,
          name: k.name,
          version: k.version,
          definition: JSON.stringify(k.definition),
          mode: storedMode(k),
          value: JSON.stringify(k.value),
          actor: k.actor,
          reason: k.reason,
          change_id: k.changeId,
          changed_at: new Date(k.changedAt).toISOString().replace('T', ' ').replace('Z', ''),
        },
      ],
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
    return this.#select(
      'WHERE service = {service:String} AND name = {name:String} ORDER BY version DESC LIMIT {limit:UInt32}',
      { service, name, limit },
    )
  }

  changedSince(since: number): Promise<KnobState[]> {
    return this.#select('WHERE changed_at >= fromUnixTimestamp64Milli({since:Int64}) ORDER BY service, name, version', {
      since,
    })
  }

  async #select(tail: string, params: Record<string, unknown>): Promise<KnobState[]> {
    const rs = await this.#client.query({
      query: `SELECT ${COLUMNS} FROM ${this.table} FINAL ${tail}`,
      query_params: params,
      format: 'JSONEachRow',
    })
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
    service: r.service,
    name: r.name,
    version,
    definition: JSON.parse(r.definition) as KnobDefinition,
    mode: r.mode === DECLARED ? 'manual' : (r.mode as KnobMode),
    value: JSON.parse(r.value) as KnobValue,
    changedAt: Number(r.changed_ms),
    actor: r.actor,
    reason: r.reason,
    changeId: r.change_id,
    ...(declared ? { declared: true } : {}),
  }
}
