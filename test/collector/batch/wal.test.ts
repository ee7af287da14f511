import {
  existsSync,
  fstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  appendFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { WriteAheadLog, type LoggedBatch } from '../../../collector/src/batch/wal.ts'
import { isGovernorError } from '../../../collector/src/errors.ts'
import { loadSettings } from '../../../collector/src/settings.ts'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'governor-wal-'))
  dirs.push(dir)
  return dir
}

const batch = (n: number): LoggedBatch => ({
  points: n,
  chunks: [undefined, Buffer.from(`${n}\t1\t0\t0\t1\n`.repeat(n))],
})
const segments = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.wal'))

/** A log with one segment of `records` records, left on disk as a crash leaves it. */
function segmentWith(dir: string, records: number): string {
  const { wal } = WriteAheadLog.open(dir)
  for (let i = 1; i <= records; i++) wal.append(batch(i))
  const id = wal.seal()!
  wal.close()
  return join(dir, `${id}.wal`)
}

describe('WriteAheadLog after a power loss', () => {
  it('sets a zero-filled segment with a valid name aside instead of failing to open', () => {
    const dir = tempDir()
    const name = '1700000000000-0123456789abcdef-00000001.wal'
    const good = segmentWith(dir, 2)
    writeFileSync(join(dir, name), Buffer.alloc(4096))
    const { wal, leftovers, damage } = WriteAheadLog.open(dir)
    wal.close()
    expect(leftovers.map((l) => l.batches.length)).toEqual([2])
    expect(damage).toEqual([
      expect.objectContaining({
        segment: name,
        kind: 'bad-header',
        records: 0,
        bytes: 4096,
        keptAt: join(dir, 'damaged', name),
      }),
    ])
    expect(segments(dir)).toEqual([good.slice(dir.length + 1)])
    expect(readFileSync(join(dir, 'damaged', name))).toEqual(Buffer.alloc(4096))
  })

  it('replays the records before a truncated one, cuts the segment there and keeps the tail aside', () => {
    const dir = tempDir()
    const path = segmentWith(dir, 3)
    const full = statSync(path).size
    truncateSync(path, full - 5) // the third record cut short
    const { wal, leftovers, damage } = WriteAheadLog.open(dir)
    wal.close()
    expect(leftovers[0]!.batches.map((b) => b.points)).toEqual([1, 2])
    expect(damage).toEqual([expect.objectContaining({ kind: 'torn-tail', records: 2 })])
    expect(statSync(path).size).toBe(full - 5 - damage[0]!.bytes) // cut at the last good record
    expect(existsSync(damage[0]!.keptAt)).toBe(true)
    // Opened again, the segment is clean.
    const again = WriteAheadLog.open(dir)
    again.wal.close()
    expect(again.damage).toEqual([])
    expect(again.leftovers[0]!.batches).toHaveLength(2)
  })

  it('cuts a zeroed tail (the file grew, its data never reached the disk)', () => {
    const dir = tempDir()
    const path = segmentWith(dir, 2)
    appendFileSync(path, Buffer.alloc(8192))
    const { wal, leftovers, damage } = WriteAheadLog.open(dir)
    wal.close()
    expect(leftovers[0]!.batches).toHaveLength(2)
    expect(damage).toEqual([
      expect.objectContaining({ kind: 'torn-tail', records: 2, bytes: 8192, reason: expect.stringMatching(/zeros/) }),
    ])
  })

  it('stops at a record whose CRC-32 fails, even if good-looking records follow', () => {
    const dir = tempDir()
    const path = segmentWith(dir, 3)
    const bytes = readFileSync(path)
    // Flip a byte inside the second record's body (records: 8-byte header, then body).
    const first = 8 + 8 + bytes.readUInt32LE(8)
    bytes[first + 8 + 30]! ^= 0xff
    writeFileSync(path, bytes)
    const { wal, leftovers, damage } = WriteAheadLog.open(dir)
    wal.close()
    expect(leftovers[0]!.batches.map((b) => b.points)).toEqual([1])
    expect(damage[0]).toMatchObject({ kind: 'torn-tail', records: 1, reason: expect.stringMatching(/CRC/) })
  })

  it('removes a segment cut before its header was written, silently', () => {
    const dir = tempDir()
    writeFileSync(join(dir, '1700000000000-0123456789abcdef-00000001.wal'), 'GOVW')
    const { wal, leftovers, damage } = WriteAheadLog.open(dir)
    wal.close()
    expect([leftovers, damage, segments(dir)]).toEqual([[], [], []])
  })
})

