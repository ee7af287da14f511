import type { IncomingMessage } from 'node:http'
import { Socket } from 'node:net'
import type { FastifyInstance } from 'fastify'

declare module 'fastify' {
  interface FastifyRequest {
    /** When the request arrived (`performance.now()` scale): the start of the event-loop turn that read it. */
    arrivedAtMillis: number
  }
  interface FastifyInstance {
    /** The clock of arrivals (installArrivalClock): `arrival()` is the start of the current event-loop turn. */
    arrivalClock: ArrivalClock
  }
}

/**
 * When a request arrived, as early as JavaScript can tell: the start of the event-loop turn
 * that read it.
 *
 * Node reads every socket that is ready in one poll phase, and each request read there runs
 * its hooks, and (remote write decodes synchronously) its whole handler, before the next
 * socket is read. Under load one turn reads dozens of requests, so the last of them waited for
 * all the others before its first hook ran, and fastify's own clock starts after that wait.
 * The bytes of every request read in a turn were there when the turn began, so the turn's
 * start is a time the request had arrived by: a lower bound of its wait, never more.
 *
 *   poll phase ─┬─ socket 1: request → hooks → decode (30 ms)      arrived at t
 *               ├─ socket 2: request → hooks → decode (30 ms)      arrived at t, waited 30 ms
 *               └─ socket 3: request → …                           arrived at t, waited 60 ms
 *   check phase ── setImmediate: the turn is over, the next request starts a new one
 *
 * The first request of a turn reads the clock and defers a callback (`setImmediate`: it runs
 * once the poll phase is over) that ends the turn: one clock read and one callback a busy
 * turn, and nothing at all when idle (no timer keeps the loop awake).
 */
export class ArrivalClock {
  readonly #clock: () => number
  readonly #defer: (fn: () => void) => void
  #turnStart: number | undefined
  readonly #endTurn = () => {
    this.#turnStart = undefined
  }

  /**
   * @param clock milliseconds on a monotonic scale. Default `performance.now`.
   * @param defer runs a function once the current poll phase is over. Default `setImmediate`.
   */
  constructor(
    clock: () => number = () => performance.now(),
    defer: (fn: () => void) => void = (fn) => {
      setImmediate(fn)
    },
  ) {
    this.#clock = clock
    this.#defer = defer
  }

  /**
   * When `raw`, a request being read now, arrived by: the start of the current turn for a
   * request read from a socket; now for one made in-process (app.inject), which no poll
   * phase read (a run of them in one turn must not look as if they had waited for each other).
   */
  arrivalOf(raw: IncomingMessage): number {
    return raw.socket instanceof Socket ? this.arrival() : this.#clock()
  }

  /** When a request read from a socket now arrived by: the start of the current turn. */
  arrival(): number {
    if (this.#turnStart === undefined) {
      this.#turnStart = this.#clock()
      this.#defer(this.#endTurn)
    }
    return this.#turnStart
  }
}

/**
 * Notes `request.arrivedAtMillis` on every request. Install it first, before any other hook,
 * so that nothing of the request's own runs before its arrival is taken.
 */
export function installArrivalClock(app: FastifyInstance, clock = new ArrivalClock()): void {
  app.decorate('arrivalClock', clock)
  app.decorateRequest('arrivedAtMillis', 0)
  app.addHook('onRequest', (request, _reply, done) => {
    request.arrivedAtMillis = clock.arrivalOf(request.raw)
    done()
  })
}
