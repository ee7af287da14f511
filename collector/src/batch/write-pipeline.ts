import { GovernorError } from '../errors.ts'
import type { PointBatch } from '../model/batch.ts'
import type { SeriesInfo } from '../model/types.ts'
import {
  encodeBatch,
  JoinArena,
  joinChunks,
  seriesIdsOf,
  type CommitGroup,
  type EncodedBatch,
} from '../store/encoded-batch.ts'
import { RequestRows } from './request-rows.ts'
import type { QuarantineEntry, ReplayOutcome } from './quarantine.ts'
import { segmentToken, type LeftoverSegment, type WriteAheadLog } from './wal.ts'

export type { CommitGroup } from '../store/encoded-batch.ts'

/** What a commit reports back: the series whose row the store refused (set aside, not stored). */
export interface CommitResult {
  readonly refusedSeries: readonly bigint[]
}

/**
 * Writes a group's rows, series first; resolves once all of it is in the store (or set aside
 * in the quarantine, see durable-commit.ts).
 */
export type CommitFn = (group: CommitGroup) => Promise<CommitResult | void>

/** The quarantine as the API sees it (see quarantine.ts). */
export interface QuarantineAccess {
  list(): QuarantineEntry[]
  rowsOf(id: string): Buffer
  /** Sends the entries' rows (all when undefined) to the store again; what it still refuses stays. */
  replay(ids?: readonly string[]): Promise<ReplayOutcome[]>
}

export interface WritePipelineOptions {
  commit: CommitFn
  /** Whether a series' row is in the store (new series get their row in the batch that brings them). */
  isStored: (id: bigint) => boolean
  /** Told, after a commit, of the series whose rows it stored. */
  onSeriesStored: (ids: readonly bigint[]) => void
  /**
   * With a log, a request is acknowledged once its rows are in the log, and a commit that
   * fails is retried until the store takes it (rows refused for their content never fail a
   * commit: `commit` sets them aside, see durable-commit.ts). Without, a request waits for its commit and
   * fails with it.
   */
  wal?: WriteAheadLog
  /** Points that make a commit go out at once. */
  maxBatchPoints: number
  /** Longest rows wait to share a commit. */
  flushIntervalMillis: number
  /** Points accepted but not yet committed; past this `submit` refuses. */
  maxPendingPoints: number
  /** Wait before a failed commit is tried again (with a log). */
  retryMillis?: number
  /** Called when the log refuses a batch (a full disk): the store is as good as refusing writes. */
  onLogRefused?: (err: unknown) => void
  /**
   * Which of these segment tokens are recorded as committed already (a segment left on disk
   * after its commit): replay skips them.
   */
  committedTokens?: (tokens: readonly string[]) => Promise<ReadonlySet<string>>
  /** Where refused rows are kept, exposed for the API. */
  quarantine?: QuarantineAccess
  /** Called after every commit attempt, for metrics and logs. Must not throw. */
  onCommit?: (info: { points: number; requests: number; durationMillis: number; error?: unknown }) => void
}

interface Group {
  seq: number
  token: string | undefined
  segment: string | undefined
  batches: EncodedBatch[]
  points: number
  exemplars: number
  newSeries: SeriesInfo[]
  waiters: { resolve: () => void; reject: (err: unknown) => void }[]
}

/**
 * Group commit: requests hand in their decoded batches, which are encoded once into the rows
 * they become, and one commit writes the rows of many.
 *
 *   submit ─► encode ─► (log) ─► open group ──(maxBatchPoints, flushIntervalMillis, sync)──► sealed ─► commit
 *
 * Commits run one at a time, in order. With a write-ahead log the acknowledgement waits for
 * the log only, so commits can be large (the engine spends far less per row on a few large
 * parts than on many small ones) without making anyone wait; without one it waits for the
 * commit. Either way an acknowledged point is never lost. Memory is bounded by
 * maxPendingPoints: past it `submit` throws GOV_ERR_PIPELINE_FULL at once, and the receiver
 * answers 503 with Retry-After instead of buffering.
 */
export class WritePipeline {
  readonly #o: WritePipelineOptions
  #open: Group
  readonly #sealed: Group[] = []
  /** Series whose row travels in an uncommitted group. */
  readonly #loggedSeries = new Set<bigint>()
  #pendingPoints = 0
  #seq = 0
  #committing = false
  #flushTimer: NodeJS.Timeout | undefined
  #retryTimer: NodeJS.Timeout | undefined
  #closed = false
  /** Readers waiting for every group up to `seq` to be tried. */
  #syncs: { seq: number; resolve: () => void }[] = []
  #idle: (() => void) | undefined
  /** Memory for joining a group's rows: commits (and replayed segments) go one at a time, so one arena serves them all. */
  readonly #arena = new JoinArena()

  constructor(opts: WritePipelineOptions) {
    this.#o = opts
    this.#open = this.#newGroup()
  }

