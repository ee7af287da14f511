/**
 * Hands out event-loop turns, one at a time, to work that holds the loop for a while
 * (decoding and encoding an ingest request: a few milliseconds for 5,000 points).
 *
 * Node accepts at most one new connection per listening socket per event-loop iteration
 * (libuv 1.45 and later, in Node 20 and later, stopped accepting in a loop). If the poll phase
 * that read twenty request bodies also decodes them, an iteration lasts a hundred
 * milliseconds or more, the server accepts a few connections a second, and a load
 * balancer's probe on a new connection waits in the kernel's accept queue behind the load.
 * So decoding does not run where the body was read: the request waits here, and each
 * iteration grants one turn, from its check phase:
 *
 *   iteration n   poll: accept one connection, read every ready socket (cheap)
 *                 check: grant one waiting request its turn → it decodes, encodes, submits
 *   iteration n+1 poll: accept one more, …
 *
 * A waiter that has been waiting too long (`tooLate` says so, with the error to refuse it
 * with) is refused when its turn would come, without taking the turn: refusing is cheap, so
 * the next one is served in the same iteration.
 *
 * New connections go first: an iteration whose poll phase accepted one (`noteAccept`) grants
 * no turn, so while connections queue (a fleet of senders reconnecting at once) each
 * iteration is short and accepts the next. The kernel's accept queue is first in, first out:
 * a load balancer's probe that arrives behind 128 senders is answered only once they are all
 * accepted, so every turn granted while they queue (10–20 ms of decoding) delays it. Turns
 * give way for up to `maxYieldMillis` in a row, timed rather than counted: accepting takes
 * well under a millisecond an iteration, so a storm of a hundred connections is drained with
 * one or two turns between, and a storm that never ends still gets a turn at that interval
 * and cannot starve decoding.
 *
 * Work too long for one turn (a request of thousands of new series) takes its turn, does a
 * slice, and asks to `resume`: a resumed caller is granted the next turn, ahead of every
 * waiter and never refused for its wait, so that what was begun ends first, in consecutive
 * iterations, and is not thrown away half done.
 */
export class Turns {
  readonly #defer: (fn: () => void) => void
  readonly #clock: () => number
  readonly #tooLate: (waitedMillis: number) => Error | undefined
  readonly #waiting: Waiter[] = []
  #head = 0
  /** Callers that had a turn and go on (see `resume`); one at a time in practice. */
  readonly #resuming: (() => void)[] = []
  #scheduled = false
  #accepted = false
  /** When the grants began giving way to new connections, on the clock's scale; undefined: they are not. */
  #yieldingSince: number | undefined
  readonly #maxYieldMillis: number

  /**
   * @param tooLate the error to refuse a waiter with, given how long it has waited; undefined: serve it.
   * @param clock milliseconds on a monotonic scale. Default `performance.now`.
   * @param defer runs a function in a later event-loop phase. Default `setImmediate`: called from
   *   the check phase itself it runs in the next iteration, after that iteration's poll phase.
   * @param maxYieldMillis how long grants give way to new connections in a row, at most.
   */
  constructor(
    tooLate: (waitedMillis: number) => Error | undefined,
    clock: () => number = () => performance.now(),
    defer: (fn: () => void) => void = (fn) => {
      setImmediate(fn)
    },
    maxYieldMillis = 25,
  ) {
    this.#tooLate = tooLate
    this.#maxYieldMillis = maxYieldMillis
    this.#clock = clock
    this.#defer = defer
  }

  /** A connection was accepted in this iteration: the next grant waits for one more iteration. */
  noteAccept(): void {
    this.#accepted = true
  }

  /** Requests waiting for a turn. */
  get waiting(): number {
    return this.#waiting.length - this.#head
  }

  /**
   * Resolves when it is the caller's turn (run the work synchronously then, before any
   * other await), or rejects with `tooLate`'s error. `since` is when the caller's wait began,
   * on the clock's scale: default now.
   */
  take(since: number = this.#clock()): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ since, resolve, reject })
      this.#schedule()
    })
  }

  /**
   * Resolves at the next turn, before any waiter of `take` and without a wait bound: for a
   * caller that had a turn and has more to do (run the next slice then, before any other await).
   */
  resume(): Promise<void> {
    return new Promise((resolve) => {
      this.#resuming.push(resolve)
      this.#schedule()
    })
  }

  #schedule(): void {
    if (this.#scheduled || (this.waiting === 0 && this.#resuming.length === 0)) return
    this.#scheduled = true
    this.#defer(this.#grant)
  }

  readonly #grant = (): void => {
    this.#scheduled = false
    if (this.#accepted) {
      this.#accepted = false
      const now = this.#clock()
      this.#yieldingSince ??= now
      if (now - this.#yieldingSince < this.#maxYieldMillis) {
        this.#schedule()
        return
      }
    }
    this.#yieldingSince = undefined
    // shift() on a queue of one or two (one request decodes at a time): no ring buffer needed.
    const resumed = this.#resuming.shift()
    if (resumed !== undefined) {
      resumed()
      this.#schedule()
      return
    }
    while (this.waiting > 0) {
      const waiter = this.#waiting[this.#head]!
      this.#waiting[this.#head++] = undefined as unknown as Waiter
      if (this.#head > 1024 && this.#head * 2 > this.#waiting.length) {
        this.#waiting.splice(0, this.#head)
        this.#head = 0
      }
      const refusal = this.#tooLate(Math.max(0, this.#clock() - waiter.since))
      if (refusal === undefined) {
        waiter.resolve()
        break
      }
      waiter.reject(refusal)
    }
    this.#schedule()
  }
}

interface Waiter {
  readonly since: number
  readonly resolve: () => void
  readonly reject: (err: Error) => void
}
