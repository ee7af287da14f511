import { COMMIT_TABLES, type CommitTable } from '../store/encoded-batch.ts'
import type { CommitGroup } from './write-pipeline.ts'

/** One insert of TSV rows into a commit table; with a token, the store takes the same insert once. */
export type TableInsert = (table: CommitTable, rows: Buffer, token: string | undefined) => Promise<void>

/** Rows of one table the store refused for their content, with its reason for each. */
export interface RefusedRows {
  readonly table: CommitTable
  /** The refused rows, TSV lines in commit order, each ended by a newline. */
  readonly rows: Buffer
  /** The store's message for each refused row, in order. */
  readonly errors: readonly string[]
}

/** Longest store message kept per refused row (the engine adds a multi-line diagnosis). */
const MAX_MESSAGE = 2000

/**
 * Writes a commit's rows, one insert per table in COMMIT_TABLES order, and returns the rows
 * the store refused for their content (`isDataError`) instead of failing on them. Any other
 * error is thrown: the store cannot take rows now, and the commit is retried whole later.
 *
 * A refused table's rows are bisected until each refusal is pinned to one row:
 *
 *   rows 0..8 ✗ ─┬─ 0..4 ✓ stored
 *                └─ 4..8 ✗ ─┬─ 4..6 ✓ stored
 *                           └─ 6..8 ✗ ─┬─ 6..7 ✓ stored
 *                                      └─ 7..8 ✗ refused: row 7
 *
 * k bad rows among n cost about 2·k·log2(n) inserts. Every insert carries a token derived
 * from the commit's and the row range (`<token>-<table>-<from>-<to>`): the split of the same
 * rows is the same every time, so a commit cut short by a crash half-way through its split is
 * replayed with the same tokens, and the ranges that landed are not stored twice. The first,
 * whole insert keeps `<token>-<table>`, the token of a commit that is never split.
 */
export async function commitSplitting(
  group: CommitGroup,
  insert: TableInsert,
  isDataError: (err: unknown) => boolean,
): Promise<RefusedRows[]> {
  const refused: RefusedRows[] = []
  for (let t = 0; t < COMMIT_TABLES.length; t++) {
    const rows = group.tables[t]
    const table = COMMIT_TABLES[t]!
    if (rows === undefined || rows.length === 0) continue
    const token = group.token === undefined ? undefined : `${group.token}-${table}`
    let refusal: unknown
    try {
      await insert(table, rows, token)
      continue
    } catch (err) {
      if (!isDataError(err)) throw err
      refusal = err
    }
    const lines = lineStarts(rows)
    const bad: { from: number; message: string }[] = []
    if (lines.length === 2) bad.push({ from: 0, message: messageOf(refusal) })
    else await bisect(table, rows, lines, 0, lines.length - 1, token, insert, isDataError, bad)
    if (bad.length > 0) {
      const parts = bad.map((b) => withNewline(rows.subarray(lines[b.from]!, lines[b.from + 1]!)))
      refused.push({ table, rows: Buffer.concat(parts), errors: bad.map((b) => b.message) })
    }
  }
  return refused
}

/**
 * Splits rows `from..to` (indices into `lines`; at least two, refused together) in two
 * halves and inserts each, recursing into a half of several rows the store refuses.
 */
async function bisect(
  table: CommitTable,
  rows: Buffer,
  lines: readonly number[],
  from: number,
  to: number,
  token: string | undefined,
  insert: TableInsert,
  isDataError: (err: unknown) => boolean,
  bad: { from: number; message: string }[],
): Promise<void> {
  const mid = (from + to) >>> 1
  for (const [a, b] of [
    [from, mid],
    [mid, to],
  ] as const) {
    const half = rows.subarray(lines[a]!, lines[b]!)
    try {
      await insert(table, half, rangeToken(token, a, b))
    } catch (err) {
      if (!isDataError(err)) throw err
      if (b - a === 1) bad.push({ from: a, message: messageOf(err) })
      else await bisect(table, rows, lines, a, b, token, insert, isDataError, bad)
    }
  }
}

function rangeToken(token: string | undefined, from: number, to: number): string | undefined {
  return token === undefined ? undefined : `${token}-${from}-${to}`
}

function messageOf(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err)
  return m.length > MAX_MESSAGE ? `${m.slice(0, MAX_MESSAGE)}…` : m
}

/**
 * Byte offsets where each row starts, plus the end: row i is `rows[starts[i], starts[i+1])`.
 * Rows are TSV lines; the encoders escape newlines inside values, so a newline ends a row.
 */
export function lineStarts(rows: Buffer): number[] {
  const starts = [0]
  for (let at = rows.indexOf(0x0a); at !== -1 && at + 1 < rows.length; at = rows.indexOf(0x0a, at + 1))
    starts.push(at + 1)
  starts.push(rows.length)
  return starts
}

function withNewline(row: Buffer): Buffer {
  return row.length > 0 && row[row.length - 1] === 0x0a ? row : Buffer.concat([row, Buffer.from('\n')])
}
