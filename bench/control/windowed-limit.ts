import type { Limit } from '../../throttle/src/limit/limit.ts'

/** Options of `WindowedLimit`: concurrency-limits' `WindowedLimit.Builder` defaults. */
export interface WindowedLimitOptions {
  /** Shortest window, ms. Default 1000. */
  minWindowMillis?: number
  /** Longest window, ms. Default 1000. */
  maxWindowMillis?: number
  /** Samples a window needs to reach the delegate. Default 10. */
  windowSize?: number
  /** Round trips shorter than this are not samples, ms. Default 0.1 (100 µs). */
  minRttThresholdMillis?: number
}

/**
 * concurrency-limits' `WindowedLimit` with its default (average) sample window, re-implemented
 * from its source for comparison: it is how that project's README configures Gradient2
 * (`WindowedLimit.newBuilder().build(Gradient2Limit.newBuilder().build())`). Samples collect
 * in a window (the least round trip, the sum, the most in flight, whether any dropped); the
 * first sample that ends after the window's end closes it, the next window ending
 * `clamp(2 × least round trip, minWindow, maxWindow)` after that sample; a window of at least
 * `windowSize` samples reaches the delegate as one sample: the closing sample's start, the
 * window's average round trip, its most in flight, whether any dropped.
 */
export class WindowedLimit implements Limit {
  readonly #delegate: Limit
  readonly #minWindow: number
  readonly #maxWindow: number
  readonly #windowSize: number
  readonly #minRtt: number
  #nextUpdate = 0
  #least = Infinity
  #sum = 0
  #maxInflight = 0
  #count = 0
  #dropped = false

  constructor(delegate: Limit, options: WindowedLimitOptions = {}) {
    this.#delegate = delegate
    this.#minWindow = options.minWindowMillis ?? 1000
    this.#maxWindow = options.maxWindowMillis ?? 1000
    this.#windowSize = options.windowSize ?? 10
    this.#minRtt = options.minRttThresholdMillis ?? 0.1
  }

  get limit(): number {
    return this.#delegate.limit
  }

  get min(): number {
    return this.#delegate.min
  }

  get max(): number {
    return this.#delegate.max
  }

  onSample(startTime: number, rtt: number, inflight: number, didDrop: boolean): number {
    const end = startTime + rtt
    if (rtt < this.#minRtt) return this.#delegate.limit
    if (rtt < this.#least) this.#least = rtt
    this.#sum += rtt
    if (inflight > this.#maxInflight) this.#maxInflight = inflight
    this.#count++
    this.#dropped ||= didDrop
    if (end <= this.#nextUpdate) return this.#delegate.limit
    const least = this.#least,
      sum = this.#sum,
      count = this.#count,
      maxInflight = this.#maxInflight,
      dropped = this.#dropped
    this.#least = Infinity
    this.#sum = 0
    this.#maxInflight = 0
    this.#count = 0
    this.#dropped = false
    this.#nextUpdate = end + Math.min(Math.max(least * 2, this.#minWindow), this.#maxWindow)
    if (least < Infinity && count >= this.#windowSize)
      return this.#delegate.onSample(startTime, sum / count, maxInflight, dropped)
    return this.#delegate.limit
  }

  setBounds(min: number, max: number): void {
    this.#delegate.setBounds(min, max)
  }
}
