import { numberOption } from '../check-option.ts'
import { BoundedLimit, type LimitBounds } from './limit.ts'

/** Options of `VegasLimit`. */
export interface VegasLimitOptions extends LimitBounds {
  /** Share of each new estimate applied. Default 1. */
  smoothing?: number
  /** The no-load RTT is measured again every probeMultiplier × limit samples (× a jitter in [0.5, 1)). Default 30. */
  probeMultiplier?: number
  /** Randomness for the probe jitter, [0, 1). Default Math.random. */
  random?: () => number
}

/** log10 of the limit, at least 1; the square root past 1000 (the published threshold function). */
function log10Root(limit: number): number {
  return limit < 1000 ? Math.max(1, Math.floor(Math.log10(limit))) : Math.floor(Math.sqrt(limit))
}

/**
 * concurrency-limits' VegasLimit, re-implemented from its published rule for comparison: TCP
 * Vegas' queue estimate against the lowest RTT seen (the no-load RTT).
 *
 *   queue = ceil(limit × (1 − rttNoLoad / rtt))
 *   drop                    → limit − log10(limit)
 *   inflight × 2 < limit    → no change (app-limited)
 *   queue ≤ log10(limit)    → limit + 6·log10(limit)     (no queueing: grow fast)
 *   queue < 3·log10(limit)  → limit + log10(limit)
 *   queue > 6·log10(limit)  → limit − log10(limit)
 *   otherwise               → no change
 *
 * The no-load RTT is the minimum RTT, reset to the current sample every ~probeMultiplier ×
 * limit samples so that it can rise again. Defaults: start 20, bounds [1, 1000].
 */
export class VegasLimit extends BoundedLimit {
  readonly #smoothing: number
  readonly #probeMultiplier: number
  readonly #random: () => number
  #rttNoLoad = 0
  #probeCount = 0
  #probeJitter: number

  constructor(options: VegasLimitOptions = {}) {
    const owner = 'VegasLimit'
    super(owner, options, { initialLimit: 20, minLimit: 1, maxLimit: 1000 })
    this.#smoothing = numberOption(owner, 'smoothing', options.smoothing, 1, 'fraction')
    this.#probeMultiplier = numberOption(owner, 'probeMultiplier', options.probeMultiplier, 30, 'positive')
    this.#random = options.random ?? Math.random
    this.#probeJitter = this.#jitter()
  }

  /** The no-load RTT, ms (0 before the first sample). */
  get rttNoLoad(): number {
    return this.#rttNoLoad
  }

  #jitter(): number {
    return 0.5 + this.#random() * 0.5
  }

  protected update(_startTime: number, rtt: number, inflight: number, didDrop: boolean): number {
    const estimate = this.estimate
    if (!(rtt > 0)) return estimate
    this.#probeCount++
    if (this.#probeJitter * this.#probeMultiplier * estimate <= this.#probeCount) {
      this.#probeJitter = this.#jitter()
      this.#probeCount = 0
      this.#rttNoLoad = rtt
      return estimate
    }
    if (this.#rttNoLoad === 0 || rtt < this.#rttNoLoad) {
      this.#rttNoLoad = rtt
      return estimate
    }
    const whole = Math.floor(estimate)
    const log = log10Root(whole)
    let next: number
    if (didDrop) next = estimate - log
    else if (inflight * 2 < estimate) return estimate
    else {
      const queue = Math.ceil(estimate * (1 - this.#rttNoLoad / rtt))
      if (queue <= log) next = estimate + 6 * log
      else if (queue < 3 * log) next = estimate + log
      else if (queue > 6 * log) next = estimate - log
      else return estimate
    }
    next = Math.max(1, next)
    return (1 - this.#smoothing) * estimate + this.#smoothing * next
  }
}
