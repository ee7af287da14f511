import { MIGRATIONS } from './migrations.ts'
import type { TsvChunk } from './connect.ts'
import type { Store } from './store.ts'

/** Where `governor migrate` reads: the embedded store. */
export interface CopySource {
  /** The stored columns of a table (no ALIAS or MATERIALIZED ones: the target computes those). */
  columns(table: string): Promise<string[]>
  count(table: string): Promise<number>
  /** Every row of the table, as TabSeparated chunks of whole rows. */
  read(table: string, columns: readonly string[]): AsyncIterable<TsvChunk>
}

/** Where it writes: a ClickHouse server (`Store`), or any store that takes TSV. */
export interface CopyTarget {
  count(table: string): Promise<number>
  insertTsv(table: string, columns: readonly string[], tsv: Buffer): Promise<void>
}

/** Where a copy is: for a progress bar. */
export interface CopyProgress {
  table: string
  tableIndex: number
  tables: number
  copied: number
  total: number
}

/** One table's count check at the end. */
export interface TableCount {
  table: string
  source: number
  target: number
}

/** Every table the migrations create, in their order (schema_migrations is the target's own). */
export const COPIED_TABLES: readonly string[] = MIGRATIONS.flatMap((m) => Object.keys(m.layout))

/** How a copy is cut into inserts and reported. */
export interface CopyOptions {
  /** Rows per insert into the target. */
  batchRows: number
  onProgress?: (p: CopyProgress) => void
  tables?: readonly string[]
}

/**
 * Copies every table from `source` to `target`, in inserts of about `batchRows` rows, and
 * counts both sides of each table at the end (the caller fails on any difference). A target
 * table that already holds rows stops the copy before anything is written: a second run must
 * not double the data.
 */
export async function copyStore(source: CopySource, target: CopyTarget, o: CopyOptions): Promise<TableCount[]> {
  const tables = o.tables ?? COPIED_TABLES
  const busy = []
  for (const t of tables) if ((await target.count(t)) > 0) busy.push(t) // FINAL or not, empty is empty
  if (busy.length > 0)
    throw new Error(
      `the target already holds rows in ${busy.join(', ')}: copy into an empty database (drop it or choose another GOVERNOR_CLICKHOUSE_DATABASE)`,
    )
  for (const [i, table] of tables.entries()) {
    const columns = await source.columns(table)
    const total = await source.count(table)
    let copied = 0
    let pending: Uint8Array[] = []
    let pendingRows = 0
    const flush = async () => {
      if (pendingRows === 0) return
      await target.insertTsv(table, columns, Buffer.concat(pending))
      copied += pendingRows
      pending = []
      pendingRows = 0
      o.onProgress?.({ table, tableIndex: i, tables: tables.length, copied, total })
    }
    o.onProgress?.({ table, tableIndex: i, tables: tables.length, copied, total })
    for await (const chunk of source.read(table, columns)) {
      pending.push(chunk.tsv)
      pendingRows += chunk.rows
      if (pendingRows >= o.batchRows) await flush()
    }
    await flush()
  }
  const counts: TableCount[] = []
  for (const table of tables)
    counts.push({ table, source: await source.count(table), target: await target.count(table) })
  return counts
}

/** The embedded store as a copy source. */
export function storeSource(store: Store): CopySource {
  const stream = store.streamTsv
  if (stream === undefined) throw new Error('the copy source must be the embedded store')
  return {
    columns: async (table) => {
      const rs = await store.client.query({
        query: `SELECT name FROM system.columns WHERE database = {db:String} AND table = {table:String} AND default_kind NOT IN ('ALIAS', 'MATERIALIZED', 'EPHEMERAL') ORDER BY position`,
        query_params: { db: store.db, table },
        format: 'JSONCompactEachRow',
      })
      return (await rs.json<[string]>()).map(([c]) => c)
    },
    count: (table) => countRows(store, table),
    read: (table, columns) => stream(`SELECT ${columns.map((c) => `\`${c}\``).join(', ')} FROM ${store.db}.${table}`),
  }
}

/** A store as a copy target. */
export function storeTarget(store: Store): CopyTarget {
  return {
    count: (table) => countRows(store, table),
    insertTsv: (table, columns, tsv) => store.insertTsv(table, columns, tsv),
  }
}

/**
 * Tables whose rows a ReplacingMergeTree folds together: each side may fold its duplicates at
 * any time, so they are counted as FINAL shows them (the rows the collector reads).
 */
export const FOLDED_TABLES: ReadonlySet<string> = new Set(
  MIGRATIONS.flatMap((m) => m.statements({ db: 'db', retentionDays: 1 }))
    .map((s) => /^CREATE TABLE IF NOT EXISTS db\.(\w+) [\s\S]*\) ENGINE = ReplacingMergeTree/.exec(s)?.[1])
    .filter((t) => t !== undefined),
)

/** Rows of a table: as stored, or as FINAL shows them for FOLDED_TABLES. */
export async function countRows(
  store: Pick<Store, 'client' | 'db'>,
  table: string,
  final = FOLDED_TABLES.has(table),
): Promise<number> {
  const rs = await store.client.query({
    query: `SELECT count() FROM ${store.db}.${table}${final ? ' FINAL' : ''}`,
    format: 'JSONCompactEachRow',
  })
  const [[n = 0] = []] = await rs.json<[string | number]>()
  return Number(n)
}
