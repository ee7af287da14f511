/** The part of autocannon's API the benches use (the package ships no types). */
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events'

  namespace autocannon {
    interface Options {
      url: string
      connections?: number
      /** Requests a second from all connections together (a per-connection quota refilled once a second). */
      overallRate?: number
      /** Seconds. */
      duration?: number
      /** Seconds a response may take before it counts as a timeout. */
      timeout?: number
    }
    interface Result {
      timeouts: number
      non2xx: number
      errors: number
    }
    /** Emits `response` (client, statusCode, bytes, responseTime ms) for every response. */
    interface Instance extends EventEmitter, PromiseLike<Result> {
      stop(): void
    }
  }
  function autocannon(options: autocannon.Options): autocannon.Instance & Promise<autocannon.Result>
  export default autocannon
}
