import { numberOption } from '../check-option.ts'
import { ThrottleError } from '../errors.ts'
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
  /**
   * Hold rather than lower when the latency over the target is not from the limit's own
   * concurrency (see the class). Default true; false: lower for any latency over the target.
   */
  holdWhenNotFromConcurrency?: boolean
}

/** Why an `SloGradientLimit` moves as it does (`reason`; the `governor.reason` of the limiter's state metric). */
export type SloGradientReason =
  /** Following the target: lowering over it, growing under it while used. */
  | 'tracking'
  /** Over the target, but not from its concurrency: holding, at least at the Little's-law concurrency of the goodput. */
  | 'not_from_concurrency'

/** A run of decreases over this share of the limit is judged: did it lower the percentile? */
export const JUDGE_CUT = 0.2
/** A judged run lowered the percentile when it fell by at least this share. */
export const MIN_EFFECT = 0.05
/** While holding, a percentile this many times the one it held at ends the hold: something new queues. */
export const HOLD_WORSE = 1.25

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
 * It lowers the limit only for latency the limit causes. A slow dependency, a GC pause or a
 * throttled CPU raise the latency of every request, whatever the concurrency; lowering the
 * limit then sheds work the app could do, and the latency stays. So over the target it holds
 * (`reason` 'not_from_concurrency') when
 *
 *   - requests admitted at low concurrency are as late as those admitted at high concurrency:
 *     the window's lowest quarter by inflight is at most half its highest quarter, and the
 *     low quarter's share over the target passes the percentile's (its percentile is over the
 *     target) and is at least 0.8 × the high quarter's; or
 *   - the last decreases did not lower the percentile: once a run of decreases has cut the
 *     limit by `JUDGE_CUT`, the first window whose requests were all admitted after that cut
 *     judges it; a percentile down by less than `MIN_EFFECT` undoes the run (back to the limit
 *     it started from) and holds.
 *
 *            over target ──► decrease ──► cut ≥ 20 %? ──► window admitted after the cut
 *                                                          p down ≥ 5 %: a new run
 *                                                          else: undo the run, hold
 *
 * While it holds, the limit is kept at least at the Little's-law concurrency of the recent
 * goodput L (completions a ms, averaged over windows, × the window's median round trip), plus
 * 3 √L for the way random arrivals bunch up: what the app needs in flight to keep serving
 * what it serves. (Only then: while requests queue,
 * goodput × latency is the queue itself, and a floor would hold it in place.) The hold ends
 * when the percentile is back under the target, or rises past `HOLD_WORSE` × the one it held
 * at (something new, perhaps a queue: decreases resume), or, for a hold that began with
 * requests late at low concurrency, at the first window whose low-concurrency requests are not
 * (a pause made everyone late once; what follows is a queue).
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
  readonly #judge: boolean
  /** Samples at 2 × target or above that put a full window's percentile there too. */
  readonly #overNeeded: number
  // The window: round-trip times, inflight at admission and whether over the target, in arrival
  // order (rtts reordered by selectKth when it closes); a scratch copy of the inflights for
  // their quartiles, taken only when a window is over the target.
  readonly #rtts: Float64Array
  readonly #inflights: Float64Array
  readonly #late: Uint8Array
  readonly #scratch: Float64Array
  #count = 0
  #windowStart = 0
  #windowEnd = 0
  #firstStart = Infinity
  #maxInflight = 0
  #over = 0
  #lastPercentile: number | undefined
  /** Completions a ms, averaged over windows (exponentially, 1/4 a window); NaN before the first. */
  #goodput = NaN
  // The run of decreases being judged: the percentile and estimate before it, and when its cut reached JUDGE_CUT.
  #runPercentile = NaN
  #runEstimate = NaN
  #judgeFrom = NaN
  /** The percentile the limit holds at (latency not from concurrency); NaN while tracking. */
  #heldAt = NaN
  /** Whether the hold began because requests admitted at low concurrency were late (else: decreases that did not help). */
  #heldForLateLowConcurrency = false

  constructor(options: SloGradientLimitOptions) {
    const owner = 'SloGradientLimit'
    super(owner, options, { initialLimit: 20, minLimit: 1, maxLimit: 1000 })
    this.#target = numberOption(owner, 'targetMillis', options.targetMillis, NaN, 'positive')
    this.#percentile = numberOption(owner, 'percentile', options.percentile, 0.9, 'openFraction')
    this.#windowSize = numberOption(owner, 'windowSize', options.windowSize, 100, 'positiveInteger')
    this.#windowMillis = numberOption(owner, 'windowMillis', options.windowMillis, 1000, 'positive')
    this.#minSamples = Math.min(
      this.#windowSize,
      numberOption(owner, 'minWindowSamples', options.minWindowSamples, 10, 'positiveInteger'),
    )
    this.#smoothing = numberOption(owner, 'smoothing', options.smoothing, 0.2, 'fraction')
    this.#maxDown = numberOption(owner, 'maxDown', options.maxDown, 0.5, 'openFraction')
    this.#maxUp = numberOption(owner, 'maxUp', options.maxUp, 1, 'positive')
    if (options.holdWhenNotFromConcurrency !== undefined && typeof options.holdWhenNotFromConcurrency !== 'boolean') {
      throw new ThrottleError(
        'THROTTLE_ERR_LIMIT_INVALID',
        `${owner}: holdWhenNotFromConcurrency must be true or false; got ${JSON.stringify(options.holdWhenNotFromConcurrency)}`,
      )
    }
    this.#judge = options.holdWhenNotFromConcurrency ?? true
    this.#rtts = new Float64Array(this.#windowSize)
    this.#inflights = new Float64Array(this.#windowSize)
    this.#late = new Uint8Array(this.#windowSize)
    this.#scratch = new Float64Array(this.#windowSize)
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

  /** Why the limit moves as it does now: following the target, or holding for latency it does not cause. */
  get reason(): SloGradientReason {
    return Number.isNaN(this.#heldAt) ? 'tracking' : 'not_from_concurrency'
  }

  protected update(startTime: number, rtt: number, inflight: number, didDrop: boolean): number {
    const end = startTime + rtt
    if (this.#count === 0) this.#windowStart = end
    if (end > this.#windowEnd) this.#windowEnd = end
    if (startTime < this.#firstStart) this.#firstStart = startTime
    const sample = didDrop && rtt < 2 * this.#target ? 2 * this.#target : rtt
    this.#inflights[this.#count] = inflight
    this.#late[this.#count] = sample > this.#target ? 1 : 0
    this.#rtts[this.#count++] = sample
    if (sample >= 2 * this.#target) this.#over++
    if (inflight > this.#maxInflight) this.#maxInflight = inflight
    // Enough samples at 2 × target or above that, whatever the rest of the window brings, its
    // percentile is there too: the decision (lower, by up to maxDown) is known. Take it now
    // rather than a full window later, so that a sudden slowdown is met within tens of samples.
    if (this.#count >= this.#minSamples && this.#over >= this.#overNeeded) return this.#closeWindow()
    if (
      this.#count < this.#windowSize &&
      (this.#count < this.#minSamples || end - this.#windowStart < this.#windowMillis)
    )
      return this.estimate
    return this.#closeWindow()
  }

  #closeWindow(): number {
    const n = this.#count
    const rank = Math.min(n - 1, Math.max(0, Math.ceil(this.#percentile * n) - 1)) // nearest rank
    const p = selectKth(this.#rtts, n, rank)
    const used = this.#maxInflight * 2 >= this.limit
    const firstStart = this.#firstStart
    const windowEnd = this.#windowEnd
    const span = windowEnd - this.#windowStart
    if (span > 0 && n > 1) {
      const rate = (n - 1) / span
      this.#goodput = Number.isNaN(this.#goodput) ? rate : this.#goodput + 0.25 * (rate - this.#goodput)
    }
    this.#count = 0
    this.#over = 0
    this.#maxInflight = 0
    this.#firstStart = Infinity
    this.#lastPercentile = p
    let g = p > 0 ? this.#target / p : 1 + this.#maxUp
    if (g < 1 - this.#maxDown) g = 1 - this.#maxDown
    else if (g > 1 + this.#maxUp) g = 1 + this.#maxUp
    if (g >= 1 || !this.#judge) {
      this.#heldAt = NaN
      this.#runEstimate = NaN
      if (g > 1 && !used) return this.estimate
      return this.estimate * (1 + this.#smoothing * (g - 1))
    }

    // Over the target. Holding for latency not from concurrency, unless it got clearly worse,
    // or the hold came from requests late at low concurrency and this window's are not: a
    // pause that made every request late (a stall of the process, a burst of garbage
    // collection) must not hold the limit through the queue that follows it.
    if (!Number.isNaN(this.#heldAt)) {
      const stillLate = !this.#heldForLateLowConcurrency || this.#lowConcurrencyIsLate(n)
      if (p <= this.#heldAt * HOLD_WORSE && stillLate) return this.#atLeastLittle(n)
      this.#heldAt = NaN
    }
    if (this.#lowConcurrencyIsLate(n)) {
      this.#heldAt = p
      this.#heldForLateLowConcurrency = true
      this.#runEstimate = NaN
      return this.#atLeastLittle(n)
    }
    if (Number.isNaN(this.#runEstimate)) {
      this.#runPercentile = p
      this.#runEstimate = this.estimate
      this.#judgeFrom = NaN
    } else if (!Number.isNaN(this.#judgeFrom) && firstStart >= this.#judgeFrom) {
      // Every request of this window was admitted after the run had cut JUDGE_CUT of the limit.
      if (p > this.#runPercentile * (1 - MIN_EFFECT)) {
        this.#heldAt = p
        this.#heldForLateLowConcurrency = false
        const before = this.#runEstimate
        this.#runEstimate = NaN
        return Math.max(before, this.#atLeastLittle(n))
      }
      this.#runPercentile = p
      this.#runEstimate = this.estimate
      this.#judgeFrom = NaN
    }
    const next = this.estimate * (1 + this.#smoothing * (g - 1))
    if (Number.isNaN(this.#judgeFrom) && next <= this.#runEstimate * (1 - JUDGE_CUT)) this.#judgeFrom = windowEnd
    return next
  }

  /**
   * The estimate, raised to the Little's-law concurrency of the recent goodput (completions a
   * ms × the window's median round trip) plus its bunching (3 √L) when under it. The window's
   * round trips are partitioned by the percentile's selectKth: the median is one more O(n) select.
   */
  #atLeastLittle(n: number): number {
    if (Number.isNaN(this.#goodput)) return this.estimate
    const median = selectKth(this.#rtts, n, (n - 1) >>> 1)
    const mean = this.#goodput * median
    // Arrivals at random times put about mean ± √mean in flight: a limit at the mean would
    // shed half the peaks. Three √mean over it passes all but about 0.1 % of them.
    const floor = Math.ceil(mean + 3 * Math.sqrt(mean))
    return floor > this.estimate ? floor : this.estimate
  }

  /**
   * Whether requests admitted at low concurrency are as late as those admitted at high: the
   * window's inflights spread (lowest quarter at most half the highest), the low quarter's
   * round trips are over the target beyond the percentile's share, and not much less often
   * than the high quarter's. From the inflights and late flags, kept in arrival order.
   */
  #lowConcurrencyIsLate(n: number): boolean {
    if (n < 8) return false
    const scratch = this.#scratch
    for (let i = 0; i < n; i++) scratch[i] = this.#inflights[i]! // a copy: selectKth reorders it (no subarray view per window)
    const q1 = selectKth(scratch, n, (n - 1) >>> 2)
    const q3 = selectKth(scratch, n, Math.floor((3 * (n - 1)) / 4))
    if (!(q1 * 2 <= q3)) return false
    let low = 0,
      lowOver = 0,
      high = 0,
      highOver = 0
    for (let i = 0; i < n; i++) {
      const inflight = this.#inflights[i]!
      const over = this.#late[i]!
      if (inflight <= q1) {
        low++
        lowOver += over
      } else if (inflight >= q3) {
        high++
        highOver += over
      }
    }
    if (low === 0 || high === 0) return false
    const lowShare = lowOver / low
    return lowShare > 1 - this.#percentile && lowShare >= 0.8 * (highOver / high)
  }
}
