/**
 * Paced open-loop load over a fixed set of keep-alive connections (undici `Client`s, one
 * request at a time each). Arrivals follow a seeded Poisson schedule fixed in advance, whatever
 * the server answers: the offered rate does not depend on how fast answers come back, and there
 * is no per-second quota to refill, so the load does not arrive in bursts.
 *
 *   schedule   a₁    a₂ a₃       a₄   a₅ …          (exponential gaps, mean 1 / rate)
 *   tick       every ~1 ms: each arrival now due goes out on an idle connection, or is
 *              counted as not sent (offered, not served) if it is more than `lateMillis`
 *              overdue (the generator fell behind) or no connection is idle (all are
 *              waiting on answers); never queued on the client, never sent in a late burst
 *   answer     timed from the scheduled arrival, not from the send, and cut off at
 *              `timeoutMillis` after it, connecting included (the request is aborted and its
 *              connection closed, as a client that gives up closes it; the next request on
 *              it opens a new one)
 *
 * Every arrival is counted once, in the second (since the start) it was scheduled in.
 */
import { Client } from 'undici'

/** What the arrivals scheduled in one second came to; `offered` is the sum of the rest. */
export interface PacedSecond {
  offered: number
  /** 200 within the timeout. */
  good: number
  /** Latencies of the 200s within the timeout, ms from the scheduled arrival. */
  latencies: number[]
  /** 503. */
  shed: number
  /** No answer within the timeout. */
  timedOut: number
  /** Any other status, or a connection error. */
  other: number
  /** Not sent: more than `lateMillis` overdue when the generator got to it. */
  late: number
  /** Not sent: every connection was waiting on an answer. */
  noConnection: number
  /** The latest a request of the second was sent after its scheduled arrival, ms. */
  sendLagMillis: number
}

/** Options of `startPacedLoad`. */
export interface PacedLoadOptions {
  origin: string
  path: string
  /** Arrivals a second (Poisson). */
  ratePerSecond: number
  /** Connections kept; each carries one request at a time. */
  connections: number
  /** An answer later than this after the scheduled arrival counts as timed out, ms. */
  timeoutMillis: number
  /** An arrival overdue by more than this when the generator gets to it is not sent, ms. */
  lateMillis: number
  /** Uniform randomness in [0, 1): the gaps between arrivals. */
  random: () => number
}

/** A running load: its counts so far, and how to stop it. */
export interface PacedLoad {
  /** `performance.now()` at the start: second `s` holds the arrivals scheduled in [s, s + 1) s after it. */
  readonly startedAt: number
  /** Counts by second since the start (the current second still grows). */
  readonly seconds: PacedSecond[]
  /** Requests sent in each 10 ms since the start: how evenly the load went out. */
  sentPer10Millis(): Uint32Array
  /** Stops scheduling, waits for the answers still due, closes the connections. */
  stop(): Promise<void>
}

const BUCKET_MILLIS = 10

/** Starts the load at once. */
export function startPacedLoad(o: PacedLoadOptions): PacedLoad {
  if (!(o.ratePerSecond > 0)) throw new Error(`ratePerSecond must be > 0; got ${o.ratePerSecond}`)
  if (!(o.connections >= 1)) throw new Error(`connections must be ≥ 1; got ${o.connections}`)
  const clients = Array.from({ length: o.connections }, () => new Client(o.origin, { pipelining: 1 }))
  // Idle connections as a stack of indices in a preallocated array: no allocation per request.
  const idle = new Int32Array(o.connections)
  let idleCount = 0
  for (let i = o.connections - 1; i >= 0; i--) idle[idleCount++] = i

  const seconds: PacedSecond[] = []
  let sent = new Uint32Array(64 * (1000 / BUCKET_MILLIS))
  const startedAt = performance.now()
  const secondOf = (at: number) => {
    const s = Math.floor((at - startedAt) / 1000)
    while (seconds.length <= s)
      seconds.push({
        offered: 0,
        good: 0,
        latencies: [],
        shed: 0,
        timedOut: 0,
        other: 0,
        late: 0,
        noConnection: 0,
        sendLagMillis: 0,
      })
    return seconds[s]!
  }
  const countSent = (now: number) => {
    const bucket = Math.floor((now - startedAt) / BUCKET_MILLIS)
    if (bucket >= sent.length) {
      const grown = new Uint32Array(Math.max(bucket + 1, sent.length * 2))
      grown.set(sent)
      sent = grown
    }
    sent[bucket]!++
  }

  const pending = new Set<Promise<void>>()
  const send = (arrival: number, now: number, counts: PacedSecond) => {
    const index = idle[--idleCount]!
    counts.sendLagMillis = Math.max(counts.sendLagMillis, now - arrival)
    countSent(now)
    // One deadline for connecting, sending and answering: undici's own timeouts apply to each
    // step apart, and a slow connect plus a slow answer would hold the connection past it.
    const abort = new AbortController()
    const deadline = setTimeout(() => abort.abort(), Math.max(1, o.timeoutMillis - (now - arrival)))
    const done = clients[index]!.request({ path: o.path, method: 'GET', signal: abort.signal })
      .then(
        async (res) => {
          try {
            await res.body.dump()
          } catch {
            if (abort.signal.aborted) counts.timedOut++
            else counts.other++
            return
          }
          const millis = performance.now() - arrival
          if (millis > o.timeoutMillis) counts.timedOut++
          else if (res.statusCode === 200) {
            counts.good++
            counts.latencies.push(millis)
          } else if (res.statusCode === 503) counts.shed++
          else counts.other++
        },
        () => {
          if (abort.signal.aborted) counts.timedOut++
          else counts.other++
        },
      )
      .finally(() => {
        clearTimeout(deadline)
        idle[idleCount++] = index
        pending.delete(done)
      })
    pending.add(done)
  }

  const gap = () => (-Math.log(1 - o.random()) * 1000) / o.ratePerSecond
  let next = startedAt + gap()
  let stopped = false
  const tick = () => {
    if (stopped) return
    const now = performance.now()
    for (; next <= now; next += gap()) {
      const counts = secondOf(next)
      counts.offered++
      if (now - next > o.lateMillis) counts.late++
      else if (idleCount === 0) counts.noConnection++
      else send(next, now, counts)
    }
    timer = setTimeout(tick, 1)
  }
  let timer = setTimeout(tick, 1)

  return {
    startedAt,
    seconds,
    sentPer10Millis: () => sent.slice(0, Math.ceil((performance.now() - startedAt) / BUCKET_MILLIS)),
    async stop() {
      if (stopped) return
      stopped = true
      clearTimeout(timer)
      await Promise.all(pending)
      await Promise.all(clients.map((c) => c.close()))
    },
  }
}
