import type { ClickHouseClient } from '@clickhouse/client'
import { GovernorError } from '../errors.ts'
import type { PointBatch } from '../model/batch.ts'
import type { SeriesInfo } from '../model/types.ts'
import type { Settings } from '../settings.ts'
import { connectStore, type StoreConnection } from './connect.ts'
import { encodePoints, encodeSeries, POINT_COLUMNS, SERIES_COLUMNS } from './encode-tsv.ts'
import { applyMigrations } from './migrate.ts'
import { POINT_TABLES } from './migrations.ts'

/**
 * Governor's one store: ClickHouse, embedded (chDB) or a server, behind the same SQL.
 * Owns the connection, applies migrations at open, and writes batches of points.
 */
export class Store {
  readonly #conn: StoreConnection
  readonly db: string
  /** Ids of series whose row is already in the series table. */
  readonly #knownSeries = new Set<bigint>()
  #lastWriteFailure: number | undefined

  private constructor(conn: StoreConnection, db: string) {
    this.#conn = conn
    this.db = db
  }

  /** Connects, creates the database, applies migrations and loads the known series ids. */
  static async open(settings: Settings): Promise<Store> {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(settings.clickhouseDatabase)) {
      throw new GovernorError('GOV_ERR_SETTINGS_INVALID', `GOVERNOR_CLICKHOUSE_DATABASE=${JSON.stringify(settings.clickhouseDatabase)}: expected letters, digits and underscores`)
    }
    const conn = await connectStore(settings)
    const store = new Store(conn, settings.clickhouseDatabase)
    try {
      await applyMigrations(conn.client, { db: store.db, retentionDays: settings.retentionDays })
      await store.#loadKnownSeries()
    } catch (err) {
      await conn.client.close()
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

  /** Whether the series table holds this series. */
  hasSeries(id: bigint): boolean {
    return this.#knownSeries.has(id)
  }

  get knownSeriesCount(): number {
    return this.#knownSeries.size
  }

  async #loadKnownSeries(): Promise<void> {
    const rs = await this.client.query({ query: `SELECT DISTINCT series_id FROM ${this.db}.series`, format: 'JSONCompactEachRow' })
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
   * Writes the batches as one insert per table: new series first, so that no point is ever
   * stored without its series row, then the points. Resolves once all of it is committed.
   */
  async write(batches: readonly PointBatch[]): Promise<void> {
    try {
      await this.#write(batches)
    } catch (err) {
      this.#lastWriteFailure = Date.now()
      throw err
    }
    this.#lastWriteFailure = undefined
  }

  async #write(batches: readonly PointBatch[]): Promise<void> {
    const fresh = new Map<bigint, SeriesInfo>()
    for (const b of batches) {
      for (const [id, s] of b.series) if (!this.#knownSeries.has(id)) fresh.set(id, s)
    }
    const seriesTsv = encodeSeries(fresh.values())
    if (seriesTsv !== undefined) {
      await this.#insert('series', SERIES_COLUMNS, seriesTsv)
      for (const id of fresh.keys()) this.#knownSeries.add(id)
    }
    for (const table of POINT_TABLES) {
      const tsv = encodePoints(table, batches)
      if (tsv !== undefined) await this.#insert(table, POINT_COLUMNS[table], tsv)
    }
  }

  async #insert(table: string, columns: readonly string[], tsv: Buffer): Promise<void> {
    await this.#conn.insertTsv(`${this.db}.${table}`, columns, tsv)
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

  async close(): Promise<void> {
    await this.client.close()
  }
}
