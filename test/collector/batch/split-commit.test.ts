import { describe, expect, it } from 'vitest'
import { DATA_ERROR_CODES, isDataError, storeErrorCode } from '../../../collector/src/store/data-error.ts'
import { COMMIT_TABLES, type CommitTable } from '../../../collector/src/store/encoded-batch.ts'
import { commitSplitting, type TableInsert } from '../../../collector/src/batch/split-commit.ts'

/** An error as the embedded engine throws it. */
function engineError(code: number, message = `Code: ${code}. DB::Exception: refused`): Error {
  return Object.assign(new Error(message), { clickhouseCode: code })
}

/**
 * A store that refuses any insert holding a line with BAD (a parse error), records what it
 * stored by token (a token seen again stores nothing, as the engine's deduplication does),
 * and can be told to go down after some inserts.
 */
function fakeStore(opts: { downAfter?: number } = {}) {
  const stored = new Map<string, string[]>() // token → lines
  const attempts: { table: CommitTable; token: string | undefined; lines: number }[] = []
  const insert: TableInsert = async (table, rows, token) => {
    attempts.push({ table, token, lines: rows.toString().split('\n').filter(Boolean).length })
    if (opts.downAfter !== undefined && attempts.length > opts.downAfter)
      throw engineError(242, 'Code: 242. DB::Exception: Table is in readonly mode')
    const lines = rows.toString().split('\n').filter(Boolean)
    if (lines.some((l) => l.includes('BAD')))
      throw engineError(27, `Code: 27. DB::Exception: Cannot parse input: ${lines.find((l) => l.includes('BAD'))}`)
    if (token === undefined || !stored.has(token)) stored.set(token ?? `anon-${stored.size}`, lines)
  }
  const all = () => [...stored.values()].flat().sort()
  return { insert, stored, attempts, all }
}

const tables = (byTable: Partial<Record<CommitTable, string[]>>) =>
  COMMIT_TABLES.map((t) =>
    byTable[t] === undefined ? undefined : Buffer.from(byTable[t]!.map((l) => `${l}\n`).join('')),
  )

describe('commitSplitting', () => {
  it('commits a clean group with one insert per table and the token of each table', async () => {
    const s = fakeStore()
    const refused = await commitSplitting(
      { token: 'wal-x', points: 3, tables: tables({ series: ['s1'], samples: ['a', 'b', 'c'] }) },
      s.insert,
      isDataError,
    )
    expect(refused).toEqual([])
    expect(s.attempts.map((a) => a.token)).toEqual(['wal-x-series', 'wal-x-samples'])
  })

  it("stores every row but the refused ones, and returns those with their table and the store's message", async () => {
    const s = fakeStore()
    const rows = Array.from({ length: 64 }, (_, i) => (i === 5 || i === 40 ? `BAD${i}` : `r${i}`))
    const refused = await commitSplitting(
      { token: 'wal-x', points: 64, tables: tables({ series: ['s1'], samples: rows }) },
      s.insert,
      isDataError,
    )
    expect(s.all()).toEqual(['s1', ...rows.filter((r) => !r.startsWith('BAD'))].sort())
    expect(refused).toHaveLength(1)
    expect(refused[0]!.table).toBe('samples')
    expect(refused[0]!.rows.toString()).toBe('BAD5\nBAD40\n')
    expect(refused[0]!.errors).toHaveLength(2)
    expect(refused[0]!.errors[0]).toMatch(/Cannot parse input: BAD5/)
    // About 2·k·log2(n) inserts, not one per row.
    expect(s.attempts.length).toBeLessThan(30)
  })

  it('derives the same tokens when run again, so a split cut short by a crash stores nothing twice', async () => {
    const rows = Array.from({ length: 20 }, (_, i) => (i === 13 ? 'BAD' : `r${i}`))
    const group = { token: 'wal-y', points: 20, tables: tables({ samples: rows }) }
    const first = fakeStore({ downAfter: 4 }) // the store goes away half-way through the split
    await expect(commitSplitting(group, first.insert, isDataError)).rejects.toThrow(/readonly/)
    const stored = first.stored.size
    expect(stored).toBeGreaterThan(0)
    // The replay: the same store, its remembered tokens, up again.
    const again = fakeStore()
    for (const [k, v] of first.stored) again.stored.set(k, v)
    const refused = await commitSplitting(group, again.insert, isDataError)
    expect(refused.map((r) => r.rows.toString())).toEqual(['BAD\n'])
    expect(again.all()).toEqual(rows.filter((r) => r !== 'BAD').sort()) // each row once
  })

  it('throws, without splitting, when the store cannot take rows (not a data error)', async () => {
    const s = fakeStore({ downAfter: 0 })
    await expect(
      commitSplitting({ token: 'wal-z', points: 2, tables: tables({ samples: ['a', 'b'] }) }, s.insert, isDataError),
    ).rejects.toThrow(/readonly/)
    expect(s.attempts).toHaveLength(1)
  })

  it('quarantines a table of one refused row with the first answer', async () => {
    const s = fakeStore()
    const refused = await commitSplitting(
      { token: undefined, points: 1, tables: tables({ samples: ['BAD'] }) },
      s.insert,
      isDataError,
    )
    expect(refused.map((r) => [r.table, r.rows.toString()])).toEqual([['samples', 'BAD\n']])
    expect(s.attempts).toHaveLength(1)
  })
})

describe('data errors', () => {
  it('reads the engine code from the embedded engine, a server and a message', () => {
    expect(storeErrorCode(engineError(27))).toBe(27)
    expect(storeErrorCode(Object.assign(new Error('x'), { code: '72', type: 'CANNOT_PARSE_NUMBER' }))).toBe(72)
    expect(storeErrorCode(new Error('Code: 6. DB::Exception: Cannot parse text'))).toBe(6)
    expect(storeErrorCode(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBeUndefined()
  })

  it('treats parse, type and range errors as data errors, and an unreachable, full or read-only store as not', () => {
    for (const code of [6, 27, 53, 72, 321]) expect(isDataError(engineError(code))).toBe(true)
    // READONLY, NOT_ENOUGH_SPACE, TOO_MANY_PARTS, MEMORY_LIMIT_EXCEEDED, UNKNOWN_TABLE, NO_SUCH_COLUMN_IN_TABLE
    for (const code of [164, 243, 252, 241, 60, 16]) expect(isDataError(engineError(code)), String(code)).toBe(false)
    expect(isDataError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(false)
    expect(DATA_ERROR_CODES.size).toBeGreaterThan(10)
  })
})
