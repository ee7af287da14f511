/**
 * Time as the limiters, buckets and caller throttles see it: a function returning
 * milliseconds on a monotonic scale (only differences matter). They never read a clock of
 * their own, so a test can drive them tick by tick with a `ManualClock`.
 */
export type Clock = () => number

/** `performance.now()`: monotonic milliseconds with sub-millisecond resolution (about 40 ns a call). */
export const monotonicClock: Clock = () => performance.now()

/** How often the coarse clock takes `performance.now()`, ms: the resolution of its readings. */
export const COARSE_TICK_MILLIS = 1

// The coarse clock's state: the time as of the last tick, and whether it was read since.
let coarseNow = 0
let coarseTimer: ReturnType<typeof setInterval> | undefined
let readSinceTick = false

function coarseTick(): void {
  if (!readSinceTick && coarseTimer !== undefined) {
    // Not read for a whole tick: stop, so that an idle or quiet process is not woken a
    // thousand times a second. The next reading starts it again from a fresh performance.now().
    clearInterval(coarseTimer)
    coarseTimer = undefined
    return
  }
  readSinceTick = false
  coarseNow = performance.now()
}

/**
 * `performance.now()` as of the last tick of a 1 ms timer: a read is a variable load (a few
 * ns) where `performance.now()` costs about 40 ns, which a limiter pays twice a request
 * (undici's `lib/util/timers.js` does the same for its timeouts, at 500 ms). Same origin as
 * `performance.now()`, so the two mix (`arrivedAt`). A reading is late by up to a tick plus
 * whatever the event loop is busy with, and the same for both ends of a round trip: right
 * to a millisecond or so, which latency targets of tens of ms do not notice. Use
 * `monotonicClock` for round trips of a few ms.
 *
 * The timer is unref'd (it never keeps a process alive), starts at a reading (which then
 * takes `performance.now()` itself) and stops at the first tick that finds no reading since
 * the one before: it ticks only while the clock is read every millisecond or so, that is
 * while requests come faster than about a thousand a second, when the event loop is awake
 * anyway. Its cost is per tick, not per request: `npm run bench:limiter` measures both.
 */
export const coarseClock: Clock = () => {
  if (coarseTimer === undefined) {
    coarseNow = performance.now()
    coarseTimer = setInterval(coarseTick, COARSE_TICK_MILLIS)
    coarseTimer.unref?.()
  }
  readSinceTick = true
  return coarseNow
}

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
    if (!(millis >= this.#millis))
      throw new RangeError(`a manual clock only moves forward; set(${millis}) at ${this.#millis}`)
    this.#millis = millis
  }
}
