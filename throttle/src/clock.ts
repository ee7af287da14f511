/**
 * Time as the limiters, buckets and caller throttles see it: a function returning
 * milliseconds on a monotonic scale (only differences matter). They never read a clock of
 * their own, so a test can drive them tick by tick with a `ManualClock`.
 */
export type Clock = () => number

/** `performance.now()`: monotonic milliseconds with sub-millisecond resolution (about 40 ns a call). */
export const monotonicClock: Clock = () => performance.now()

/**
 * A clock that moves only when told to: for tests of anything that takes a `Clock`, and for
 * simulations. Pass `clock.now` (a bound function) where a `Clock` is wanted.
 *
 * ```ts
 * const clock = new ManualClock()
 * const bucket = new TokenBucket({ ratePerSecond: 10, clock: clock.now })
 * clock.advance(100) // 100 ms later: one more token
 * ```
 */
export class ManualClock {
  #millis: number

  constructor(startMillis = 0) {
    this.#millis = startMillis
  }

  /** The current time, ms. A bound function: pass it as a `Clock`. */
  readonly now: Clock = () => this.#millis

  /** Moves the clock forward by `millis` (never backward). Returns the new time. */
  advance(millis: number): number {
    if (!(millis >= 0)) throw new RangeError(`a manual clock only moves forward; advance(${millis})`)
    this.#millis += millis
    return this.#millis
  }

  /** Sets the time; it must not be earlier than now. */
  set(millis: number): void {
    if (!(millis >= this.#millis)) throw new RangeError(`a manual clock only moves forward; set(${millis}) at ${this.#millis}`)
    this.#millis = millis
  }
}
