import { recordFamilies, type FamilyMetadata } from './prometheus-metadata.ts'
import { retypeSeries, type RetypedSeries, type Retyping } from './series-retyping.ts'
import type { ClickHouseClient } from '@clickhouse/client'
import { GovernorError } from '../errors.ts'
import type { PointBatch } from '../model/batch.ts'
import { isDataError } from './data-error.ts'
import {
  COMMIT_COLUMNS,
  COMMIT_TABLES,
  encodeBatch,
  joinChunks,
  type CommitGroup,
  type CommitTable,
} from './encoded-batch.ts'
import type { Settings } from '../settings.ts'
import { connectStore, type StoreConnection, type TsvChunk } from './connect.ts'
import { applyMigrations } from './migrate.ts'
import { SINGLE_NODE } from './schema-dialect.ts'
import { clusterDialect } from './cluster-ddl.ts'

/**
 * Governor's one store: ClickHouse, embedded (chDB) or a server, behind the same SQL.
 * Owns the connection, applies migrations at open, and writes batches of points.
 */
export class Store {
  readonly #conn: StoreConnection
  readonly db: string
  /** Ids of series whose row is already in the series table. */
  readonly #knownSeries = new Set<bigint>()
  #seriesWrites = 0
  #lastWriteFailure: number | undefined

  private constructor(conn: StoreConnection, db: string) {
    this.#conn = conn
    this.db = db
  }