describe('WriteAheadLog fsync policy', () => {
  function counting(fsyncMillis: number) {
    const dir = tempDir()
    const syncs: number[] = []
    const { wal } = WriteAheadLog.open(dir, {
      fsyncMillis,
      sync: (fd) => {
        syncs.push(fd)
      },
      syncInBackground: (fd, done) => {
        syncs.push(fd)
        setImmediate(() => done(null))
      },
    })
    return { wal, syncs }
  }

  it('0: fsyncs before every append returns (before the acknowledgement)', () => {
    const { wal, syncs } = counting(0)
    wal.append(batch(1))
    expect(syncs).toHaveLength(1)
    wal.append(batch(2))
    expect(syncs).toHaveLength(2)
    wal.close()
  })

  it('N ms: one fsync for the appends of an interval, and one when a segment is sealed', async () => {
    const { wal, syncs } = counting(20)
    wal.append(batch(1))
    wal.append(batch(2))
    expect(syncs).toHaveLength(0) // acknowledged before the sync: the interval is what a power loss can take
    await expect.poll(() => syncs.length, { timeout: 2000, interval: 5 }).toBe(1)
    wal.append(batch(3))
    wal.seal()
    expect(syncs).toHaveLength(2)
    wal.flush() // nothing new: no sync
    expect(syncs).toHaveLength(2)
    wal.close()
  })

  it("N ms: the interval's flush runs off the event loop, and a segment sealed meanwhile is closed only once it is done", async () => {
    const dir = tempDir()
    const pending: { fd: number; done: (err: Error | null) => void }[] = []
    const { wal } = WriteAheadLog.open(dir, {
      fsyncMillis: 10,
      sync: () => {},
      syncInBackground: (fd, done) => {
        pending.push({ fd, done })
      },
    })
    wal.append(batch(1))
    await expect.poll(() => pending.length, { timeout: 2000, interval: 5 }).toBe(1)
    const { fd, done } = pending[0]!
    wal.seal()
    expect(() => fstatSync(fd)).not.toThrow() // still open: the sync holds it
    wal.append(batch(2)) // a new segment, on another file
    done(null)
    expect(() => fstatSync(fd)).toThrow(/EBADF/)
    wal.close()
  })

  it('-1: never fsyncs', () => {
    const { wal, syncs } = counting(-1)
    wal.append(batch(1))
    wal.seal()
    wal.close()
    expect(syncs).toHaveLength(0)
  })

  it('GOVERNOR_WAL_FSYNC_MILLIS defaults to 100 ms and refuses values out of its bounds, naming them', () => {
    expect(loadSettings({}, {}).walFsyncMillis).toBe(100)
    expect(loadSettings({}, { GOVERNOR_WAL_FSYNC_MILLIS: '0' }).walFsyncMillis).toBe(0)
    expect(loadSettings({}, { GOVERNOR_WAL_FSYNC_MILLIS: '-1' }).walFsyncMillis).toBe(-1)
    for (const [value, why] of [
      ['-2', /below the minimum -1/],
      ['10001', /above the maximum 10000/],
      ['off', /expected a whole number/],
      ['0.5', /expected a whole number/],
    ] as const) {
      let caught: unknown
      try {
        loadSettings({}, { GOVERNOR_WAL_FSYNC_MILLIS: value })
      } catch (err) {
        caught = err
      }
      expect(isGovernorError(caught) && caught.code).toBe('GOV_ERR_SETTINGS_INVALID')
      expect((caught as Error).message).toContain(`GOVERNOR_WAL_FSYNC_MILLIS=${JSON.stringify(value)}`)
      expect((caught as Error).message).toMatch(why)
    }
  })
})
