import { ManualClock } from '../../../throttle/src/clock.ts'
import type { Limit } from '../../../throttle/src/limit/limit.ts'
import { Limiter, type LimiterListener } from '../../../throttle/src/limit/limiter.ts'
import { seeded } from '../../helpers/random.ts'

export interface ModelOptions {
  /** Offered load, requests per second (Poisson). */
  arrivalsPerSecond: number
  /** Servers working in parallel behind one FIFO queue. */
  servers: number
  /** Mean service time, ms (exponential). */
  serviceMillis: number
  seconds: number
  seed: number
}

export interface ModelResult {
  /** Per simulated second: the limit at its end, the p90 latency of the requests finished in it, how many finished, how many were shed. */
  perSecond: { limit: number; p90: number; done: number; shed: number }[]
}

/**
 * A tiny queueing model, stepped 1 ms at a time on a manual clock: Poisson arrivals go through
 * the limiter; admitted requests wait in one FIFO queue for `servers` servers with exponential
 * service times; each finished request reports onSuccess, so its latency (wait + service) is
 * the limit's round trip.
 */
export function runModel(limit: Limit, o: ModelOptions): ModelResult {
  const random = seeded(o.seed)
  const clock = new ManualClock(0)
  const limiter = new Limiter({ limit, clock: clock.now, criticalReserve: 0 })
  const queue: { listener: LimiterListener; arrived: number }[] = []
  let head = 0
  const busyUntil = new Float64Array(o.servers).fill(-1)
  const serving: ({ listener: LimiterListener; arrived: number } | undefined)[] = new Array(o.servers)
  const perMs = o.arrivalsPerSecond / 1000
  const perSecond: ModelResult['perSecond'] = []
  let latencies: number[] = []
  let shed = 0
  const poisson = (mean: number) => {
    const l = Math.exp(-mean)
    let k = 0
    for (let p = random(); p > l; p *= random()) k++
    return k
  }
  for (let t = 0; t < o.seconds * 1000; t++) {
    clock.set(t)
    for (let s = 0; s < o.servers; s++) {
      const job = serving[s]
      if (job !== undefined && busyUntil[s]! <= t) {
        job.listener.onSuccess()
        latencies.push(t - job.arrived)
        serving[s] = undefined
      }
    }
    for (let n = poisson(perMs); n > 0; n--) {
      const listener = limiter.acquire()
      if (listener === undefined) shed++
      else queue.push({ listener, arrived: t })
    }
    for (let s = 0; s < o.servers && head < queue.length; s++) {
      if (serving[s] !== undefined) continue
      const job = queue[head++]!
      serving[s] = job
      // Service starts when the server freed up (within the last ms) or the job arrived: no capacity lost to the 1 ms step.
      busyUntil[s] = Math.max(busyUntil[s]!, job.arrived) + -Math.log(1 - random()) * o.serviceMillis
    }
    if ((t + 1) % 1000 === 0) {
      latencies.sort((a, b) => a - b)
      perSecond.push({
        limit: limiter.limit,
        p90: latencies[Math.ceil(0.9 * latencies.length) - 1] ?? 0,
        done: latencies.length,
        shed,
      })
      latencies = []
      shed = 0
      if (head > 10_000) {
        queue.splice(0, head)
        head = 0
      }
    }
  }
  return { perSecond }
}
