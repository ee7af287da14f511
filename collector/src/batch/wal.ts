import { randomBytes } from 'node:crypto'
import { closeSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync, writevSync } from 'node:fs'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { lockDataDir } from '../store/data-dir-lock.ts'
import { COMMIT_TABLES } from './encoded-batch.ts'

/** A batch as the log holds it: its point count and a TSV chunk per commit table. */
export interface LoggedBatch {
  readonly points: number
  readonly chunks: readonly (Buffer | undefined)[]
}

/** A segment left by an earlier run, read back whole. */
export interface LeftoverSegment {
  readonly id: string
  readonly batches: LoggedBatch[]
  /** Bytes at the end that did not form a whole record (a write cut short by a crash). */
  readonly tornBytes: number
}

const MAGIC = Buffer.from('GOVWAL01')
const NAME = /^(\d{13}-[0-9a-f]{16}-\d{8})\.wal$/
const NO_CHUNK = 0xffffffff
// A record: u32 body length, u32 CRC-32 of the body, then the body:
//   u32 points, then per commit table a u32 chunk length (NO_CHUNK for none), then the chunks.
const RECORD_HEAD = 8
const BODY_HEAD = 4 + 4 * COMMIT_TABLES.length

/**
 * The write-ahead log of the ingest pipeline. A request's rows are appended here before it
 * is acknowledged, and the rows of one commit are exactly one segment: the segment's name is
 * the commit's deduplication token, so a commit replayed after a crash (its insert may or may
 * not have landed) is stored once. A segment is deleted once its commit is in the store.
 *
 *   append ─► segment N (open) ── seal ─► commit with token wal-N ─► remove
 *
 * Appends are synchronous writes to the page cache: a record is in the file before the
 * acknowledgement leaves, so it survives the process being killed. Like the engine's own
 * parts (ClickHouse does not fsync an insert by default), it is not fsynced: a power loss can
 * take the last seconds.
 */
export class WriteAheadLog {
  readonly #dir: string
  readonly #boot: string
  #seq = 0
  #fd: number | undefined
  #size = 0
  #current = ''
  readonly #release: () => void

  private constructor(dir: string, boot: string, release: () => void) {
    this.#dir = dir
    this.#boot = boot
    this.#release = release
  }

  /**
   * Opens the log in `dir` (created when missing) and reads back the segments an earlier run
   * left, oldest first. Their commits may or may not have landed: replay them with their ids
   * as tokens, then remove them. With `lock`, the directory is locked against other
   * processes until `close` (two collectors must never replay each other's log).
   */
  static open(dir: string, opts: { lock?: boolean; now?: number } = {}): { wal: WriteAheadLog; leftovers: LeftoverSegment[] } {
    mkdirSync(dir, { recursive: true })
    const release = opts.lock === true ? lockDataDir(dir) : () => {}
    try {
      const names = readdirSync(dir).filter((n) => NAME.test(n)).sort()
      const leftovers = names.map((n) => readSegment(join(dir, n), n.slice(0, -4)))
      const boot = `${String(opts.now ?? Date.now()).padStart(13, '0')}-${randomBytes(8).toString('hex')}`
      return { wal: new WriteAheadLog(dir, boot, release), leftovers }
    } catch (err) {
      release()
      throw err
    }
  }

