import { checkBounds } from '../check-option.ts'
import type { Limit } from './limit.ts'

/**
 * A limit that does not adapt: the number given, or the `max` of the last `setBounds`. Bind it
 * to a knob to have ops (or the slow loop) set the concurrency directly.
 */
export class FixedLimit implements Limit {
  #limit: number
  #min: number

  /** Starts at `limit` (a whole number, 0 or more). */
  constructor(limit: number) {
    checkBounds('FixedLimit', limit, limit)
    this.#limit = limit
    this.#min = limit
  }

  /** The limit. */
  get limit(): number {
    return this.#limit
  }

  /** The lower bound last set (the limit does not use it). */
  get min(): number {
    return this.#min
  }

  /** The limit. */
  get max(): number {
    return this.#limit
  }

  /** A fixed limit ignores samples. */
  onSample(): number {
    return this.#limit
  }

  /** The limit becomes `max`. */
  setBounds(min: number, max: number): void {
    checkBounds('FixedLimit', min, max)
    this.#min = min
    this.#limit = max
  }
}
