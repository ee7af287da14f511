import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { afterEach, describe, expect, it } from 'vitest'
import { WriteAheadLog } from '../../../collector/src/batch/wal.ts'
import { COMMIT_TABLES } from '../../../collector/src/store/encoded-batch.ts'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'governor-wal-formats-'))
  dirs.push(dir)
  return dir
}

/**
 * A record of the first segment format, written byte by byte as that version wrote it:
 * u32 body length, u32 CRC-32 of the body; body: u32 points, five u32 chunk lengths
 * (series, samples, histograms, exp_histograms, summaries; 0xffffffff for none), the chunks.
 */
function v1Record(points: number, chunks: (string | undefined)[]): Buffer {
  expect(chunks).toHaveLength(5)
  const head = Buffer.alloc(4 + 4 * 5)
  head.writeUInt32LE(points, 0)
  const bodies: Buffer[] = []
  chunks.forEach((c, t) => {
    head.writeUInt32LE(c === undefined ? 0xffffffff : Buffer.byteLength(c), 4 + 4 * t)
    if (c !== undefined) bodies.push(Buffer.from(c))
  })
  const body = Buffer.concat([head, ...bodies])
  const prefix = Buffer.alloc(8)
  prefix.writeUInt32LE(body.length, 0)
  prefix.writeUInt32LE(crc32(body), 4)
  return Buffer.concat([prefix, body])
}

describe('write-ahead log segment formats', () => {
  it('writes the current format, whose records carry the exemplars table', () => {
    const dir = tempDir()
    const { wal } = WriteAheadLog.open(dir)
    const chunks = COMMIT_TABLES.map((t) => (t === 'exemplars' ? Buffer.from('7\t1000\t2.5\t{}\n') : undefined))
    wal.append({ points: 0, chunks })
    const id = wal.seal()!
    wal.close()
    expect(
      readFileSync(join(dir, `${id}.wal`))
        .subarray(0, 8)
        .toString(),
    ).toBe('GOVWAL02')
    const { wal: again, leftovers } = WriteAheadLog.open(dir)
    again.close()
    expect(leftovers[0]!.batches[0]!.chunks[COMMIT_TABLES.indexOf('exemplars')]?.toString()).toBe('7\t1000\t2.5\t{}\n')
  })

  it('replays a segment an older version wrote (GOVWAL01, five tables) after the upgrade', () => {
    const dir = tempDir()
    const name = '1700000000000-0123456789abcdef-00000001'
    writeFileSync(
      join(dir, `${name}.wal`),
      Buffer.concat([
        Buffer.from('GOVWAL01'),
        v1Record(2, ['m\t1\tgauge\n', '1\t1000\t0\t0\t1\n1\t2000\t0\t0\t2\n', undefined, undefined, undefined]),
        v1Record(1, [undefined, undefined, undefined, undefined, '1\t3000\t0\t0\t1\t1\t[]\t[]\n']),
      ]),
    )
    const { wal, leftovers, damage } = WriteAheadLog.open(dir)
    wal.close()
    expect(damage).toEqual([])
    expect(leftovers).toHaveLength(1)
    const [first, second] = leftovers[0]!.batches
    expect(first!.points).toBe(2)
    expect(first!.chunks).toHaveLength(COMMIT_TABLES.length)
    expect(first!.chunks[COMMIT_TABLES.indexOf('series')]?.toString()).toBe('m\t1\tgauge\n')
    expect(first!.chunks[COMMIT_TABLES.indexOf('samples')]?.toString()).toBe('1\t1000\t0\t0\t1\n1\t2000\t0\t0\t2\n')
    expect(first!.chunks[COMMIT_TABLES.indexOf('exemplars')]).toBeUndefined()
    expect(second!.chunks[COMMIT_TABLES.indexOf('summaries')]?.toString()).toBe('1\t3000\t0\t0\t1\t1\t[]\t[]\n')
    expect(second!.chunks[COMMIT_TABLES.indexOf('exemplars')]).toBeUndefined()
  })
})
