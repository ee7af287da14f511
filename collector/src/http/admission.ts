/** Why admission refused an ingest request: the `reason` label of its counter. */
export type AdmissionRefusal = 'waited' | 'body_bytes'

/** Options of `Admission`. */
export interface AdmissionOptions {
  /** Longest a request may wait from its arrival until it is processed, ms; 0: no bound. */
  maxWaitMillis: number
  /** Most bytes of bodies admitted and not yet done with; 0: no ceiling. */
  maxBodyBytes: number
  /** Time, ms, on the scale of the arrivals it is given. */
  clock: () => number
}

/**
 * Admission of ingest requests before their bodies are read, by two bounds a concurrency
 * limit cannot see:
 *
 *  - wait: a request that has already waited past `maxWaitMillis` (in the event loop, behind
 *    the requests read before it) is refused at once. Its sender
 *    has waited long already; processing it now would make every request behind it wait
 *    longer still, so the queue would only grow. Refusing it bounds the wait of the others.
 *  - body bytes: bodies admitted and not yet done with are counted by their declared length
 *    (Content-Length; a body sent without one counts as it is read); a request that would take
 *    them past `maxBodyBytes` is refused before a byte of its body is read. With nothing admitted any body is taken, so a body larger than
 *    the ceiling is still served, alone.
 *
 * Pure: time comes in through `clock`, and a caller keeps what `reserve` took to `release` it.
 */
export class Admission {
  readonly #maxWait: number
  readonly #maxBytes: number
  readonly #clock: () => number
  #bytes = 0
  #admitted = 0
  /** Requests refused so far, by reason (plain fields: read them from a metrics callback). */
  readonly refused: Record<AdmissionRefusal, number> = { waited: 0, body_bytes: 0 }

  constructor(options: AdmissionOptions) {
    this.#maxWait = options.maxWaitMillis
    this.#maxBytes = options.maxBodyBytes
    this.#clock = options.clock
  }

  /** Bytes of bodies admitted and not yet released. */
  get bodyBytes(): number {
    return this.#bytes
  }

  /** The wait bound, ms (0: none). */
  get maxWaitMillis(): number {
    return this.#maxWait
  }

  /** How long a request that arrived at `arrivedAtMillis` has waited, ms. */
  waited(arrivedAtMillis: number): number {
    return Math.max(0, this.#clock() - arrivedAtMillis)
  }

  /** True, and counted, when a request that arrived then has waited past the bound: refuse it. */
  late(arrivedAtMillis: number): boolean {
    return this.waitedTooLong(this.waited(arrivedAtMillis))
  }

  /** True, and counted, when a request that has waited `waitedMillis` has waited past the bound: refuse it. */
  waitedTooLong(waitedMillis: number): boolean {
    if (this.#maxWait === 0 || waitedMillis <= this.#maxWait) return false
    this.refused.waited++
    return true
  }

  /**
   * Takes `bytes` (a body's declared length; 0 when unknown) from the ceiling. Returns false,
   * and counts the refusal, when they do not fit: refuse the request. Release what it took
   * when the request is done.
   */
  reserve(bytes: number): boolean {
    if (this.#maxBytes > 0 && this.#admitted > 0 && this.#bytes + bytes > this.#maxBytes) {
      this.refused.body_bytes++
      return false
    }
    this.#admitted++
    this.#bytes += bytes
    return true
  }

  /** Adds bytes of a body whose length was not declared, as they are read (never refused: it is admitted). */
  grow(bytes: number): void {
    this.#bytes += bytes
  }

  /** Gives back what a `reserve` that returned true took, and what `grow` added for it (once per reserve). */
  release(bytes: number): void {
    this.#admitted--
    this.#bytes -= bytes
  }
}
