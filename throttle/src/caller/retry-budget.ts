import { numberOption } from '../check-option.ts'
import { type Clock, monotonicClock } from '../clock.ts'
import { SlidingCounter } from './sliding-counter.ts'

/** Options of `RetryBudget`. */
export interface RetryBudgetOptions {
  /** Retries allowed per first attempt in the window (0.1: one retry per ten requests). Default 0.1. */
  ratio?: number
  /** Retries allowed per second whatever the traffic, so that a quiet caller can still retry. Default 10. */
  minPerSecond?: number
  /** The window, ms. Default 10 000. */
  windowMillis?: number
  /** Resolution of the window, ms. Default 1000. */
  bucketMillis?: number
  /** Time source, ms. Default `performance.now`. */
  clock?: Clock
}

/**
 * A retry budget: retries may add at most `ratio` to the load, plus a small floor. Within the
 * window,
 *
 *   retries allowed = ratio × requests + minPerSecond × windowSeconds
 *
 * so when a backend fails everything, callers retry 10 % more, not 3 × more (a retry storm).
 * Count each first attempt with `onRequest()`; ask `tryRetry()` before each retry.
 *
 * ```ts
 * budget.onRequest()
 * let res = await call()
 * while (isRetryable(res) && budget.tryRetry()) res = await call()
 * ```
 */
export class RetryBudget {
  readonly #ratio: number
  readonly #floor: number
  readonly #requests: SlidingCounter
  readonly #retries: SlidingCounter

  constructor(options: RetryBudgetOptions = {}) {
    const owner = 'RetryBudget'
    this.#ratio = numberOption(owner, 'ratio', options.ratio, 0.1, 'nonNegative')
    const minPerSecond = numberOption(owner, 'minPerSecond', options.minPerSecond, 10, 'nonNegative')
    const windowMillis = numberOption(owner, 'windowMillis', options.windowMillis, 10_000, 'positive')
    const bucketMillis = numberOption(owner, 'bucketMillis', options.bucketMillis, 1000, 'positive')
    const clock = options.clock ?? monotonicClock
    this.#floor = (minPerSecond * windowMillis) / 1000
    this.#requests = new SlidingCounter(windowMillis, bucketMillis, clock)
    this.#retries = new SlidingCounter(windowMillis, bucketMillis, clock)
  }

  /** Counts a first attempt (not a retry). */
  onRequest(): void {
    this.#requests.add()
  }

  /** True, and the retry counted, when the budget allows one more retry now. */
  tryRetry(): boolean {
    if (this.available() < 1) return false
    this.#retries.add()
    return true
  }

  /** Retries the budget allows now. */
  available(): number {
    // The epsilon keeps 0.1 × 70 = 7.000000000000001 and 0.7 × 10 = 6.999999999999999 whole.
    return Math.max(0, Math.floor(this.#ratio * this.#requests.sum() + this.#floor - this.#retries.sum() + 1e-9))
  }
}
