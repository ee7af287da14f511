/**
 * An open-loop load generator over undici: requests arrive as a Poisson process at a rate that
 * can change mid-run, whatever the server answers, each on a connection of its own from a
 * large pool (so no request waits behind another on the client side). A timer every ~1 ms
 * sends the arrivals whose time has come, each timed from its scheduled arrival, not from
 * when it was sent, so a late timer shows as latency (no coordinated omission). autocannon
 * instead refills a per-second quota per instance, and its load arrives in bursts.
 *
 * Every arrival is counted in the second (since `start`) it was scheduled in: offered, 200
 * within the timeout (with its latency), 503 (shed), or anything else (timeouts, errors).
 */
import { Pool } from 'undici'

/** What the arrivals of one second came to. */
export interface SecondCounts {
  offered: number
  good: number
  shed: number
  failed: number
  /** Latencies of the 200s, ms. */
  latencies: number[]
  /** The latest a request of the second was sent after its scheduled arrival, ms: how far the generator fell behind. */
  sendLagMillis: number
}

/** Options of `startOpenLoopLoad`. */
export interface OpenLoopOptions {
  origin: string
  path: string
  /** A request not answered within this long counts as failed, ms. */
  timeoutMillis: number
  /** Most connections open at once. */
  connections: number
  /** Uniform randomness in [0, 1): the arrival gaps. */
  random: () => number
}

/** A running load: set its rate, read its seconds, stop it. */
export interface OpenLoopLoad {
  /** Arrivals a second from now on. */
  setRate(perSecond: number): void
  /** Counts by second since the start (a second still open grows). */
  readonly seconds: SecondCounts[]
  /** Stops sending and waits for the answers still due. */
  stop(): Promise<void>
}

/** Starts sending at rate 0: call `setRate`. `startedAt` is `performance.now()` at the start. */
export function startOpenLoopLoad(o: OpenLoopOptions): OpenLoopLoad & { startedAt: number } {
  const pool = new Pool(o.origin, {
    connections: o.connections,
    pipelining: 1,
    headersTimeout: o.timeoutMillis,
    bodyTimeout: o.timeoutMillis,
  })
  const seconds: SecondCounts[] = []
  const startedAt = performance.now()
  const secondOf = (at: number) => {
    const s = Math.floor((at - startedAt) / 1000)
    while (seconds.length <= s)
      seconds.push({ offered: 0, good: 0, shed: 0, failed: 0, latencies: [], sendLagMillis: 0 })
    return seconds[s]!
  }
  const pending = new Set<Promise<void>>()
  const send = (arrival: number) => {
    const counts = secondOf(arrival)
    counts.offered++
    counts.sendLagMillis = Math.max(counts.sendLagMillis, performance.now() - arrival)
    const done = pool
      .request({ path: o.path, method: 'GET' })
      .then(
        async (res) => {
          await res.body.dump()
          const millis = performance.now() - arrival
          if (res.statusCode === 200 && millis <= o.timeoutMillis) {
            counts.good++
            counts.latencies.push(millis)
          } else if (res.statusCode === 503) counts.shed++
          else counts.failed++
        },
        () => {
          counts.failed++
        },
      )
      .finally(() => pending.delete(done))
    pending.add(done)
  }

  let rate = 0
  let next = Infinity
  let stopped = false
  const draw = (from: number) => (rate > 0 ? from - (Math.log(1 - o.random()) * 1000) / rate : Infinity)
  const tick = () => {
    if (stopped) return
    const now = performance.now()
    while (next <= now) {
      send(next)
      next = draw(next)
    }
    timer = setTimeout(tick, 1)
  }
  let timer = setTimeout(tick, 1)
  return {
    startedAt,
    seconds,
    setRate(perSecond: number) {
      rate = perSecond
      // A new rate starts a new gap from now: the memoryless process needs no catching up.
      next = draw(performance.now())
    },
    async stop() {
      if (stopped) return
      stopped = true
      clearTimeout(timer)
      await Promise.all(pending)
      await pool.close()
    },
  }
}