  /** Points (and exemplars: rows all the same) accepted and not yet committed. */
  get pendingPoints(): number {
    return this.#pendingPoints
  }

  /** Fill of the pipeline, 0 to 1. */
  get fill(): number {
    return Math.min(1, this.#pendingPoints / this.#o.maxPendingPoints)
  }

  /** Rows the store refused for their content, kept for inspection and replay; undefined without one. */
  get quarantine(): QuarantineAccess | undefined {
    return this.#o.quarantine
  }

  /**
   * Commits the segments an earlier run left in the log, oldest first, before anything new is
   * accepted; a segment recorded as committed already is only removed. Rows the store refuses
   * for their content go to the quarantine like any commit's, so a poisoned segment never
   * stops a start. Throws if the store cannot take rows: starting would otherwise hide
   * acknowledged points.
   */
  async replay(leftovers: readonly LeftoverSegment[]): Promise<{ segments: number; points: number; skipped: number }> {
    let points = 0
    let skipped = 0
    const done =
      leftovers.length === 0 || this.#o.committedTokens === undefined
        ? new Set<string>()
        : await this.#o.committedTokens(leftovers.map((s) => segmentToken(s.id)))
    for (const seg of leftovers) {
      const group = {
        token: segmentToken(seg.id),
        tables: joinChunks(seg.batches, this.#arena),
        points: seg.batches.reduce((n, b) => n + b.points, 0),
      }
      if (done.has(group.token)) skipped++
      else {
        const result = group.tables.some((t) => t !== undefined) ? await this.#o.commit(group) : undefined
        const refused = new Set(result?.refusedSeries ?? [])
        this.#o.onSeriesStored(seriesIdsOf(group.tables[0]).filter((id) => !refused.has(id)))
        points += group.points
      }
      try {
        this.#o.wal?.remove(seg.id)
      } catch {
        // Left on disk, it is skipped at the next start: its commit is recorded.
      }
    }
    return { segments: leftovers.length - skipped, points, skipped }
  }

  /** Resolves when the batch is acknowledged: logged (with a log) or committed (without). */
  submit(batch: PointBatch): Promise<void> {
    const refused = this.#refusal(batch.pointCount + batch.exemplars.length)
    if (refused !== undefined) return refused
    return this.#submitEncoded(encodeBatch(batch, this.#o.isStored, (id) => this.#loggedSeries.has(id)))
  }

  /**
   * A request whose points come in slices (decoded over several event-loop turns): each slice
   * is encoded as it is added, and `submit` hands the whole request in as `submit` does one
   * batch (one log record, the same checks), so it is acknowledged whole or not at all.
   */
  begin(): RequestRows {
    return new RequestRows(
      this.#o.isStored,
      (id) => this.#loggedSeries.has(id),
      (encoded) => this.#refusal(encoded.points + encoded.exemplars) ?? this.#submitEncoded(encoded),
    )
  }

  /** The refusal of a batch of `points` points and exemplars (shutting down, pipeline full); undefined: take it. */
  #refusal(points: number): Promise<void> | undefined {
    if (this.#closed) return Promise.reject(new GovernorError('GOV_ERR_STORE_UNAVAILABLE', 'Governor is shutting down'))
    if (points === 0) return Promise.resolve()
    // An empty pipeline takes any batch, so one request above the limit is not refused forever.
    if (this.#pendingPoints > 0 && this.#pendingPoints + points > this.#o.maxPendingPoints) {
      return Promise.reject(
        new GovernorError(
          'GOV_ERR_PIPELINE_FULL',
          `the write pipeline is full (${this.#pendingPoints} points pending, limit ${this.#o.maxPendingPoints})`,
        ),
      )
    }
    return undefined
  }

  #submitEncoded(encoded: EncodedBatch): Promise<void> {
    const points = encoded.points
    if (this.#o.wal !== undefined) {
      try {
        this.#o.wal.append(encoded)
      } catch (err) {
        this.#o.onLogRefused?.(err)
        return Promise.reject(
          new GovernorError(
            'GOV_ERR_STORE_WRITE',
            `the write-ahead log did not take the points: ${(err as Error).message}`,
            { cause: err },
          ),
        )
      }
    }
    const group = this.#open
    group.batches.push(encoded)
    group.points += points
    group.exemplars += encoded.exemplars
    for (const s of encoded.newSeries) {
      this.#loggedSeries.add(s.id)
      group.newSeries.push(s)
    }
    this.#pendingPoints += points + encoded.exemplars
    const acked =
      this.#o.wal !== undefined
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => group.waiters.push({ resolve, reject }))
    this.#schedule()
    return acked
  }

