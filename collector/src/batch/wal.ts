import { randomBytes } from 'node:crypto'
import {
  closeSync,
  fdatasync,
  fdatasyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
  writevSync,
} from 'node:fs'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { lockDataDir } from '../store/data-dir-lock.ts'
import { COMMIT_TABLES } from '../store/encoded-batch.ts'
import { syncDir } from './durable-files.ts'

/** A batch as the log holds it: its point count and a TSV chunk per commit table. */
export interface LoggedBatch {
  readonly points: number
  readonly chunks: readonly (Buffer | undefined)[]
}

/** A segment left by an earlier run, read back whole. */
export interface LeftoverSegment {
  readonly id: string
  readonly batches: LoggedBatch[]
  /** Bytes at the end that did not form a whole record (cut off; see WalDamage). */
  readonly tornBytes: number
}

/**
 * A segment found damaged at open: what a power loss can leave of a log that was not synced
 * (a tail or a whole file of zeros, a record cut short), or a disk that returns garbage.
 *
 *   bad-header   the file does not start as a segment: it is moved to `<dir>/damaged/` whole
 *   torn-tail    records up to the damage are good and replayed; the rest is cut off and
 *                kept in `<dir>/damaged/<name>.tail`
 *   unreadable   reading the file failed: it is moved to `<dir>/damaged/`
 */
export interface WalDamage {
  readonly segment: string
  readonly kind: 'bad-header' | 'torn-tail' | 'unreadable'
  /** Whole records read before the damage (they are replayed). */
  readonly records: number
  /** Bytes cut off or set aside. */
  readonly bytes: number
  /** Where they were kept; '' if they could not be moved (the segment is then skipped). */
  readonly keptAt: string
  /** What went wrong, for the log. */
  readonly reason: string
}

/** How the log reaches the disk. */
export interface WalOptions {
  /** Lock the directory against other processes until `close`. */
  lock?: boolean
  /** Epoch milliseconds, for the names of this run's segments. */
  now?: number
  /**
   * When appended records are fsynced: 0 before `append` returns (before the acknowledgement);
   * N > 0 every N ms and when a segment is sealed; below 0 never (the page cache only).
   */
  fsyncMillis?: number
  /** Flushes a file's data to the disk (fdatasync); tests count the calls. */
  sync?: (fd: number) => void
  /**
   * The same, off the event loop (libuv's thread pool), for the interval's flush: a disk
   * flush can take tens of milliseconds, and the loop answers requests meanwhile.
   */
  syncInBackground?: (fd: number, done: (err: Error | null) => void) => void
}

/**
 * Segment formats, by the magic a segment starts with: how many commit tables its records
 * carry, always the first ones of COMMIT_TABLES (tables are only added at its end). A segment
 * written before an upgrade is read with its own format; its records have no rows for the
 * tables added since.
 *
 *   GOVWAL01   series, samples, histograms, exp_histograms, summaries
 *   GOVWAL02   the same, then exemplars
 */
const FORMATS: readonly { magic: Buffer; tables: number }[] = [
  { magic: Buffer.from('GOVWAL01'), tables: 5 },
  { magic: Buffer.from('GOVWAL02'), tables: COMMIT_TABLES.length },
]
/** The format this version writes. */
const MAGIC = FORMATS.at(-1)!.magic
const MAGIC_LENGTH = 8
const NAME = /^(\d{13}-[0-9a-f]{16}-\d{8})\.wal$/
const NO_CHUNK = 0xffffffff
// A record: u32 body length, u32 CRC-32 of the body, then the body:
//   u32 points, then per commit table a u32 chunk length (NO_CHUNK for none), then the chunks.
const RECORD_HEAD = 8
const BODY_HEAD = bodyHead(COMMIT_TABLES.length)

function bodyHead(tables: number): number {
  return 4 + 4 * tables
}

/**
 * The write-ahead log of the ingest pipeline. A request's rows are appended here before it
 * is acknowledged, and the rows of one commit are exactly one segment: the segment's name is
 * the commit's deduplication token, so a commit replayed after a crash (its insert may or may
 * not have landed) is stored once. A segment is deleted once its commit is in the store.
 *
 *   append ─► segment N (open) ── seal ─► commit with token wal-N ─► remove
 *
 * Appends are synchronous writes: a record is in the file before the acknowledgement leaves,
 * so it survives the process being killed. What survives a power loss depends on `fsyncMillis`
 * (GOVERNOR_WAL_FSYNC_MILLIS): with 0 every acknowledged record is on the disk; with N the
 * last N ms of acknowledgements can be lost; never synced, the last seconds. Whatever a power
 * loss leaves (a torn or zeroed tail, a file of zeros) is cut off or set aside at the next
 * open, never a failed start: every record is CRC-32 checked.
 */
