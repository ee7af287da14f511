import { GovernorError } from '../errors.ts'
import type { PointBatch } from '../model/batch.ts'

/** Writes a group of batches as one commit; resolves once all of them are durable. */
export type CommitFn = (batches: readonly PointBatch[]) => Promise<void>

export interface WritePipelineOptions {
  commit: CommitFn
  /** Points that make a commit go out at once. */
  maxBatchPoints: number
  /** Longest a batch waits for others to share its commit. */
  flushIntervalMillis: number
  /** Points accepted but not yet committed; past this `submit` refuses. */
  maxPendingPoints: number
  /** Called after every commit attempt, for metrics and logs. Must not throw. */
  onCommit?: (info: { points: number; requests: number; durationMillis: number; error?: unknown }) => void
}

interface Waiting {
  batch: PointBatch
  resolve: () => void
  reject: (err: unknown) => void
}

/**
 * Group commit: requests hand in their decoded batches, and one commit writes many of them.
 * A request's promise settles only when its points are committed, so an acknowledgement is
 * never sent for a point that is not stored.
 *
 *   submit ─► queue ──(maxBatchPoints reached, or flushIntervalMillis passed)──► commit ─► settle
 *
 * One commit runs at a time; batches arriving meanwhile gather and go out as soon as it ends,
 * so under load commits grow to what arrives during one commit. Memory is
 * bounded by maxPendingPoints: past it `submit` throws GOV_ERR_PIPELINE_FULL at once, and
 * the receiver answers 503 with Retry-After instead of buffering.
 */
export class WritePipeline {
  readonly #opts: WritePipelineOptions
  #queue: Waiting[] = []
  #queuedPoints = 0
  #inflightPoints = 0
  #committing = false
  #timer: NodeJS.Timeout | undefined
  #closed = false

  constructor(opts: WritePipelineOptions) {
    this.#opts = opts
  }

  /** Points accepted and not yet committed (queued and in the running commit). */
  get pendingPoints(): number {
    return this.#queuedPoints + this.#inflightPoints
  }

  /** Fill of the pipeline, 0 to 1. */
  get fill(): number {
    return Math.min(1, this.pendingPoints / this.#opts.maxPendingPoints)
  }

  /** Resolves when the batch is committed; rejects with the store's error otherwise. */
  submit(batch: PointBatch): Promise<void> {
    if (this.#closed) return Promise.reject(new GovernorError('GOV_ERR_STORE_UNAVAILABLE', 'Governor is shutting down'))
    const points = batch.pointCount
    if (points === 0) return Promise.resolve()
    // An empty pipeline takes any batch, so one request above the limit is not refused forever.
    if (this.pendingPoints > 0 && this.pendingPoints + points > this.#opts.maxPendingPoints) {
      return Promise.reject(new GovernorError('GOV_ERR_PIPELINE_FULL', `the write pipeline is full (${this.pendingPoints} points pending, limit ${this.#opts.maxPendingPoints})`))
    }
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ batch, resolve, reject })
      this.#queuedPoints += points
      this.#schedule()
    })
  }

  #schedule(): void {
    if (this.#committing) return
    if (this.#queuedPoints >= this.#opts.maxBatchPoints || this.#opts.flushIntervalMillis === 0 || this.#closed) {
      this.#clearTimer()
      void this.#commitNext()
    } else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined
        void this.#commitNext()
      }, this.#opts.flushIntervalMillis)
    }
  }

  async #commitNext(): Promise<void> {
    if (this.#committing || this.#queue.length === 0) return
    this.#committing = true
    // Take whole requests up to maxBatchPoints (at least one). The queue holds requests, not
    // points, so the splice is cheap.
    let take = 0
    let points = 0
    while (take < this.#queue.length && (take === 0 || points + this.#queue[take]!.batch.pointCount <= this.#opts.maxBatchPoints)) {
      points += this.#queue[take]!.batch.pointCount
      take++
    }
    const group = this.#queue.splice(0, take)
    this.#queuedPoints -= points
    this.#inflightPoints = points
    const started = performance.now()
    let error: unknown
    try {
      await this.#opts.commit(group.map((w) => w.batch))
    } catch (err) {
      error = err
    }
    this.#inflightPoints = 0
    this.#committing = false
    this.#opts.onCommit?.({ points, requests: group.length, durationMillis: performance.now() - started, error })
    if (error === undefined) {
      for (const w of group) w.resolve()
    } else {
      const message = error instanceof Error ? error.message : String(error)
      const wrapped = new GovernorError('GOV_ERR_STORE_WRITE', `the store did not commit the points: ${message}`, { cause: error })
      for (const w of group) w.reject(wrapped)
    }
    // Batches that gathered while this commit ran have waited long enough: commit them now.
    if (this.#queue.length > 0) {
      this.#clearTimer()
      void this.#commitNext()
    } else {
      this.#drained?.()
    }
  }

  #drained: (() => void) | undefined

  /** Commits everything accepted so far and refuses new batches. */
  async close(): Promise<void> {
    this.#closed = true
    this.#clearTimer()
    if (this.#queue.length === 0 && !this.#committing) return
    const done = new Promise<void>((resolve) => (this.#drained = resolve))
    this.#schedule()
    await done
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
  }
}
