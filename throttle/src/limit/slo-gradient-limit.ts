import { numberOption } from '../check-option.ts'
import { BoundedLimit, type LimitBounds } from './limit.ts'
import { selectKth } from './select.ts'

/** Options of `SloGradientLimit`. */
export interface SloGradientLimitOptions extends LimitBounds {
  /** The latency the window's percentile should meet, ms: the setpoint (the SLO's threshold, or a share of it). Required. */
  targetMillis: number
  /** Which percentile of a window's round trips is held at the target (0.9: p90). Default 0.9. */
  percentile?: number
  /** A window closes after this many samples. Default 100. */
  windowSize?: number
  /** …or once it is `windowMillis` old with at least `minWindowSamples` samples. Defaults 1000 ms, 10. */
  windowMillis?: number
  minWindowSamples?: number
  /** Share of the gradient applied per window (1: all of it). Default 0.2. */
  smoothing?: number
  /** Largest relative decrease the gradient may ask for, before smoothing (0.5: halve). Default 0.5. */
  maxDown?: number
  /** Largest relative increase the gradient may ask for, before smoothing (1: double). Default 1. */
  maxUp?: number
}

/**
 * Ours: an adaptive concurrency limit whose setpoint is the SLO's latency target, not a
 * baseline the algorithm estimates for itself. Once per window of round trips:
 *
 *   p     = the window's `percentile` of round-trip times (a drop counts as at least 2 × target)
 *   g     = clamp(target / p, 1 − maxDown, 1 + maxUp)
 *   g     = 1 when g > 1 and the window's highest inflight × 2 < limit   (no growth unless used)
 *   limit = limit × (1 + smoothing × (g − 1))
 *
 * A window also closes early, once more of its samples are at 2 × target or above than a full
 * window has ranks above its percentile: the percentile can no longer come out under 2 ×
 * target, so the decrease is certain and is taken at once (a latency spike is met within tens
 * of samples, not a full window later). Near the target it does not fire.
 *
 * Gradient2 and Vegas hold latency near what they measured at low load; with a queue in front
 * of a few servers that can mean shedding while the SLO still has room, or (with a drifting
 * baseline) queueing past it. Here the loop settles where the percentile meets the target:
 * as much concurrency as the SLO allows. Window percentile by quickselect over a preallocated
 * buffer: O(1) per sample, O(window) once per window, no allocation.
 */
export class SloGradientLimit extends BoundedLimit {
  readonly #target: number
  readonly #percentile: number
  readonly #windowSize: number
  readonly #windowMillis: number
  readonly #minSamples: number
  readonly #smoothing: number
  readonly #maxDown: number
  readonly #maxUp: number
  /** Samples at 2 × target or above that put a full window's percentile there too. */
  readonly #overNeeded: number
  // The window: round-trip times in arrival order, then reordered by selectKth when it closes.
  readonly #rtts: Float64Array
  #count = 0
  #windowStart = 0
  #maxInflight = 0
  #over = 0
  #lastPercentile: number | undefined

  constructor(options: SloGradientLimitOptions) {
    const owner = 'SloGradientLimit'
    super(owner, options, { initialLimit: 20, minLimit: 1, maxLimit: 1000 })
    this.#target = numberOption(owner, 'targetMillis', options.targetMillis, NaN, 'positive')
    this.#percentile = numberOption(owner, 'percentile', options.percentile, 0.9, 'openFraction')
    this.#windowSize = numberOption(owner, 'windowSize', options.windowSize, 100, 'positiveInteger')
    this.#windowMillis = numberOption(owner, 'windowMillis', options.windowMillis, 1000, 'positive')
    this.#minSamples = Math.min(this.#windowSize, numberOption(owner, 'minWindowSamples', options.minWindowSamples, 10, 'positiveInteger'))
    this.#smoothing = numberOption(owner, 'smoothing', options.smoothing, 0.2, 'fraction')
    this.#maxDown = numberOption(owner, 'maxDown', options.maxDown, 0.5, 'openFraction')
    this.#maxUp = numberOption(owner, 'maxUp', options.maxUp, 1, 'positive')
    this.#rtts = new Float64Array(this.#windowSize)
    // The percentile is the value at rank ceil(percentile × n) (see #closeWindow). Once more
    // samples are at 2 × target or above than there are ranks above it, it is one of them.
    this.#overNeeded = this.#windowSize - Math.ceil(this.#percentile * this.#windowSize) + 1
  }

  /** The target, ms. */
  get targetMillis(): number {
    return this.#target
  }

  /** The percentile of the last closed window, ms (undefined before the first). */
  get lastWindowPercentile(): number | undefined {
    return this.#lastPercentile
  }

  protected update(startTime: number, rtt: number, inflight: number, didDrop: boolean): number {
    const end = startTime + rtt
    if (this.#count === 0) this.#windowStart = end
    const sample = didDrop && rtt < 2 * this.#target ? 2 * this.#target : rtt
    this.#rtts[this.#count++] = sample
    if (sample >= 2 * this.#target) this.#over++
    if (inflight > this.#maxInflight) this.#maxInflight = inflight
    // Enough samples at 2 × target or above that, whatever the rest of the window brings, its
    // percentile is there too: the decision (lower, by up to maxDown) is known. Take it now
    // rather than a full window later, so that a sudden slowdown is met within tens of samples.
    if (this.#count >= this.#minSamples && this.#over >= this.#overNeeded) return this.#closeWindow()
    if (this.#count < this.#windowSize && (this.#count < this.#minSamples || end - this.#windowStart < this.#windowMillis)) return this.estimate
    return this.#closeWindow()
  }

  #closeWindow(): number {
    const n = this.#count
    const rank = Math.min(n - 1, Math.max(0, Math.ceil(this.#percentile * n) - 1)) // nearest rank
    const p = selectKth(this.#rtts, n, rank)
    const used = this.#maxInflight * 2 >= this.limit
    this.#count = 0
    this.#over = 0
    this.#maxInflight = 0
    this.#lastPercentile = p
    let g = p > 0 ? this.#target / p : 1 + this.#maxUp
    if (g < 1 - this.#maxDown) g = 1 - this.#maxDown
    else if (g > 1 + this.#maxUp) g = 1 + this.#maxUp
    if (g > 1 && !used) return this.estimate
    return this.estimate * (1 + this.#smoothing * (g - 1))
  }
}
