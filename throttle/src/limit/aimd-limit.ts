import { numberOption } from '../check-option.ts'
import { BoundedLimit, type LimitBounds } from './limit.ts'

/** Options of `AimdLimit`. */
export interface AimdLimitOptions extends LimitBounds {
  /** Factor applied on a drop, in [0.5, 1). Default 0.9. */
  backoffRatio?: number
  /** A round trip longer than this counts as a drop, ms. Default 5000. */
  timeoutMillis?: number
}

/**
 * Loss-based: +1 per round trip while the limit is used (inflight × 2 ≥ limit) and nothing is
 * dropped; × backoffRatio (at least −1) on a drop or a round trip over the timeout. The rule
 * of concurrency-limits' AIMDLimit. Blind to latency below the timeout: it finds the limit by
 * causing drops. Defaults: start 10, bounds [1, 200].
 */
export class AimdLimit extends BoundedLimit {
  readonly #backoff: number
  readonly #timeout: number

  constructor(options: AimdLimitOptions = {}) {
    super('AimdLimit', options, { initialLimit: 10, minLimit: 1, maxLimit: 200 })
    this.#backoff = numberOption('AimdLimit', 'backoffRatio', options.backoffRatio, 0.9, 'backoff')
    this.#timeout = numberOption('AimdLimit', 'timeoutMillis', options.timeoutMillis, 5000, 'positive')
  }

  protected update(_startTime: number, rtt: number, inflight: number, didDrop: boolean): number {
    const limit = this.limit
    if (didDrop || rtt > this.#timeout) return Math.min(limit - 1, Math.floor(limit * this.#backoff))
    if (inflight * 2 >= limit) return limit + 1
    return this.estimate
  }
}