  /**
   * Resolves once every point accepted before the call has been committed (or its commit
   * tried and failed): a reader that calls it sees what was acknowledged before.
   */
  sync(): Promise<void> {
    if (this.#pendingPoints === 0 || this.#retryTimer !== undefined) return Promise.resolve()
    this.#seal()
    const seq = this.#sealed.at(-1)!.seq
    const done = new Promise<void>((resolve) => this.#syncs.push({ seq, resolve }))
    this.#kick()
    return done
  }

  /** Commits everything accepted so far (with a log, what the store refuses stays logged) and refuses new batches. */
  async close(): Promise<void> {
    this.#closed = true
    this.#clearFlushTimer()
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer)
    this.#retryTimer = undefined
    this.#seal()
    if (this.#sealed.length > 0 || this.#committing) {
      await new Promise<void>((resolve) => {
        this.#idle = resolve
        this.#kick()
      })
    }
    this.#o.wal?.close()
  }

  #newGroup(): Group {
    return {
      seq: ++this.#seq,
      token: undefined,
      segment: undefined,
      batches: [],
      points: 0,
      exemplars: 0,
      newSeries: [],
      waiters: [],
    }
  }

  #schedule(): void {
    if (this.#open.points + this.#open.exemplars >= this.#o.maxBatchPoints || this.#o.flushIntervalMillis === 0) {
      this.#seal()
      this.#kick()
    } else if (this.#flushTimer === undefined) {
      this.#flushTimer = setTimeout(() => {
        this.#flushTimer = undefined
        this.#seal()
        this.#kick()
      }, this.#o.flushIntervalMillis)
    }
  }

  /** Ends the open group: it goes into the commit queue, and the log into a new segment. */
  #seal(): void {
    this.#clearFlushTimer()
    if (this.#open.points + this.#open.exemplars === 0) return
    const group = this.#open
    group.segment = this.#o.wal?.seal()
    group.token = group.segment === undefined ? undefined : segmentToken(group.segment)
    this.#sealed.push(group)
    this.#open = this.#newGroup()
  }

  #kick(): void {
    if (this.#committing || this.#retryTimer !== undefined) return
    if (this.#sealed.length === 0) {
      this.#idle?.()
      return
    }
    void this.#commitHead()
  }

  async #commitHead(): Promise<void> {
    this.#committing = true
    const group = this.#sealed[0]!
    const started = performance.now()
    let error: unknown
    let result: CommitResult | void = undefined
    try {
      result = await this.#o.commit({
        token: group.token,
        tables: joinChunks(group.batches, this.#arena),
        points: group.points,
      })
    } catch (err) {
      error = err
    }
    this.#committing = false
    this.#o.onCommit?.({
      points: group.points,
      requests: group.batches.length,
      durationMillis: performance.now() - started,
      error,
    })
    if (error === undefined) this.#committed(group, new Set(result?.refusedSeries ?? []))
    else this.#failed(group, error)
    this.#settleSyncs(group.seq)
    this.#kick()
  }

  #committed(group: Group, refusedSeries: ReadonlySet<bigint>): void {
    this.#sealed.shift()
    this.#pendingPoints -= group.points + group.exemplars
    const stored: bigint[] = []
    for (const s of group.newSeries) {
      this.#loggedSeries.delete(s.id)
      // A series row in the quarantine is not stored: the next batch of the series carries it again.
      if (refusedSeries.has(s.id)) continue
      s.rowStored = true
      stored.push(s.id)
    }
    this.#o.onSeriesStored(stored)
    if (group.segment !== undefined) {
      try {
        this.#o.wal!.remove(group.segment)
      } catch {
        // Left on disk, the segment is skipped at the next start: its commit is recorded.
      }
    }
    for (const w of group.waiters) w.resolve()
  }

  #failed(group: Group, error: unknown): void {
    if (this.#o.wal !== undefined && !this.#closed) {
      // Acknowledged already: keep the group at the head and try again.
      this.#retryTimer = setTimeout(() => {
        this.#retryTimer = undefined
        this.#kick()
      }, this.#o.retryMillis ?? 1000)
      return
    }
    this.#sealed.shift()
    this.#pendingPoints -= group.points + group.exemplars
    for (const s of group.newSeries) this.#loggedSeries.delete(s.id)
    if (this.#o.wal !== undefined) {
      // Closing: the rows stay in the log for the next start. Nothing more is tried now.
      for (const g of this.#sealed.splice(0)) this.#pendingPoints -= g.points + g.exemplars
      return
    }
    const message = error instanceof Error ? error.message : String(error)
    const wrapped = new GovernorError('GOV_ERR_STORE_WRITE', `the store did not commit the points: ${message}`, {
      cause: error,
    })
    for (const w of group.waiters) w.reject(wrapped)
  }

  #settleSyncs(tried: number): void {
    if (this.#syncs.length === 0) return
    const failing = this.#retryTimer !== undefined
    this.#syncs = this.#syncs.filter((s) => {
      if (s.seq > tried && !failing) return true
      s.resolve()
      return false
    })
  }

  #clearFlushTimer(): void {
    if (this.#flushTimer !== undefined) clearTimeout(this.#flushTimer)
    this.#flushTimer = undefined
  }
}
