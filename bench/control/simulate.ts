import { ManualClock } from '../../throttle/src/clock.ts'
import { createController } from '../../throttle/src/control/create-controller.ts'
import type { Bounds } from '../../throttle/src/control/types.ts'
import type { LimiterListener } from '../../throttle/src/limit/limiter.ts'
import { seeded } from '../../test/helpers/random.ts'
import type { Admission } from './admission.ts'
import type { Algorithm } from './algorithms.ts'
import { exponential, lognormal } from './distributions.ts'
import { EventQueue } from './event-queue.ts'
import { quantile, RunRecorder } from './metrics.ts'
import type { Scenario } from './scenarios.ts'
import { Server } from './server.ts'

/** A client's logical request: its attempts share it. */
interface Request {
  attempts: number
}

/** One admitted attempt, from admission to the end of its service. */
interface Job {
  request: Request
  listener: LimiterListener
  arrivedAt: number
  finished: boolean
}

const ARRIVE = 0, RETRY = 1, FINISH = 2, TIMEOUT = 3, TICK = 4, KNOB = 5
type Event =
  | { kind: typeof ARRIVE | typeof TICK }
  | { kind: typeof RETRY; request: Request }
  | { kind: typeof FINISH | typeof TIMEOUT; job: Job }
  | { kind: typeof KNOB; value: number }

/** What one run of one algorithm on one scenario produced. */
export interface RunResult {
  recorder: RunRecorder
  /** Busy slot-ms ÷ available slot-ms over the run. */
  utilisation: number
  /** Mean latency of every completed attempt, ms. */
  meanLatency: number
  /** Knob values the slow loop set: [time s, value] (empty without one). */
  knob: [number, number][]
}

const TICK_MILLIS = 100
const SLOW_LOOP_MILLIS = 5000
const SLOW_LOOP_WINDOW_SECONDS = 30

/**
 * Runs `algorithm` on `scenario`: a discrete-event simulation on a manual clock. Open-loop
 * Poisson arrivals of first attempts; each attempt goes through the algorithm's admission;
 * admitted ones queue for the server's slots and are served in a lognormal time drawn when
 * they start. A client waits `timeoutMillis` for an admitted attempt, then gives up (the
 * server still serves it); shed and timed-out attempts are retried per the scenario's policy.
 * An attempt that ends within the timeout reports `onSuccess`, one that ends past it
 * `onDropped` (the server sees the deadline pass, as with a propagated deadline).
 *
 * Every 100 ms a tick samples the limit, lets the admission measure the queueing delay and
 * applies the scenario's changes of slots. Deterministic for a seed: the arrivals, service
 * times, retries and the algorithm draw from separate seeded streams.
 */
