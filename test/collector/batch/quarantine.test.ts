import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { isDataError } from '../../../collector/src/store/data-error.ts'
import { Quarantine } from '../../../collector/src/batch/quarantine.ts'
import type { TableInsert } from '../../../collector/src/batch/split-commit.ts'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})
function quarantine(): Quarantine {
  const dir = mkdtempSync(join(tmpdir(), 'governor-quarantine-'))
  dirs.push(dir)
  return new Quarantine(join(dir, 'quarantine'), () => 1_700_000_000_000)
}

/** Refuses (as a parse error) every line that holds BAD; records the lines it stores. */
function store() {
  const stored: string[] = []
  const insert: TableInsert = async (_table, rows) => {
    const lines = rows.toString().split('\n').filter(Boolean)
    if (lines.some((l) => l.includes('BAD')))
      throw Object.assign(new Error('Code: 27. DB::Exception: Cannot parse input'), { clickhouseCode: 27 })
    stored.push(...lines)
  }
  return { insert, stored }
}

describe('Quarantine', () => {
  it('keeps refused rows with their table, messages, time and source, under a name a replay of the same commit meets again', () => {
    const q = quarantine()
    const refused = [{ table: 'samples' as const, rows: Buffer.from('BAD1\nBAD2\n'), errors: ['e1', 'e2'] }]
    q.put('wal-s1', refused)
    q.put('wal-s1', refused) // the same commit replayed after a crash: the same entry
    expect(q.list()).toEqual([
      {
        id: 'wal-s1-samples',
        table: 'samples',
        columns: ['series_id', 'ts', 'start', 'flags', 'value'],
        rows: 2,
        errors: ['e1', 'e2'],
        quarantinedAt: 1_700_000_000_000,
        source: 'wal-s1',
      },
    ])
    expect(q.rowsOf('wal-s1-samples').toString()).toBe('BAD1\nBAD2\n')
    expect(readdirSync(q.dir).sort()).toEqual(['wal-s1-samples.json', 'wal-s1-samples.tsv'])
  })

  it('replays: stores what the store takes now, keeps what it still refuses, removes an entry once empty', async () => {
    const q = quarantine()
    q.put('wal-s2', [{ table: 'samples', rows: Buffer.from('ok1\nBAD\nok2\n'), errors: ['e', 'e', 'e'] }])
    q.put('wal-s3', [{ table: 'series', rows: Buffer.from('fine\n'), errors: ['e'] }])
    const s = store()
    expect(await q.replay(s.insert, isDataError, ['wal-s2-samples'])).toEqual([
      { id: 'wal-s2-samples', table: 'samples', stored: 2, refused: 1 },
    ])
    expect(s.stored.sort()).toEqual(['ok1', 'ok2'])
    expect(q.list().map((e) => [e.id, e.rows])).toEqual([
      ['wal-s2-samples', 1],
      ['wal-s3-series', 1],
    ])
    expect(q.rowsOf('wal-s2-samples').toString()).toBe('BAD\n')
    expect(await q.replay(s.insert, isDataError)).toEqual([
      { id: 'wal-s2-samples', table: 'samples', stored: 0, refused: 1 },
      { id: 'wal-s3-series', table: 'series', stored: 1, refused: 0 },
    ])
    expect(q.list().map((e) => e.id)).toEqual(['wal-s2-samples'])
  })

  it('lists nothing for an entry whose rows file is missing, and refuses an id that is a path', () => {
    const q = quarantine()
    q.put('wal-s4', [{ table: 'samples', rows: Buffer.from('x\n'), errors: ['e'] }])
    rmSync(join(q.dir, 'wal-s4-samples.tsv'))
    writeFileSync(join(q.dir, 'junk.json'), '{')
    expect(q.list()).toEqual([])
    expect(() => q.rowsOf('../etc/passwd')).toThrow(/not a quarantine entry id/)
  })
})