export class WriteAheadLog {
  readonly #dir: string
  readonly #boot: string
  #seq = 0
  #fd: number | undefined
  #size = 0
  #current = ''
  readonly #release: () => void
  readonly #fsyncMillis: number
  readonly #sync: (fd: number) => void
  readonly #syncInBackground: (fd: number, done: (err: Error | null) => void) => void
  /** Appended to the open segment since its last sync. */
  #dirty = false
  /** The file a background sync is flushing; it is closed only once that sync is done. */
  #syncing: number | undefined
  #closeWhenSynced = false
  readonly #syncTimer: NodeJS.Timeout | undefined

  private constructor(dir: string, boot: string, release: () => void, opts: WalOptions) {
    this.#dir = dir
    this.#boot = boot
    this.#release = release
    this.#fsyncMillis = opts.fsyncMillis ?? -1
    this.#sync = opts.sync ?? fdatasyncSync
    this.#syncInBackground = opts.syncInBackground ?? fdatasync
    if (this.#fsyncMillis > 0) {
      // Group fsync: one flush covers every record appended in the interval, off the loop.
      this.#syncTimer = setInterval(() => this.#flushInBackground(), this.#fsyncMillis)
      this.#syncTimer.unref()
    }
  }

  /**
   * Opens the log in `dir` (created when missing) and reads back the segments an earlier run
   * left, oldest first. Their commits may or may not have landed: replay them with their ids
   * as tokens, then remove them. A damaged segment is cut at its last good record or set
   * aside, and reported in `damage`, never thrown. With `lock`, the directory is locked
   * against other processes until `close` (two collectors must never replay each other's log).
   */
  static open(
    dir: string,
    opts: WalOptions = {},
  ): { wal: WriteAheadLog; leftovers: LeftoverSegment[]; damage: WalDamage[] } {
    mkdirSync(dir, { recursive: true })
    const release = opts.lock === true ? lockDataDir(dir) : () => {}
    try {
      const names = readdirSync(dir)
        .filter((n) => NAME.test(n))
        .sort()
      const leftovers: LeftoverSegment[] = []
      const damage: WalDamage[] = []
      for (const n of names) {
        const seg = openSegmentFile(dir, n, damage)
        if (seg !== undefined) leftovers.push(seg)
      }
      const boot = `${String(opts.now ?? Date.now()).padStart(13, '0')}-${randomBytes(8).toString('hex')}`
      return { wal: new WriteAheadLog(dir, boot, release, opts), leftovers, damage }
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
      if (this.#fsyncMillis === 0) this.#sync(fd)
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
    if (this.#fsyncMillis > 0) this.#dirty = true
  }

  /**
   * Fsyncs what was appended to the open segment since the last sync (the group fsync's
   * tick). Never throws: a failed sync is tried again at the next tick.
   */
  flush(): void {
    if (!this.#dirty || this.#fd === undefined) return
    try {
      this.#sync(this.#fd)
      this.#dirty = false
    } catch {
      // The disk refused the flush; the records stay in the page cache and the next tick tries again.
    }
  }

  /** The interval's flush: in the thread pool, one at a time; a failed one leaves the segment dirty for the next. */
  #flushInBackground(): void {
    if (!this.#dirty || this.#fd === undefined || this.#syncing !== undefined) return
    const fd = this.#fd
    this.#dirty = false
    this.#syncing = fd
    this.#syncInBackground(fd, (err) => {
      this.#syncing = undefined
      if (err !== null && fd === this.#fd) this.#dirty = true
      if (this.#closeWhenSynced) {
        this.#closeWhenSynced = false
        closeSync(fd)
      }
    })
  }

  /** Closes the open segment and returns its id (the token of its commit); undefined if none is open. */
  seal(): string | undefined {
    if (this.#fd === undefined) return undefined
    const id = this.#current
    // A sealed segment waits for its commit, maybe long (a store down): make it durable now.
    this.flush()
    this.#closeSegment()
    return id
  }

  /** Deletes a segment whose commit is in the store. */
  remove(id: string): void {
    unlinkSync(join(this.#dir, `${id}.wal`))
  }

  /** Closes the open segment, if any (it stays on disk for the next start) and releases the lock. */
  close(): void {
    if (this.#syncTimer !== undefined) clearInterval(this.#syncTimer)
    this.flush()
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
    // The new file's name must survive a power loss too (once a segment, not once a record).
    if (this.#fsyncMillis >= 0) syncDir(this.#dir)
  }

  #closeSegment(): void {
    // A background sync still holds the file: it closes it when done (closing now could hand
    // its number to the next segment while the sync runs).
    if (this.#fd !== undefined && this.#fd === this.#syncing) this.#closeWhenSynced = true
    else if (this.#fd !== undefined) closeSync(this.#fd)
    this.#fd = undefined
    this.#dirty = false
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

/**
 * Reads one segment for replay, cutting off or setting aside what is damaged (recorded in
 * `damage`). Returns undefined for a segment with nothing to replay.
 */
function openSegmentFile(dir: string, name: string, damage: WalDamage[]): LeftoverSegment | undefined {
  const path = join(dir, name)
  const id = name.slice(0, -4)
  let bytes: Buffer
  try {
    bytes = readFileSync(path)
  } catch (err) {
    damage.push({
      segment: name,
      kind: 'unreadable',
      records: 0,
      bytes: 0,
      keptAt: setAside(dir, name),
      reason: (err as Error).message,
    })
    return undefined
  }
  const { batches, end } = readRecords(bytes)
  if (end === 0) {
    // A crash between creating the file and writing its magic leaves it empty or short.
    if (FORMATS.some((f) => f.magic.subarray(0, bytes.length).equals(bytes))) {
      try {
        unlinkSync(path)
      } catch {
        // Harmless where it is: an empty segment, met again at the next start.
      }
      return undefined
    }
    damage.push({
      segment: name,
      kind: 'bad-header',
      records: 0,
      bytes: bytes.length,
      keptAt: setAside(dir, name),
      reason: 'the file does not start with a segment header',
    })
    return undefined
  }
  if (end < bytes.length) {
    // Keep the damaged tail for a person to look at, then cut the segment at its last good record.
    const kept = join(dir, 'damaged', `${name}.tail`)
    try {
      mkdirSync(join(dir, 'damaged'), { recursive: true })
      writeFileSync(kept, bytes.subarray(end))
      truncateSync(path, end)
    } catch (err) {
      damage.push({
        segment: name,
        kind: 'torn-tail',
        records: batches.length,
        bytes: bytes.length - end,
        keptAt: '',
        reason: (err as Error).message,
      })
      return { id, batches, tornBytes: bytes.length - end }
    }
    const zeros = bytes.subarray(end).every((b) => b === 0)
    damage.push({
      segment: name,
      kind: 'torn-tail',
      records: batches.length,
      bytes: bytes.length - end,
      keptAt: kept,
      reason: zeros
        ? 'the tail is zeros (a power loss before the data reached the disk)'
        : 'a record is cut short or fails its CRC-32',
    })
  }
  return { id, batches, tornBytes: bytes.length - end }
}

/** Moves a damaged segment out of the log, to `<dir>/damaged/`; returns where, or '' if it could not. */
function setAside(dir: string, name: string): string {
  const to = join(dir, 'damaged', name)
  try {
    mkdirSync(join(dir, 'damaged'), { recursive: true })
    renameSync(join(dir, name), to)
    return to
  } catch {
    return ''
  }
}

/**
 * The whole records of a segment's bytes, in any of the FORMATS (a record's chunks always in
 * COMMIT_TABLES order, undefined for the tables its format lacks), and where the last one
 * ends (0: no valid header).
 * Reading stops at the first record that is cut short or fails its CRC: nothing after it can
 * be trusted to start at a record boundary.
 */
export function readRecords(bytes: Buffer): { batches: LoggedBatch[]; end: number } {
  const batches: LoggedBatch[] = []
  const header = bytes.subarray(0, MAGIC_LENGTH)
  const format = bytes.length < MAGIC_LENGTH ? undefined : FORMATS.find((f) => f.magic.equals(header))
  if (format === undefined) return { batches, end: 0 }
  const tables = format.tables
  const head = bodyHead(tables)
  let pos = MAGIC_LENGTH
  while (pos + RECORD_HEAD <= bytes.length) {
    const length = bytes.readUInt32LE(pos)
    const end = pos + RECORD_HEAD + length
    if (length < head || end > bytes.length) break
    const body = bytes.subarray(pos + RECORD_HEAD, end)
    if (crc32(body) !== bytes.readUInt32LE(pos + 4)) break
    const chunks: (Buffer | undefined)[] = []
    let at = head
    let fits = true
    for (let t = 0; t < tables; t++) {
      const n = body.readUInt32LE(4 + 4 * t)
      if (n === NO_CHUNK) chunks.push(undefined)
      else {
        if (at + n > body.length) fits = false
        chunks.push(body.subarray(at, at + n))
        at += n
      }
    }
    // An older format has no rows for the tables added after it.
    while (chunks.length < COMMIT_TABLES.length) chunks.push(undefined)
    // A record whose CRC holds but whose chunk lengths do not add up was never written by append.
    if (!fits || at !== body.length) break
    batches.push({ points: body.readUInt32LE(0), chunks })
    pos = end
  }
  return { batches, end: pos }
}