export function simulate(scenario: Scenario, algorithm: Algorithm, seed: number): RunResult {
  const clock = new ManualClock(0)
  const arrivals = seeded(seed), service = seeded(seed + 1), backoff = seeded(seed + 2)
  const admission: Admission = algorithm.make({ clock: clock.now, random: seeded(seed + 3), scenario })
  const recorder = new RunRecorder(scenario.seconds, scenario.sloMillis, scenario.timeoutMillis)
  const server = new Server<Job>(scenario.slots(0))
  const queue = new EventQueue<Event>()
  const end = scenario.seconds * 1000
  let slotMillis = 0, latencySum = 0, completed = 0, last = 0
  const knob: [number, number][] = []
  const slowLoop = scenario.knobDelayMillis !== undefined && algorithm.slowLoop === true && admission.setMax !== undefined ? makeSlowLoop(scenario) : undefined
  if (slowLoop !== undefined) {
    admission.setMax!(slowLoop.initial)
    knob.push([0, slowLoop.initial])
  }

  const draw = scenario.drawService ?? ((t: number, random: () => number) => lognormal(random, scenario.meanServiceMillis(t), scenario.sigma))
  const start = (job: Job, now: number) => {
    queue.push(now + draw(now, service), { kind: FINISH, job })
  }
  const retry = (request: Request, now: number) => {
    if (request.attempts > scenario.retry.max) return
    const delay = scenario.retry.baseMillis * 2 ** (request.attempts - 1) * backoff()
    queue.push(now + delay, { kind: RETRY, request })
  }
  const attempt = (request: Request, now: number) => {
    const first = request.attempts === 0
    request.attempts++
    const listener = admission.acquire()
    recorder.attempt(now, first, listener !== undefined)
    if (listener === undefined) return retry(request, now)
    const job: Job = { request, listener, arrivedAt: now, finished: false }
    queue.push(now + scenario.timeoutMillis, { kind: TIMEOUT, job })
    if (server.arrive(job)) start(job, now)
  }

  queue.push(exponential(arrivals, 1000 / scenario.rate(0)), { kind: ARRIVE })
  queue.push(0, { kind: TICK })
  while (queue.peekTime() < end) {
    const now = queue.peekTime()
    const event = queue.pop()!
    clock.set(now)
    server.advance(now)
    slotMillis += server.slots * (now - last)
    last = now
    switch (event.kind) {
      case ARRIVE:
        attempt({ attempts: 0 }, now)
        queue.push(now + exponential(arrivals, 1000 / scenario.rate(now)), event)
        break
      case RETRY:
        attempt(event.request, now)
        break
      case FINISH: {
        const job = event.job
        job.finished = true
        const latency = now - job.arrivedAt
        recorder.complete(now, latency)
        latencySum += latency
        completed++
        if (latency <= scenario.timeoutMillis) job.listener.onSuccess()
        else job.listener.onDropped()
        const next = server.finish()
        if (next !== undefined) start(next, now)
        break
      }
      case TIMEOUT:
        if (!event.job.finished) retry(event.job.request, now)
        break
      case KNOB:
        admission.setMax!(event.value)
        break
      case TICK: {
        const slots = scenario.slots(now)
        if (slots !== server.slots) {
          server.setSlots(slots)
          for (let job = server.next(); job !== undefined; job = server.next()) start(job, now)
        }
        const oldest = server.oldest()
        admission.tick(now, oldest === undefined ? 0 : now - oldest.arrivedAt)
        recorder.limit(now, admission.limit)
        if (slowLoop !== undefined && now > 0 && now % SLOW_LOOP_MILLIS === 0) {
          const value = slowLoop.step(now, recorder)
          if (value !== undefined) {
            knob.push([now / 1000, value])
            queue.push(now + scenario.knobDelayMillis!, { kind: KNOB, value })
          }
        }
        queue.push(now + TICK_MILLIS, event)
        break
      }
    }
  }
  server.advance(end)
  slotMillis += server.slots * (end - last)
  return { recorder, utilisation: server.busyMillis / slotMillis, meanLatency: latencySum / completed, knob }
}

/**
 * The slow loop of the knob-delay scenario: Governor's `gradient` controller, as the collector
 * runs it (every 5 s, on the p99 of the last 30 s against the SLO threshold, the default
 * cooldown of one window), turning a max-concurrency knob that starts at 200.
 */
function makeSlowLoop(scenario: Scenario): { initial: number; step(now: number, recorder: RunRecorder): number | undefined } {
  const controller = createController('gradient')
  const bounds: Bounds = { min: 1, max: 1000, maxStep: 999, cooldownMillis: SLOW_LOOP_WINDOW_SECONDS * 1000, deadBand: 0.05, integer: true }
  let value = 200
  let state = controller.init(value, 0)
  return {
    initial: value,
    step(now, recorder) {
      const to = Math.floor(now / 1000), from = Math.max(0, to - SLOW_LOOP_WINDOW_SECONDS)
      const latencies = recorder.windows.slice(from, to).flatMap((w) => w.latencies)
      const sli = latencies.length === 0 ? undefined : quantile(latencies, 0.99)
      const out = controller.step(state, { now, sli, target: scenario.sloMillis, value }, bounds)
      state = out.state
      if (out.decision.kind === 'hold') return undefined
      value = out.decision.value
      return value
    },
  }
}
