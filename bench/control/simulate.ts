import { AdaptiveThrottle } from '../../throttle/src/caller/adaptive-throttle.ts'
import { RetryBudget } from '../../throttle/src/caller/retry-budget.ts'
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

const ARRIVE = 0,
  RETRY = 1,
  FINISH = 2,
  TIMEOUT = 3,
  TICK = 4,
  KNOB = 5,
  DONE = 6
type Event =
  | { kind: typeof ARRIVE | typeof TICK }
  | { kind: typeof RETRY; request: Request }
  | { kind: typeof FINISH | typeof TIMEOUT | typeof DONE; job: Job }
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
 * they start, then wait `dependencyMillis` more where a scenario has a slow dependency (holding
 * no slot). A client waits `timeoutMillis` for an admitted attempt, then gives up (the
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
  const arrivals = seeded(seed),
    service = seeded(seed + 1),
    backoff = seeded(seed + 2)
  const admission: Admission = algorithm.make({ clock: clock.now, random: seeded(seed + 3), scenario })
  const recorder = new RunRecorder(scenario.seconds, scenario.sloMillis, scenario.timeoutMillis)
  const server = new Server<Job>(scenario.slots(0))
  const queue = new EventQueue<Event>()
  const end = scenario.seconds * 1000
  let slotMillis = 0,
    latencySum = 0,
    completed = 0,
    last = 0
  const knob: [number, number][] = []
  const slowLoop =
    scenario.knobDelayMillis !== undefined && algorithm.slowLoop === true && admission.setMax !== undefined
      ? makeSlowLoop(scenario)
      : undefined
  if (slowLoop !== undefined) {
    admission.setMax!(slowLoop.initial)
    knob.push([0, slowLoop.initial])
  }

  const draw =
    scenario.drawService ??
    ((t: number, random: () => number) => lognormal(random, scenario.meanServiceMillis(t), scenario.sigma))
  const start = (job: Job, now: number) => {
    queue.push(now + draw(now, service), { kind: FINISH, job })
  }
  // The clients' own protection, one for the whole client population (as one caller service would have).
  const throttle =
    scenario.clientProtection === true
      ? new AdaptiveThrottle({ clock: clock.now, random: seeded(seed + 4) })
      : undefined
  const budget = scenario.clientProtection === true ? new RetryBudget({ clock: clock.now }) : undefined
  const retry = (request: Request, now: number) => {
    if (request.attempts > scenario.retry.max) return
    if (budget !== undefined && !budget.tryRetry()) return
    const delay = scenario.retry.baseMillis * 2 ** (request.attempts - 1) * backoff()
    queue.push(now + delay, { kind: RETRY, request })
  }
  const attempt = (request: Request, now: number) => {
    const first = request.attempts === 0
    request.attempts++
    if (first) budget?.onRequest()
    if (throttle !== undefined && !throttle.allow()) return recorder.rejectLocally(now, first)
    const listener = admission.acquire()
    recorder.attempt(now, first, listener !== undefined)
    if (listener === undefined) return retry(request, now)
    const job: Job = { request, listener, arrivedAt: now, finished: false }
    queue.push(now + scenario.timeoutMillis, { kind: TIMEOUT, job })
    if (server.arrive(job)) start(job, now)
  }

  const done = (job: Job, now: number) => {
    job.finished = true
    const latency = now - job.arrivedAt
    recorder.complete(now, latency)
    latencySum += latency
    completed++
    if (latency <= scenario.timeoutMillis) {
      job.listener.onSuccess()
      throttle?.onAccepted() // an answer within the client's timeout, and no 503
    } else job.listener.onDropped()
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
        const next = server.finish()
        if (next !== undefined) start(next, now)
        // The dependency's wait, if any, holds no slot: the request completes after it.
        const extra = scenario.dependencyMillis?.(now) ?? 0
        if (extra > 0) queue.push(now + extra, { kind: DONE, job: event.job })
        else done(event.job, now)
        break
      }
      case DONE:
        done(event.job, now)
        break
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
 * cooldown of one window), turning a max-concurrency knob that starts at 200 (`knobStart`). It sees what the
 * collector sees: the SLO's burn rate over the window (objective 99 %: the share of answers
 * over the threshold ÷ 1 %) and the limiter's highest limit over the window, as the app's
 * `governor.limiter.limit` reports it (so it raises the bound only where the limiter reaches it).
 */
function makeSlowLoop(scenario: Scenario): {
  initial: number
  step(now: number, recorder: RunRecorder): number | undefined
} {
  const controller = createController('gradient', scenario.slowLoopParams)
  const bounds: Bounds = {
    min: 1,
    max: 1000,
    maxStep: 999,
    cooldownMillis: SLOW_LOOP_WINDOW_SECONDS * 1000,
    deadBand: 0.05,
    integer: true,
  }
  let value = scenario.knobStart ?? 200
  let state = controller.init(value, 0)
  return {
    initial: value,
    step(now, recorder) {
      const to = Math.floor(now / 1000),
        from = Math.max(0, to - SLOW_LOOP_WINDOW_SECONDS)
      const latencies = recorder.windows.slice(from, to).flatMap((w) => w.latencies)
      const sli = latencies.length === 0 ? undefined : quantile(latencies, 0.99)
      const over = latencies.reduce((n, l) => (l > scenario.sloMillis ? n + 1 : n), 0)
      let limit = -Infinity
      for (const [t, v] of recorder.limits) if (t >= from && t < to && v > limit) limit = v
      const out = controller.step(
        state,
        {
          now,
          sli,
          target: scenario.sloMillis,
          value,
          ...(latencies.length > 0 ? { burnRate: over / latencies.length / 0.01 } : {}),
          ...(Number.isFinite(limit) ? { limit } : {}),
        },
        bounds,
      )
      state = out.state
      if (out.decision.kind === 'hold') return undefined
      value = out.decision.value
      return value
    },
  }
}
