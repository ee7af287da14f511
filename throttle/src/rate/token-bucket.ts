import { numberOption } from '../check-option.ts'
import { type Clock, monotonicClock } from '../clock.ts'

/** Options of `TokenBucket`. */
export interface TokenBucketOptions {
  /** Tokens added per second (0: none). A knob can move it: `setRate`. */
  ratePerSecond: number
  /** Most tokens the bucket holds: the burst allowed after a quiet spell. Default: one second's worth (at least 1), following the rate. */
  burst?: number
  /** Tokens at the start. Default: full. */
  initialTokens?: number
  /** Time source, ms. Default `performance.now`. */
  clock?: Clock
}

/**
 * A token bucket: `tryTake(n)` takes n tokens when the bucket holds them. No timers: the
 * tokens earned since the last call are added from the clock on each call, so an idle bucket
 * costs nothing and a test drives it with a manual clock.
 *
 * ```ts
 * const bucket = new TokenBucket({ ratePerSecond: 50 })
 * bindKnob(exportRate, (r) => bucket.setRate(r))
 * if (!bucket.tryTake()) return later()
 * ```
 */
export class TokenBucket {
  readonly #clock: Clock
  #rate: number
  #burst: number
  readonly #burstFollowsRate: boolean
  #tokens: number
  #last: number

  constructor(options: TokenBucketOptions) {
    this.#clock = options.clock ?? monotonicClock
    this.#rate = numberOption('TokenBucket', 'ratePerSecond', options.ratePerSecond, NaN, 'nonNegative')
    this.#burstFollowsRate = options.burst === undefined
    this.#burst = numberOption('TokenBucket', 'burst', options.burst, Math.max(1, this.#rate), 'positive')
    this.#tokens = Math.min(
      this.#burst,
      numberOption('TokenBucket', 'initialTokens', options.initialTokens, this.#burst, 'nonNegative'),
    )
    this.#last = this.#clock()
  }

  /** Tokens per second. */
  get ratePerSecond(): number {
    return this.#rate
  }

  /** Capacity. */
  get burst(): number {
    return this.#burst
  }

  /** Tokens available now. */
  get tokens(): number {
    this.#refill()
    return this.#tokens
  }

  /** Takes `n` tokens (default 1) if the bucket holds them; false, and nothing taken, otherwise. */
  tryTake(n = 1): boolean {
    this.#refill()
    if (!(n <= this.#tokens)) return false
    this.#tokens -= n
    return true
  }

  /** Milliseconds until `n` tokens are available (0: now; Infinity: never, n above the burst or a rate of 0). For `Retry-After`. */
  millisUntil(n = 1): number {
    this.#refill()
    if (n <= this.#tokens) return 0
    if (n > this.#burst || this.#rate === 0) return Infinity
    return ((n - this.#tokens) / this.#rate) * 1000
  }

  /**
   * Changes the rate from now on: the tokens earned so far are counted at the old rate first.
   * A burst left to its default follows the rate; the tokens never exceed the burst.
   */
  setRate(ratePerSecond: number): void {
    const rate = numberOption('TokenBucket', 'ratePerSecond', ratePerSecond, NaN, 'nonNegative')
    this.#refill()
    this.#rate = rate
    if (this.#burstFollowsRate) {
      this.#burst = Math.max(1, rate)
      if (this.#tokens > this.#burst) this.#tokens = this.#burst
    }
  }

  #refill(): void {
    const now = this.#clock()
    const elapsed = now - this.#last
    if (elapsed <= 0) return // the same instant, or a clock that stepped back: nothing earned
    this.#last = now
    const tokens = this.#tokens + (elapsed * this.#rate) / 1000
    this.#tokens = tokens > this.#burst ? this.#burst : tokens
  }
}