  /** Appends one batch to the open segment (opening one if none is); throws if the disk refuses. */
  append(batch: LoggedBatch): void {
    if (this.#fd === undefined) this.#openSegment()
    const fd = this.#fd!
    const head = Buffer.allocUnsafe(RECORD_HEAD + BODY_HEAD)
    head.writeUInt32LE(batch.points, RECORD_HEAD)
    let bodyLength = BODY_HEAD
    const parts: Buffer[] = [head]
    for (let t = 0; t < COMMIT_TABLES.length; t++) {
      const c = batch.chunks[t]
      head.writeUInt32LE(c === undefined ? NO_CHUNK : c.length, RECORD_HEAD + 4 + 4 * t)
      if (c !== undefined) {
        parts.push(c)
        bodyLength += c.length
      }
    }
    let crc = crc32(head.subarray(RECORD_HEAD))
    for (let i = 1; i < parts.length; i++) crc = crc32(parts[i]!, crc)
    head.writeUInt32LE(bodyLength, 0)
    head.writeUInt32LE(crc, 4)
    try {
      writeAll(fd, parts, RECORD_HEAD + bodyLength)
    } catch (err) {
      // Half a record must not stay in front of the next one: cut it off, or, if even that
      // fails, leave this segment (its torn tail is dropped on replay) and start a new one.
      try {
        ftruncateSync(fd, this.#size)
      } catch {
        this.#closeSegment()
      }
      throw err
    }
    this.#size += RECORD_HEAD + bodyLength
  }

  /** Closes the open segment and returns its id (the token of its commit); undefined if none is open. */
  seal(): string | undefined {
    if (this.#fd === undefined) return undefined
    const id = this.#current
    this.#closeSegment()
    return id
  }

  /** Deletes a segment whose commit is in the store. */
  remove(id: string): void {
    unlinkSync(join(this.#dir, `${id}.wal`))
  }

  /** Closes the open segment, if any (it stays on disk for the next start) and releases the lock. */
  close(): void {
    this.#closeSegment()
    this.#release()
  }

  #openSegment(): void {
    this.#current = `${this.#boot}-${String(++this.#seq).padStart(8, '0')}`
    const fd = openSync(join(this.#dir, `${this.#current}.wal`), 'w')
    try {
      writeAll(fd, [MAGIC], MAGIC.length)
    } catch (err) {
      closeSync(fd)
      throw err
    }
    this.#fd = fd
    this.#size = MAGIC.length
  }

  #closeSegment(): void {
    if (this.#fd !== undefined) closeSync(this.#fd)
    this.#fd = undefined
  }
}

/** The token a segment's commit carries (ClickHouse's insert_deduplication_token). */
export function segmentToken(id: string): string {
  return `wal-${id}`
}

function writeAll(fd: number, parts: Buffer[], total: number): void {
  let written = writevSync(fd, parts)
  while (written < total) {
    // A short write (rare: a signal, a nearly full disk): write what is left.
    let skip = written
    const rest: Buffer[] = []
    for (const p of parts) {
      if (skip >= p.length) skip -= p.length
      else {
        rest.push(p.subarray(skip))
        skip = 0
      }
    }
    written += writevSync(fd, rest)
  }
}

function readSegment(path: string, id: string): LeftoverSegment {
  const bytes = readFileSync(path)
  const batches: LoggedBatch[] = []
  // A crash between creating the file and writing its magic leaves it empty or short.
  if (bytes.length < MAGIC.length) return { id, batches, tornBytes: bytes.length }
  if (!bytes.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error(`${path} is not a Governor write-ahead log segment (bad header)`)
  let pos = MAGIC.length
  while (pos + RECORD_HEAD <= bytes.length) {
    const length = bytes.readUInt32LE(pos)
    const end = pos + RECORD_HEAD + length
    if (length < BODY_HEAD || end > bytes.length) break
    const body = bytes.subarray(pos + RECORD_HEAD, end)
    if (crc32(body) !== bytes.readUInt32LE(pos + 4)) break
    const chunks: (Buffer | undefined)[] = []
    let at = BODY_HEAD
    for (let t = 0; t < COMMIT_TABLES.length; t++) {
      const n = body.readUInt32LE(4 + 4 * t)
      if (n === NO_CHUNK) chunks.push(undefined)
      else {
        chunks.push(body.subarray(at, at + n))
        at += n
      }
    }
    batches.push({ points: body.readUInt32LE(0), chunks })
    pos = end
  }
  return { id, batches, tornBytes: bytes.length - pos }
}
