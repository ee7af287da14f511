/** Options of `TooBusy`: toobusy-js's, with its defaults. */
export interface TooBusyOptions {
  /** maxLag: the smoothed lag above which requests start to be shed, ms. Default 70. */
  maxLagMillis?: number
  /** interval: how often the lag is measured, ms. Default 500. */
  intervalMillis?: number
  /** smoothingFactor: weight of a new measurement. Default 1/3. */
  smoothing?: number
  /** Uniform [0, 1) for the probabilistic shedding. */
  random: () => number
}

/**
 * toobusy-js's rule with the server's queueing delay in place of the event-loop lag (both are
 * the wait a new piece of work would see): every interval the delay of the oldest waiting job
 * is measured and smoothed, lag = s × delay + (1 − s) × lag; a request is shed with
 * probability (lag − maxLag) / maxLag. No limit: it has no notion of concurrency.
 */
export class TooBusy {
  readonly #maxLag: number
  readonly #interval: number
  readonly #smoothing: number
  readonly #random: () => number
  #lag = 0
  #next = 0

  constructor(options: TooBusyOptions) {
    this.#maxLag = options.maxLagMillis ?? 70
    this.#interval = options.intervalMillis ?? 500
    this.#smoothing = options.smoothing ?? 1 / 3
    this.#random = options.random
  }

  /** The smoothed lag, ms. */
  get lag(): number {
    return this.#lag
  }

  /** Called often (every simulator tick): takes a measurement when an interval has passed. */
  measure(now: number, queueDelayMillis: number): void {
    if (now < this.#next) return
    this.#next = now + this.#interval
    this.#lag = this.#smoothing * queueDelayMillis + (1 - this.#smoothing) * this.#lag
  }

  /** Whether to shed this request now. */
  tooBusy(): boolean {
    if (this.#lag <= this.#maxLag) return false
    return this.#random() < (this.#lag - this.#maxLag) / this.#maxLag
  }
}