  /** Connects, creates the database, applies migrations and loads the known series ids. */
  static async open(settings: Settings): Promise<Store> {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(settings.clickhouseDatabase)) {
      throw new GovernorError(
        'GOV_ERR_SETTINGS_INVALID',
        `GOVERNOR_CLICKHOUSE_DATABASE=${JSON.stringify(settings.clickhouseDatabase)}: expected letters, digits and underscores`,
      )
    }
    const conn = await connectStore(settings)
    const store = new Store(conn, settings.clickhouseDatabase)
    try {
      const dialect = conn.cluster === '' ? SINGLE_NODE : clusterDialect(conn.cluster)
      await applyMigrations(conn.client, { db: store.db, retentionDays: settings.retentionDays }, dialect)
      await store.#loadKnownSeries()
    } catch (err) {
      await conn.close()
      throw err
    }
    return store
  }

  get client(): ClickHouseClient {
    return this.#conn.client
  }

  get embedded(): boolean {
    return this.#conn.embedded
  }

  get location(): string {
    return this.#conn.location
  }

  /** The ClickHouse cluster the tables are spread over; '' for one server or the embedded engine. */
  get cluster(): string {
    return this.#conn.cluster
  }

  /** Embedded only (undefined on a server): a SELECT's rows as TabSeparated chunks, streamed. */
  get streamTsv(): ((query: string) => AsyncIterable<TsvChunk>) | undefined {
    return this.#conn.streamTsv
  }

  /** A SELECT's result in a binary format (RowBinary, Native…) as bytes, on either engine. */
  readBinary(query: string, format: string, signal?: AbortSignal): Promise<Uint8Array> {
    return this.#conn.readBinary(query, format, signal)
  }

  /** The same result in the pieces the engine hands over: cheaper for large results (see StoreConnection). */
  readBinaryChunks(query: string, format: string, signal?: AbortSignal): Promise<Uint8Array[]> {
    return this.#conn.readBinaryChunks(query, format, signal)
  }

  /** Raw TSV insert into one of this database's tables (the copy of `governor migrate` uses it). */
  insertTsv(table: string, columns: readonly string[], tsv: Buffer): Promise<void> {
    return this.#conn.insertTsv(`${this.db}.${table}`, columns, tsv)
  }

  /**
   * How many inserts into the series table have ended, on a store no other process writes to
   * (embedded: the data directory is locked); undefined on a server, where other collectors
   * may add series. A reader that remembers what it read of the series table at one count
   * knows it is still whole while the count is the same.
   */
  get seriesGeneration(): number | undefined {
    return this.#conn.embedded ? this.#seriesWrites : undefined
  }

  /** Whether the series table holds this series. */
  hasSeries(id: bigint): boolean {
    return this.#knownSeries.has(id)
  }

  get knownSeriesCount(): number {
    return this.#knownSeries.size
  }

  async #loadKnownSeries(): Promise<void> {
    const rs = await this.client.query({
      query: `SELECT DISTINCT series_id FROM ${this.db}.series`,
      format: 'JSONCompactEachRow',
    })
    for (const [id] of await rs.json<[string]>()) this.#knownSeries.add(BigInt(id))
  }

  /**
   * When the last write failed (epoch ms), or undefined when it succeeded. A store that answers
   * pings but refuses writes (a full disk, a read-only server) shows here and nowhere else.
   */
  get lastWriteFailure(): number | undefined {
    return this.#lastWriteFailure
  }

  /**
   * Writes batches straight through, new series first (tools and tests; ingest goes through
   * the WritePipeline, which logs and groups them). Resolves once all of it is committed.
   */
  async write(batches: readonly PointBatch[]): Promise<void> {
    const logged = new Set<bigint>()
    const encoded = batches.map((b) => {
      const e = encodeBatch(
        b,
        (id) => this.#knownSeries.has(id),
        (id) => logged.has(id),
      )
      for (const s of e.newSeries) logged.add(s.id)
      return e
    })
    await this.writeRows({
      token: undefined,
      tables: joinChunks(encoded),
      points: encoded.reduce((n, e) => n + e.points, 0),
    })
    this.markSeriesStored([...logged])
  }

  /**
   * Writes a commit's rows, one insert per table in COMMIT_TABLES order (series first, so
   * that no point is ever stored without its series row). Each insert carries the group's
   * token with its table's name, so a commit sent again stores nothing twice.
   */
  async writeRows(group: CommitGroup): Promise<void> {
    try {
      for (let t = 0; t < COMMIT_TABLES.length; t++) {
        const tsv = group.tables[t]
        const table = COMMIT_TABLES[t]!
        if (tsv !== undefined)
          await this.#insert(table, tsv, group.token === undefined ? undefined : `${group.token}-${table}`)
      }
    } catch (err) {
      this.#lastWriteFailure = Date.now()
      throw err
    }
    this.#lastWriteFailure = undefined
  }

  /**
   * One insert of a commit table's rows (the split of a refused commit sends many). A refusal
   * for the rows' content (see batch/data-error.ts) says nothing of the store's health; any
   * other failure is noted for readiness, until `noteWriteSuccess` at the end of a commit.
   */
  async insertRows(table: CommitTable, tsv: Buffer, token: string | undefined): Promise<void> {
    try {
      await this.#insert(table, tsv, token)
    } catch (err) {
      if (!isDataError(err)) this.#lastWriteFailure = Date.now()
      throw err
    }
  }

  /** One insert of a commit table; an insert into the series table, landed or not, counts (seriesGeneration). */
  async #insert(table: CommitTable, tsv: Buffer, token: string | undefined): Promise<void> {
    try {
      await this.#conn.insertTsv(`${this.db}.${table}`, COMMIT_COLUMNS[table], tsv, token)
    } finally {
      if (table === 'series') this.#seriesWrites++
    }
  }

  /**
   * Records that the commit of the write-ahead log segment `token` is in the store, once all
   * its inserts succeeded (migration 8): replay skips it however many commits passed since.
   */
  async recordCommitted(token: string): Promise<void> {
    await this.client.insert({ table: `${this.db}.wal_commits`, values: [{ token }], format: 'JSONEachRow' })
  }

  /** Which of `tokens` are recorded as committed (see recordCommitted). */
  async committedTokens(tokens: readonly string[]): Promise<Set<string>> {
    if (tokens.length === 0) return new Set()
    const rs = await this.client.query({
      query: `SELECT DISTINCT token FROM ${this.db}.wal_commits WHERE token IN {tokens:Array(String)}`,
      query_params: { tokens },
      format: 'JSONCompactEachRow',
    })
    return new Set((await rs.json<[string]>()).map(([t]) => t))
  }

  /** Notes a commit that went through whole: readiness no longer reads failing writes. */
  noteWriteSuccess(): void {
    this.#lastWriteFailure = undefined
  }

  /** Notes a write refused on the way to the store (the ingest log on a full disk): readiness follows it. */
  noteWriteFailure(): void {
    this.#lastWriteFailure = Date.now()
  }

  /** Notes series whose rows are now in the series table. */
  markSeriesStored(ids: readonly bigint[]): void {
    for (const id of ids) this.#knownSeries.add(id)
  }

  /** Records what a sender said of metric families (Prometheus' metadata); see prometheus-metadata.ts. */
  async recordMetricFamilies(families: readonly FamilyMetadata[]): Promise<void> {
    await recordFamilies(this.client, this.db, families)
  }

  /**
   * Re-types the series of metrics stored on a guess that their metadata, come later,
   * contradicts (see series-retyping.ts); the series table changes, so it counts as a write
   * of it (seriesGeneration).
   */
  async retypeSeries(retypings: readonly Retyping[]): Promise<RetypedSeries[]> {
    try {
      return await retypeSeries(this.client, this.db, this.cluster, retypings)
    } finally {
      this.#seriesWrites++
    }
  }

  /** True when the store answers a trivial query. */
  async ping(): Promise<boolean> {
    try {
      const r = await this.client.ping()
      return r.success
    } catch {
      return false
    }
  }

  /** Closes the connection; embedded, releases the data directory for another process. */
  async close(): Promise<void> {
    await this.#conn.close()
  }
}
