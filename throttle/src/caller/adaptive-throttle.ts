import { numberOption } from '../check-option.ts'
import { type Clock, monotonicClock } from '../clock.ts'
import { SlidingCounter } from './sliding-counter.ts'

/** Options of `AdaptiveThrottle`. */
export interface AdaptiveThrottleOptions {
  /** Accepts multiplier: how many requests per accepted one may be attempted before local rejection starts (2: up to twice the accepts). Default 2. */
  k?: number
  /** The window requests and accepts are counted over, ms. Default 120 000 (two minutes). */
  windowMillis?: number
  /** Resolution of the window, ms. Default 1000. */
  bucketMillis?: number
  /** Time source, ms. Default `performance.now`. */
  clock?: Clock
  /** Uniform randomness in [0, 1). Default Math.random. */
  random?: () => number
}

/**
 * Client-side adaptive throttling (Google SRE book, "Handling Overload"): a caller counts its
 * requests and the backend's accepts over a sliding window and rejects new requests itself,
 * before they cost the backend anything, with probability
 *
 *   p = max(0, (requests − k · accepts) / (requests + 1))
 *
 * While the backend accepts everything, requests ≤ k · accepts and p = 0. When it refuses
 * (overload), the accepts stop growing and p rises towards 1, so the backend sees about
 * k × what it can accept. Locally rejected requests count as requests: the pressure stays
 * visible.
 *
 * ```ts
 * if (!throttle.allow()) throw new Unavailable('rejected locally')
 * const res = await call()
 * if (res.status !== 503 && res.status !== 429) throttle.onAccepted()
 * ```
 */
export class AdaptiveThrottle {
  readonly #k: number
  readonly #random: () => number
  readonly #requests: SlidingCounter
  readonly #accepts: SlidingCounter

  constructor(options: AdaptiveThrottleOptions = {}) {
    const owner = 'AdaptiveThrottle'
    this.#k = numberOption(owner, 'k', options.k, 2, 'positive')
    const windowMillis = numberOption(owner, 'windowMillis', options.windowMillis, 120_000, 'positive')
    const bucketMillis = numberOption(owner, 'bucketMillis', options.bucketMillis, 1000, 'positive')
    const clock = options.clock ?? monotonicClock
    this.#random = options.random ?? Math.random
    this.#requests = new SlidingCounter(windowMillis, bucketMillis, clock)
    this.#accepts = new SlidingCounter(windowMillis, bucketMillis, clock)
  }

  /** The probability that the next request is rejected locally. */
  rejectProbability(): number {
    const requests = this.#requests.sum()
    const p = (requests - this.#k * this.#accepts.sum()) / (requests + 1)
    return p > 0 ? p : 0
  }

  /** Counts a request and decides: true to send it, false to reject it locally. */
  allow(): boolean {
    const p = this.rejectProbability()
    this.#requests.add()
    return !(p > 0 && this.#random() < p)
  }

  /** The backend accepted a request (anything but a refusal for overload). */
  onAccepted(): void {
    this.#accepts.add()
  }

  /** Requests (sent or rejected locally) and accepts in the window. */
  counts(): { requests: number; accepts: number } {
    return { requests: this.#requests.sum(), accepts: this.#accepts.sum() }
  }
}
