import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client'

/** One holder's claim of one term of a lease, as stored (the latest write of it counts). */
export interface LeaseClaim {
  name: string
  term: number
  holder: string
  /** Epoch ms, by the holder's clock. */
  expiresAt: number
  /** Epoch ms, by the holder's clock: a later write of the same claim replaces an earlier one. */
  writtenAt: number
}

/** Where claims live: the `leases` table (`ClickHouseLeaseStore`) or memory (`MemoryLeaseStore`). */
export interface LeaseStore {
  /** The claims of the highest term of `name`, the latest write of each holder; [] when none. */
  claims(name: string): Promise<LeaseClaim[]>
  write(claim: LeaseClaim): Promise<void>
}

/**
 * Query settings of the lease on a cluster, where `leases` is replicated to every node: a
 * claim is acknowledged once a majority of replicas hold it, one quorum write at a time, and a
 * read answers only from a replica that has every quorum write. Without them a read on a
 * lagging replica could miss a rival's claim.
 */
export const QUORUM_WRITE: ClickHouseSettings = { insert_quorum: 'auto', insert_quorum_parallel: 0 }
/** The read side of QUORUM_WRITE: only from a replica that holds every quorum write. */
export const QUORUM_READ: ClickHouseSettings = { select_sequential_consistency: '1' }

interface ClaimRow {
  term: string | number
  holder: string
  expires: string | number
  written: string | number
}

/** Claims in the `leases` table (migration 6). */
export class ClickHouseLeaseStore implements LeaseStore {
  readonly #client: ClickHouseClient
  readonly #table: string
  readonly #quorum: boolean

  /** `quorum`: on a cluster (see QUORUM_WRITE). */
  constructor(client: ClickHouseClient, db: string, quorum: boolean) {
    this.#client = client
    this.#table = `${db}.leases`
    this.#quorum = quorum
  }

  async claims(name: string): Promise<LeaseClaim[]> {
    // GROUP BY rather than FINAL: the latest write of each claim, whether or not merged yet.
    const rs = await this.#client.query({
      query: `SELECT term, holder, argMax(expires_at, written_at) AS expires, max(written_at) AS written
FROM ${this.#table}
WHERE name = {name:String} AND term = (SELECT max(term) FROM ${this.#table} WHERE name = {name:String})
GROUP BY term, holder`,
      query_params: { name },
      format: 'JSONEachRow',
      ...(this.#quorum ? { clickhouse_settings: QUORUM_READ } : {}),
    })
    return (await rs.json<ClaimRow>()).map((r) => ({
      name,
      term: Number(r.term),
      holder: r.holder,
      expiresAt: Number(r.expires),
      writtenAt: Number(r.written),
    }))
  }

  async write(c: LeaseClaim): Promise<void> {
    await this.#client.insert({
      table: this.#table,
      values: [{ name: c.name, term: c.term, holder: c.holder, expires_at: c.expiresAt, written_at: c.writtenAt }],
      format: 'JSONEachRow',
      ...(this.#quorum ? { clickhouse_settings: QUORUM_WRITE } : {}),
    })
  }
}

/**
 * Claims in memory, read and written as the table is: a double for tests, and the lease of
 * processes that share nothing but this object. `failing` makes every call reject (a store
 * outage).
 */
export class MemoryLeaseStore implements LeaseStore {
  readonly #rows: LeaseClaim[] = []
  failing = false

  async claims(name: string): Promise<LeaseClaim[]> {
    this.#check()
    const mine = this.#rows.filter((r) => r.name === name)
    const top = mine.reduce((m, r) => Math.max(m, r.term), 0)
    const latest = new Map<string, LeaseClaim>()
    for (const r of mine) {
      if (r.term !== top) continue
      const seen = latest.get(r.holder)
      if (seen === undefined || r.writtenAt >= seen.writtenAt) latest.set(r.holder, r)
    }
    return [...latest.values()].map((r) => ({ ...r }))
  }

  async write(claim: LeaseClaim): Promise<void> {
    this.#check()
    this.#rows.push({ ...claim })
  }

  /** Every row written, oldest first. */
  get rows(): readonly LeaseClaim[] {
    return this.#rows
  }

  #check(): void {
    if (this.failing) throw new Error('lease store unavailable')
  }
}
