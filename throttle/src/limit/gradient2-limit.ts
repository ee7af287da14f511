import { numberOption } from '../check-option.ts'
import { BoundedLimit, type LimitBounds } from './limit.ts'

/** Options of `Gradient2Limit`. */
export interface Gradient2LimitOptions extends LimitBounds {
  /** Share of each new estimate applied (1: all of it). Default 0.2. */
  smoothing?: number
  /** Headroom added to each estimate: a number, or a function of the current limit. Default 4. */
  queueSize?: number | ((limit: number) => number)
  /** Samples in the long-term RTT average (an exponential average, factor 2 / (n + 1)). Default 600. */
  longWindow?: number
  /** Samples averaged plainly before the exponential average starts. Default 10. */
  warmupWindow?: number
  /** How far the RTT may rise over the baseline before the limit is lowered (1.5: 50 %). Default 1.5. */
  rttTolerance?: number
}

/**
 * concurrency-limits' Gradient2Limit, re-implemented from its published rule for comparison.
 * Per sample, with the current RTT against a long-term average RTT as the baseline:
 *
 *   long     = EMA(rtt) over longWindow samples; if long / rtt > 2 it decays: long × 0.95
 *   (no change while inflight < limit / 2: app-limited)
 *   gradient = clamp(rttTolerance × long / rtt, 0.5, 1)
 *   limit    = limit × (1 − smoothing) + (limit × gradient + queueSize) × smoothing
 *
 * It never grows from latency falling below the baseline (the gradient is capped at 1): growth
 * is the queueSize headroom. Its setpoint is its own baseline, which drifts with sustained
 * load. Defaults as published (the Java reference): start 20, bounds [20, 200], rttTolerance
 * 1.5, smoothing 0.2, queueSize 4, longWindow 600.
 */
export class Gradient2Limit extends BoundedLimit {
  readonly #smoothing: number
  readonly #queueSize: (limit: number) => number
  readonly #factor: number
  readonly #warmup: number
  readonly #tolerance: number
  #long = 0
  #longSum = 0
  #longCount = 0

  constructor(options: Gradient2LimitOptions = {}) {
    const owner = 'Gradient2Limit'
    super(owner, options, { initialLimit: 20, minLimit: 20, maxLimit: 200 })
    this.#smoothing = numberOption(owner, 'smoothing', options.smoothing, 0.2, 'fraction')
    const q = options.queueSize
    if (typeof q === 'function') this.#queueSize = q
    else {
      const size = numberOption(owner, 'queueSize', q, 4, 'nonNegative')
      this.#queueSize = () => size
    }
    this.#factor = 2 / (numberOption(owner, 'longWindow', options.longWindow, 600, 'positiveInteger') + 1)
    this.#warmup = numberOption(owner, 'warmupWindow', options.warmupWindow, 10, 'nonNegativeInteger')
    this.#tolerance = numberOption(owner, 'rttTolerance', options.rttTolerance, 1.5, 'positive')
  }

  /** The long-term RTT average: the baseline, ms. */
  get longRtt(): number {
    return this.#long
  }

  protected update(_startTime: number, rtt: number, inflight: number, _didDrop: boolean): number {
    if (!(rtt > 0)) return this.estimate
    const estimate = this.estimate
    const queueSize = this.#queueSize(Math.floor(estimate))
    if (this.#longCount < this.#warmup) {
      this.#longCount++
      this.#longSum += rtt
      this.#long = this.#longSum / this.#longCount
    } else {
      this.#long = this.#long * (1 - this.#factor) + rtt * this.#factor
    }
    // The gradient uses the average before the decay below, as the reference does.
    const long = this.#long
    // After a long overload the baseline sits far above the current RTT: pull it down faster than the average would.
    if (long / rtt > 2) this.#long *= 0.95
    if (inflight < estimate / 2) return estimate
    const gradient = Math.max(0.5, Math.min(1, (this.#tolerance * long) / rtt))
    const next = estimate * gradient + queueSize
    return estimate * (1 - this.#smoothing) + next * this.#smoothing
  }
}
