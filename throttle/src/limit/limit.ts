import { checkBounds, numberOption } from '../check-option.ts'

/**
 * The algorithm of an adaptive concurrency limiter: it sees one sample per real round trip and
 * answers with the limit. Times are milliseconds on the limiter's clock.
 */
export interface Limit {
  /** The current limit: a whole number inside [min, max]. */
  readonly limit: number
  readonly min: number
  readonly max: number
  /**
   * One finished request: when it started, how long it took, how many requests were in flight
   * when it was admitted (itself included), and whether it was dropped (timed out, or refused
   * downstream for overload). Returns the new limit.
   */
  onSample(startTime: number, rtt: number, inflight: number, didDrop: boolean): number
  /** Keeps the limit inside [min, max] from now on, moving it there at once. */
  setBounds(min: number, max: number): void
  /**
   * Optional: why the limit moves as it does now, one word (`SloGradientLimit`: `tracking`,
   * `not_from_concurrency`, …). The `governor.reason` of the limiter's state metric.
   */
  readonly reason?: string
}

/** The bounds and start of a limit. */
export interface LimitBounds {
  /** Limit to start from (clamped into the bounds). */
  initialLimit?: number
  /** Lowest limit (a knob can move it: `setBounds`). */
  minLimit?: number
  /** Highest limit. */
  maxLimit?: number
}

/**
 * The base of the limits here: it keeps the algorithm's estimate (a float, so that small steps
 * add up) inside the bounds, so the estimate never winds up beyond what a knob allows, and
 * publishes the whole part as the limit. Subclasses implement `update`.
 */
export abstract class BoundedLimit implements Limit {
  #limit = 0
  #estimate = 0
  #min: number
  #max: number
  readonly #name: string

  protected constructor(name: string, bounds: LimitBounds, defaults: Required<LimitBounds>) {
    this.#name = name
    this.#min = bounds.minLimit ?? defaults.minLimit
    this.#max = bounds.maxLimit ?? defaults.maxLimit
    checkBounds(name, this.#min, this.#max)
    this.#set(numberOption(name, 'initialLimit', bounds.initialLimit, defaults.initialLimit, 'nonNegative'))
  }

  /** The current limit: the estimate's whole part, inside [min, max]. */
  get limit(): number {
    return this.#limit
  }

  /** The lower bound. */
  get min(): number {
    return this.#min
  }

  /** The upper bound. */
  get max(): number {
    return this.#max
  }

  /** The algorithm's estimate inside the bounds, before it is rounded down to the limit. */
  protected get estimate(): number {
    return this.#estimate
  }

  /** Runs the algorithm on one sample and returns the new limit. */
  onSample(startTime: number, rtt: number, inflight: number, didDrop: boolean): number {
    const next = this.update(startTime, rtt, inflight, didDrop)
    // NaN (a broken sample) keeps the estimate as it was.
    if (next !== this.#estimate && !Number.isNaN(next)) this.#set(next)
    return this.#limit
  }

  /** Sets the bounds (whole numbers, 0 ≤ min ≤ max; else THROTTLE_ERR_LIMIT_INVALID) and moves the estimate inside them. */
  setBounds(min: number, max: number): void {
    checkBounds(this.#name, min, max)
    this.#min = min
    this.#max = max
    this.#set(this.#estimate)
  }

  /** The new estimate after one sample (return `this.estimate` to keep it). */
  protected abstract update(startTime: number, rtt: number, inflight: number, didDrop: boolean): number

  #set(estimate: number): void {
    const e = estimate < this.#min ? this.#min : estimate > this.#max ? this.#max : estimate
    this.#estimate = e
    this.#limit = Math.floor(e)
  }
}
