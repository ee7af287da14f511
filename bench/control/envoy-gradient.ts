import type { Limit } from '../../throttle/src/limit/limit.ts'
import { quantile } from './metrics.ts'

/** Options of `EnvoyGradientLimit`: the fields of Envoy's GradientControllerConfig, with its defaults. */
export interface EnvoyGradientOptions {
  /** concurrency_update_interval: how often the limit is recalculated, ms. The docs' example: 100. */
  updateIntervalMillis?: number
  /** sample_aggregate_percentile, as a fraction. Default 0.5 (p50). */
  percentile?: number
  /** max_concurrency_limit. Default 1000. */
  maxLimit?: number
  /** min_rtt_calc_params.interval, ms. Default 60 000. */
  minRttIntervalMillis?: number
  /** min_rtt_calc_params.request_count. Default 50. */
  minRttRequests?: number
  /** min_rtt_calc_params.jitter: random delay of the next minRTT window, a fraction of the interval. Default 0.1. */
  jitter?: number
  /** min_rtt_calc_params.min_concurrency: the limit while measuring minRTT, and the lowest limit. Default 3. */
  minConcurrency?: number
  /** min_rtt_calc_params.buffer: B = minRTT × buffer. Default 0.25. */
  buffer?: number
  /** Uniform [0, 1) for the jitter. */
  random: () => number
}

/**
 * Envoy's adaptive-concurrency gradient controller, re-implemented from its published
 * documentation for comparison (time comes from the samples' end times, so it runs on a
 * simulated clock):
 *
 *   minRTT window: the limit is pinned to min_concurrency until request_count samples have
 *                  come in; minRTT = their percentile; then the limit from before returns.
 *                  Again every interval (+ up to jitter × interval), and after 5 windows in a
 *                  row at min_concurrency.
 *   every update:  sampleRTT = the percentile of the samples since the last update
 *                  gradient  = clamp((minRTT + minRTT × buffer) / sampleRTT, 0.5, 2)
 *                  limit     = gradient × limit + √(gradient × limit), in [min_concurrency, max]
 *
 * The filter starts in a minRTT window with the limit at min_concurrency. Its setpoint is its
 * own minRTT plus 25 %, whatever the SLO.
 */
export class EnvoyGradientLimit implements Limit {
  readonly #o: Required<EnvoyGradientOptions>
  #limit: number
  #min: number
  #max: number
  #minRtt = 0
  #samples: number[] = []
  /** The limit to restore after the minRTT window; 0 outside one (Envoy's deferred_limit_value_). */
  #deferred: number
  #nextUpdate = NaN
  #nextMinRtt = Infinity
  #atMinimum = 0

  constructor(options: EnvoyGradientOptions) {
    this.#o = {
      updateIntervalMillis: 100,
      percentile: 0.5,
      maxLimit: 1000,
      minRttIntervalMillis: 60_000,
      minRttRequests: 50,
      jitter: 0.1,
      minConcurrency: 3,
      buffer: 0.25,
      ...options,
    }
    this.#min = this.#o.minConcurrency
    this.#max = this.#o.maxLimit
    this.#limit = this.#min
    this.#deferred = this.#min // it starts measuring minRTT, and returns to min_concurrency after
  }

  /** The concurrency limit now (min_concurrency during a minRTT window). */
  get limit(): number {
    return this.#limit
  }

  /** The lowest limit outside a minRTT window. */
  get min(): number {
    return this.#min
  }

  /** max_concurrency_limit, or a lower bound set since. */
  get max(): number {
    return this.#max
  }

  /** The measured minRTT, ms (0 before the first window closed). */
  get minRtt(): number {
    return this.#minRtt
  }

  /** One response: its latency is collected; when an update interval has passed, the limit is recalculated first. */
  onSample(startTime: number, rtt: number, _inflight: number, _didDrop: boolean): number {
    const now = startTime + rtt
    if (this.#deferred > 0) {
      // Envoy records every response in the window, also those admitted before it began.
      this.#samples.push(rtt)
      if (this.#samples.length >= this.#o.minRttRequests) this.#endMinRttWindow(now)
      return this.#limit
    }
    if (now >= this.#nextMinRtt) {
      this.#startMinRttWindow()
      this.#samples.push(rtt)
      return this.#limit
    }
    if (now >= this.#nextUpdate && this.#samples.length > 0) {
      this.#update()
      this.#nextUpdate = now + this.#o.updateIntervalMillis
    }
    this.#samples.push(rtt)
    return this.#limit
  }

  /** Bounds the limit (a knob); min_concurrency stays the floor. */
  setBounds(min: number, max: number): void {
    this.#min = Math.max(min, this.#o.minConcurrency)
    this.#max = Math.min(max, this.#o.maxLimit)
    this.#limit = Math.max(this.#min, Math.min(this.#max, this.#limit))
  }

  #startMinRttWindow(): void {
    this.#deferred = this.#limit
    this.#limit = this.#o.minConcurrency
    this.#samples = []
  }

  #endMinRttWindow(now: number): void {
    this.#minRtt = quantile(this.#samples, this.#o.percentile)
    this.#samples = []
    this.#limit = Math.max(this.#min, Math.min(this.#max, this.#deferred))
    this.#deferred = 0
    this.#atMinimum = 0
    this.#nextMinRtt = now + this.#o.minRttIntervalMillis * (1 + this.#o.jitter * this.#o.random())
    this.#nextUpdate = now + this.#o.updateIntervalMillis
  }

  #update(): void {
    const sampleRtt = quantile(this.#samples, this.#o.percentile)
    this.#samples = []
    const gradient = Math.max(0.5, Math.min(2, (this.#minRtt * (1 + this.#o.buffer)) / sampleRtt))
    const limit = this.#limit * gradient
    // uint32 arithmetic in Envoy: the new limit is truncated.
    this.#limit = Math.max(this.#min, Math.min(this.#max, Math.floor(limit + Math.sqrt(limit))))
    this.#atMinimum = this.#limit === this.#o.minConcurrency ? this.#atMinimum + 1 : 0
    if (this.#atMinimum >= 5) this.#startMinRttWindow()
  }
}
