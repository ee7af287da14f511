import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { syncDir, writeDurably } from './durable-files.ts'
import { COMMIT_COLUMNS, COMMIT_TABLES, type CommitTable } from '../store/encoded-batch.ts'
import { commitSplitting, lineStarts, type RefusedRows, type TableInsert } from './split-commit.ts'

/** A set of rows the store refused for their content, kept on disk until replayed. */
export interface QuarantineEntry {
  /** `<commit token>-<table>`: the same refusal met again (a replay after a crash) is the same entry. */
  readonly id: string
  readonly table: CommitTable
  /** Column order of the rows. */
  readonly columns: readonly string[]
  readonly rows: number
  /** The store's message for each row, in order. */
  readonly errors: readonly string[]
  /** When the rows were set aside, epoch milliseconds. */
  readonly quarantinedAt: number
  /** The commit they came from (its deduplication token; the log segment's name). */
  readonly source: string
}

/** What a replay did with one entry. */
export interface ReplayOutcome {
  readonly id: string
  readonly table: CommitTable
  readonly stored: number
  /** Rows the store refuses still; they stay in the entry. */
  readonly refused: number
}

const ID = /^[A-Za-z0-9_.-]+$/

/**
 * The quarantine: rows the store refused for their content (see data-error.ts), set aside so
 * that the rest of their commit is stored and ingest goes on. Each entry is two files in
 * `dir`, written to a temporary name, fsynced and renamed (the rows leave the log only once
 * they are here):
 *
 *   <id>.tsv    the rows, exactly as they were sent to the store
 *   <id>.json   table, columns, the store's message per row, time, source commit
 *
 * The .json is written last: an entry without one is incomplete and not listed. Inspect the
 * entries, fix what made them fail (a column type, a setting), then replay them: what the
 * store takes is stored, what it still refuses stays.
 */
export class Quarantine {
  readonly #dir: string
  readonly #now: () => number

  constructor(dir: string, now: () => number = Date.now) {
    this.#dir = dir
    this.#now = now
  }

  get dir(): string {
    return this.#dir
  }

  /** Sets refused rows aside, one entry per table; returns the entries written. */
  put(token: string | undefined, refused: readonly RefusedRows[]): QuarantineEntry[] {
    if (refused.length === 0) return []
    mkdirSync(this.#dir, { recursive: true })
    // Without a token (no log) the rows have no stable name: a fresh one each time.
    const source = token ?? `direct-${this.#now()}-${randomBytes(4).toString('hex')}`
    const entries = refused.map((r) =>
      this.#write(
        {
          id: `${source}-${r.table}`,
          table: r.table,
          columns: COMMIT_COLUMNS[r.table],
          rows: r.errors.length,
          errors: r.errors,
          quarantinedAt: this.#now(),
          source,
        },
        r.rows,
      ),
    )
    syncDir(this.#dir)
    return entries
  }

  /** Every complete entry (metadata and rows), oldest first. */
  list(): QuarantineEntry[] {
    let names: string[]
    try {
      names = readdirSync(this.#dir)
    } catch {
      return []
    }
    const entries: QuarantineEntry[] = []
    for (const n of names) {
      if (!n.endsWith('.json') || !existsSync(join(this.#dir, `${n.slice(0, -5)}.tsv`))) continue
      try {
        entries.push(JSON.parse(readFileSync(join(this.#dir, n), 'utf8')) as QuarantineEntry)
      } catch {
        // Unreadable metadata: left for a person to look at; never replayed blindly.
      }
    }
    return entries.sort((a, b) => a.quarantinedAt - b.quarantinedAt || a.id.localeCompare(b.id))
  }

  /** The rows of an entry, as TSV. */
  rowsOf(id: string): Buffer {
    if (!ID.test(id)) throw new Error(`not a quarantine entry id: ${JSON.stringify(id)}`)
    return readFileSync(join(this.#dir, `${id}.tsv`))
  }

  /**
   * Sends the rows of the entries `ids` (all when undefined) to the store again, through the
   * same split as a commit: what it takes is stored and leaves the quarantine, what it still
   * refuses stays, with the new messages. Throws, leaving the entry as it was, if the store
   * cannot take rows now.
   */
  async replay(
    insert: TableInsert,
    isDataError: (err: unknown) => boolean,
    ids?: readonly string[],
  ): Promise<ReplayOutcome[]> {
    const wanted = ids === undefined ? undefined : new Set(ids)
    const out: ReplayOutcome[] = []
    for (const entry of this.list()) {
      if (wanted !== undefined && !wanted.has(entry.id)) continue
      const rows = this.rowsOf(entry.id)
      const t = COMMIT_TABLES.indexOf(entry.table)
      const tables = COMMIT_TABLES.map((_, i) => (i === t ? rows : undefined))
      // Named after the rows: a replay cut short and tried again stores nothing twice.
      const token = `q-${entry.id}-${createHash('sha256').update(rows).digest('hex').slice(0, 16)}`
      const [still] = await commitSplitting({ token, tables, points: 0 }, insert, isDataError)
      if (still === undefined) this.#remove(entry.id)
      else this.#write({ ...entry, rows: still.errors.length, errors: still.errors }, still.rows)
      const refused = still?.errors.length ?? 0
      out.push({ id: entry.id, table: entry.table, stored: lineStarts(rows).length - 1 - refused, refused })
    }
    return out
  }

  #write(entry: QuarantineEntry, rows: Buffer): QuarantineEntry {
    writeDurably(join(this.#dir, `${entry.id}.tsv`), rows)
    writeDurably(join(this.#dir, `${entry.id}.json`), Buffer.from(JSON.stringify(entry, null, 2)))
    return entry
  }

  #remove(id: string): void {
    // Metadata first: a half-removed entry is never listed again.
    unlinkSync(join(this.#dir, `${id}.json`))
    unlinkSync(join(this.#dir, `${id}.tsv`))
  }
}
