import type { KnobService } from './knob-service.ts'
import type { KnobVersionStore } from '../store/knob-versions.ts'

/** Where a follower reads versions, whom it hands them to, and how often it reads everything. */
export interface KnobFollowerOptions {
  versions: Pick<KnobVersionStore, 'latest' | 'changedSince'>
  knobs: Pick<KnobService, 'observe'>
  /** The clock; tests pass a manual one. */
  now: () => number
  /**
   * Versions changed up to this long before the newest one seen are read again at every poll:
   * the clocks of collectors differ, and a write can become visible after a later one.
   * Default 10 s.
   */
  overlapMillis?: number
  /** Every so often the latest version of every knob is read whole, catching what the overlap missed. Default 30 s. */
  resyncMillis?: number
}

/**
 * Follows the knob versions other collectors write to the shared store and hands each newer
 * one to the knob service, which pushes it to the live streams of this collector's apps as it
 * does its own changes.
 *
 * A poll reads the versions changed since a watermark (the newest `changed_at` seen, less
 * `overlapMillis`): a scan of one small table, one row per knob change. What the knob service
 * already holds is skipped by version, so reading a version twice is harmless. Every
 * `resyncMillis` the poll reads the latest version of every knob instead (the query of a
 * start), so a version hidden by a clock far behind still arrives.
 */
export class KnobFollower {
  readonly #o: Required<KnobFollowerOptions>
  #watermark: number
  #lastResync: number | undefined

  constructor(options: KnobFollowerOptions) {
    this.#o = { overlapMillis: 10_000, resyncMillis: 30_000, ...options }
    this.#watermark = this.#o.now()
  }

  /** One poll; resolves to the number of newer versions taken in. A store error rejects. */
  async poll(): Promise<number> {
    const now = this.#o.now()
    const resync = this.#lastResync === undefined || now - this.#lastResync >= this.#o.resyncMillis
    const knobs = resync ? await this.#o.versions.latest() : await this.#o.versions.changedSince(this.#watermark - this.#o.overlapMillis)
    if (resync) this.#lastResync = now
    let taken = 0
    for (const knob of knobs) {
      if (knob.changedAt > this.#watermark) this.#watermark = knob.changedAt
      if (await this.#o.knobs.observe(knob)) taken++
    }
    return taken
  }
}
