/** A source of the current time, epoch milliseconds. Injected so that tests drive time by hand. */
export interface Clock {
  now(): number
}

/** A source of uniform random numbers in [0, 1), like `Math.random`. Injected for jitter. */
export type Random = () => number

export const systemClock: Clock = { now: () => Date.now() }

/**
 * A clock that moves only when told to: tests (and embedders replaying history) step it
 * tick by tick instead of patching timer globals.
 */
export class ManualClock implements Clock {
  #now: number

  constructor(start = 0) {
    this.#now = start
  }

  now(): number {
    return this.#now
  }

  /** Moves the clock forward by `millis` (never backwards). */
  advance(millis: number): void {
    if (!(millis >= 0)) throw new RangeError(`a manual clock only moves forward, got ${millis} ms`)
    this.#now += millis
  }

  set(now: number): void {
    this.#now = now
  }
}
