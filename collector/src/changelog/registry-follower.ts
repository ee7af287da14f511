import type { Tombstone, VersionMeta, VersionStore } from '../store/version-store.ts'

/** Where a follower reads versions, whom it hands them to, and how often it reads everything. */
export interface RegistryFollowerOptions<R extends VersionMeta> {
  versions: Pick<VersionStore<R>, 'latest' | 'changedSince'>
  /** The registry that takes them in (`VersionedRegistry.observe`, or a service over one). */
  registry: { observe(record: R | Tombstone): Promise<boolean> }
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
 * Follows the versions other collectors write to the shared store (knobs, SLOs, controller
 * bindings) and hands each newer one to the registry, which tells its listeners (the knobs'
 * live streams to this collector's apps) as it does of its own changes.
 *
 * A poll reads the versions changed since a watermark (the newest `changed_at` seen, less
 * `overlapMillis`): a scan of one small table, one row per change. What the registry already
 * holds is skipped by version, so reading a version twice is harmless. Every `resyncMillis`
 * the poll reads the latest version of every name instead (the query of a start), so a
 * version hidden by a clock far behind still arrives.
 */
export class RegistryFollower<R extends VersionMeta> {
  readonly #o: Required<RegistryFollowerOptions<R>>
  #watermark: number
  #lastResync: number | undefined

  constructor(options: RegistryFollowerOptions<R>) {
    this.#o = { overlapMillis: 10_000, resyncMillis: 30_000, ...options }
    this.#watermark = this.#o.now()
  }

  /** One poll; resolves to the number of newer versions taken in. A store error rejects. */
  async poll(): Promise<number> {
    const now = this.#o.now()
    const resync = this.#lastResync === undefined || now - this.#lastResync >= this.#o.resyncMillis
    const versions = resync
      ? await this.#o.versions.latest()
      : await this.#o.versions.changedSince(this.#watermark - this.#o.overlapMillis)
    if (resync) this.#lastResync = now
    let taken = 0
    for (const v of versions) {
      if (v.changedAt > this.#watermark) this.#watermark = v.changedAt
      if (await this.#o.registry.observe(v)) taken++
    }
    return taken
  }
}
