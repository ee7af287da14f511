import type { Clock } from '../clock.ts'

/**
 * A count over a sliding window of time, in buckets: adding is O(1), the sum is kept
 * incrementally, and each bucket that leaves the window is subtracted once when time passes it
 * (so the work is proportional to elapsed buckets, never to the events counted).
 *
 *   buckets:  [ 3 | 5 | 0 | 2 ]   window = 4 × bucketMillis, head = the current (partial) bucket
 *   sum = 10;  one bucket later the oldest (after head) is cleared and subtracted
 *
 * The window covers the current partial bucket and the `buckets − 1` before it.
 */
export class SlidingCounter {
  readonly #clock: Clock
  readonly #bucketMillis: number
  readonly #counts: Float64Array
  #head = 0
  #headBucket: number
  #sum = 0

  constructor(windowMillis: number, bucketMillis: number, clock: Clock) {
    this.#clock = clock
    this.#bucketMillis = bucketMillis
    this.#counts = new Float64Array(Math.max(1, Math.ceil(windowMillis / bucketMillis)))
    this.#headBucket = Math.floor(clock() / bucketMillis)
  }

  /** Counts `n` (default 1) now. */
  add(n = 1): void {
    this.#advance()
    this.#counts[this.#head]! += n
    this.#sum += n
  }

  /** The count over the window ending now. */
  sum(): number {
    this.#advance()
    return this.#sum
  }

  #advance(): void {
    const bucket = Math.floor(this.#clock() / this.#bucketMillis)
    let steps = bucket - this.#headBucket
    if (steps <= 0) return
    this.#headBucket = bucket
    const n = this.#counts.length
    if (steps >= n) {
      this.#counts.fill(0)
      this.#sum = 0
      return
    }
    while (steps-- > 0) {
      this.#head = this.#head + 1 === n ? 0 : this.#head + 1
      this.#sum -= this.#counts[this.#head]!
      this.#counts[this.#head] = 0
    }
  }
}
