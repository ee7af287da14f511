import type { Limit } from './limit.ts'

/** One sample as a Limit received it. */
export interface LimitSample {
  startTime: number
  rtt: number
  inflight: number
  didDrop: boolean
}

/**
 * A limit that records every sample before passing it on: for an app's tests ("a retried
 * request reports onIgnore, so the limit never sees it") and for tracing an algorithm.
 */
export class RecordingLimit implements Limit {
  /** The samples received, oldest first. */
  readonly samples: LimitSample[] = []
  readonly #inner: Limit

  /** Records what reaches `inner`. */
  constructor(inner: Limit) {
    this.#inner = inner
  }

  /** The wrapped limit's limit. */
  get limit(): number {
    return this.#inner.limit
  }

  /** The wrapped limit's bounds. */
  get min(): number {
    return this.#inner.min
  }

  get max(): number {
    return this.#inner.max
  }

  /** Records the sample, then passes it on. */
  onSample(startTime: number, rtt: number, inflight: number, didDrop: boolean): number {
    this.samples.push({ startTime, rtt, inflight, didDrop })
    return this.#inner.onSample(startTime, rtt, inflight, didDrop)
  }

  /** Passes the bounds on. */
  setBounds(min: number, max: number): void {
    this.#inner.setBounds(min, max)
  }
}
