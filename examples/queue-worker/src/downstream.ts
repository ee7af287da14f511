/** Options of `Downstream`. */
export interface DownstreamOptions {
  /** Latency of one call while the downstream is comfortable, ms. */
  baseMillis: number
  /** Calls it serves at once without slowing down. */
  comfortableConcurrency: number
  /** Latency added per call in flight beyond `comfortableConcurrency`, ms. */
  millisPerExtraCall: number
}

/**
 * A pretend downstream (a database, a payment API) that every job calls: fast while few
 * calls are in flight, slower with each call beyond what it serves comfortably. This is why
 * adding workers cannot go on for ever: past a point they lower the queue's lag by raising
 * the downstream's latency, which the guard SLO watches. `extraMillis` adds latency for
 * everyone (an incident downstream).
 */
export class Downstream {
  readonly #o: DownstreamOptions
  #inflight = 0
  /** Latency added to every call, ms (0 normally; set it to play an incident downstream). */
  extraMillis = 0

  constructor(options: DownstreamOptions) {
    this.#o = options
  }

  /** Calls in flight now. */
  get inflight(): number {
    return this.#inflight
  }

  /** One call; resolves after the latency of the moment. */
  async call(): Promise<void> {
    this.#inflight++
    const crowd = Math.max(0, this.#inflight - this.#o.comfortableConcurrency)
    try {
      await new Promise((resolve) =>
        setTimeout(resolve, this.#o.baseMillis + crowd * this.#o.millisPerExtraCall + this.extraMillis),
      )
    } finally {
      this.#inflight--
    }
  }
}
