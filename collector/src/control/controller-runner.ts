import type { NewEvent } from '../changelog/change-log.ts'
import { isGovernorError } from '../errors.ts'
import type { KnobService } from '../knobs/knob-service.ts'
import type { SloService } from '../slo/slo-service.ts'
import type { AlgorithmName, Controller, Decision, Observation } from '@governor/throttle'
import { steered } from '@governor/throttle'
import { bounds, observeBinding, type HoldKind } from './binding-observation.ts'
import { observationWindowMillis } from './definition.ts'
import { CONTROLLER_KIND, type ControllerBinding, type ControllerService } from './controller-service.ts'
import type { ControllerMetrics, FailureStage } from './controller-metrics.ts'
import type { SliObserver } from './sli-observer.ts'
import type { UsageObserver } from './usage-observer.ts'
import { PeriodicLoop } from '../util/periodic-loop.ts'
import type { Lease } from './lease.ts'

/** Builds an algorithm from a binding's name and parameters (`createController`). */
export type ControllerFactory = (algorithm: AlgorithmName, params: Record<string, number>) => Controller

/** The part of a logger the runner uses (fastify's and pino's fit). */
export interface RunnerLog {
  error(obj: object, msg: string): void
  debug(obj: object, msg: string): void
}

export { STALE_INTERVALS, type HoldKind } from './binding-observation.ts'

export interface ControllerRunnerOptions {
  controllers: Pick<ControllerService, 'list'>
  slos: Pick<SloService, 'find'>
  knobs: Pick<KnobService, 'list' | 'setValue'>
  /**
   * With several collectors on one store: the lease that makes one of them run every
   * controller. Without it this runner always runs them (one collector). Each decision is
   * applied with the lease's term, which the knob write checks (a stale term is refused).
   */
  lease?: Pick<Lease, 'due' | 'step' | 'held' | 'state' | 'assertCurrent' | 'release'> | undefined
  changeLog: { append(e: NewEvent): Promise<unknown> }
  observer: Pick<SliObserver, 'read'>
  /**
   * Reads what the app's fast loop does under each knob (its limiter's peak in flight and
   * limit), passed to the algorithm as `inUse` and `limit`: it raises a bound only while the
   * limiter uses it and reaches it. Without it, raises are gated by the SLO alone.
   */
  usage?: Pick<UsageObserver, 'read'> | undefined
  factory: ControllerFactory
  metrics: ControllerMetrics
  log: RunnerLog
  /** The clock; tests pass a manual one and call `tick` themselves. */
  now: () => number
  /** How often `start` looks for controllers whose interval has passed; 0: `start` does nothing. */
  tickMillis: number
  /** Longest `stop` waits for a running tick. Default 5 s. */
  stopTimeoutMillis?: number
}

/** What one controller last saw and did, for `GET /api/v1/controllers`. */
export interface ControllerView {
  /** Version of the binding this state belongs to. */
  version: number
  lastRunAt: number | undefined
  /** `text`: the primary SLI as read; `guardText`: the guard's, when the binding has a guard. */
  lastObservation: (Observation & { text: string; guardText?: string | undefined }) | undefined
  lastDecision: (Decision & { at: number; applied: boolean }) | undefined
  /** Set while the controller holds for a reason of its own (no data, a pinned knob…), recorded once in the change log. */
  holding: { kind: HoldKind; reason: string; since: number } | undefined
}

interface Runtime extends ControllerView {
  controller: Controller | undefined
  state: unknown
  /** The last shadow decision recorded, so that a repeated one is not recorded again. */
  shadowKey: string | undefined
  /** Whether the app's limiter under the knob last held for latency not from concurrency (recorded once per transition into it). */
  limiterHeld: boolean
}

/** What one tick did. */
export interface RunnerTick {
  /** True when a tick was already running, so this one did nothing. */
  skipped: boolean
  /** Controllers whose interval had passed and that ran. */
  ran: number
  failed: number
}

/**
 * Runs every controller at its interval: reads the observation (the SLO's SLI over the short
 * window and the knob's value), calls the algorithm's `step`, and acts on the decision.
 *
 * - active mode: a change is a knob change through the knob service (so connected apps see
 *   it on their stream), by actor `controller:<name>`, with the decision's reason and the
 *   observation (SLI, target, burn rate) as the reason. Only while the knob is in `auto`
 *   mode: a person's change (manual mode) or a pin hands the knob back to people.
 * - shadow mode: what it would do is recorded as a `controller` event, once per distinct
 *   decision, and the knob is not touched.
 * - off: nothing is read, decided or recorded; the view says it holds (`off`).
 * - no data, stale data (newest point older than 3 intervals), a store error, a pinned knob:
 *   the value is held and the reason recorded as one `controller` event per transition into
 *   that hold, not per tick. The same for the guard SLO of a binding that has one.
 * - a binding whose knob `lowers` its SLI, or that has a guard, runs its algorithm through
 *   `steered` (throttle library): mirrored SLI, guard lowering, no raise near the guard.
 *
 * A background loop (CONVENTIONS #11): `tick` never throws; a failure is counted in
 * `governor_controller_failures_total{stage}`, logged at error level once (debug while it
 * repeats); a tick that finds the previous one running is skipped; `stop` waits for the
 * running tick at most `stopTimeoutMillis`. Time comes from `now` only.
 */
export class ControllerRunner {
  readonly #o: Required<Omit<ControllerRunnerOptions, 'lease' | 'usage'>> &
    Pick<ControllerRunnerOptions, 'lease' | 'usage'>
  readonly #runtimes = new Map<string, Runtime>()
  readonly #failing = new Set<string>()

  readonly #loop: PeriodicLoop<RunnerTick>

  constructor(options: ControllerRunnerOptions) {
    this.#o = { stopTimeoutMillis: 5_000, ...options }
    this.#loop = new PeriodicLoop(
      () => this.#run(),
      { skipped: true, ran: 0, failed: 0 },
      { intervalMillis: this.#o.tickMillis, stopTimeoutMillis: this.#o.stopTimeoutMillis },
    )
  }

  /** Ticks every `tickMillis` until `stop`; the first tick comes one interval after start. */
  start(): void {
    this.#loop.start()
  }

  /** One pass now; never rejects; skipped while one is running. */
  tick(): Promise<RunnerTick> {
    return this.#loop.tick()
  }

  /** Stops ticking, waits for a running tick (at most `stopTimeoutMillis`) and gives the lease up. */
  async stop(): Promise<void> {
    await this.#loop.stop()
    await this.#o.lease
      ?.release()
      .catch((err: unknown) => this.#o.log.debug({ err }, 'controllers: releasing the lease failed; it lapses'))
  }

  /** Whether this runner runs the controllers: always without a lease, while it holds it with one. */
  get leading(): boolean {
    return this.#o.lease === undefined || this.#o.lease.held(this.#o.now())
  }

  /** What the controller last saw and did; undefined before its first tick. */
  view(service: string, name: string): ControllerView | undefined {
    const rt = this.#runtimes.get(`${service}/${name}`)
    if (rt === undefined) return undefined
    const { version, lastRunAt, lastObservation, lastDecision, holding } = rt
    return { version, lastRunAt, lastObservation, lastDecision, holding }
  }

  async #run(): Promise<RunnerTick> {
    const out: RunnerTick = { skipped: false, ran: 0, failed: 0 }
    const term = await this.#leaseTerm()
    if (term === null) {
      out.failed += this.#leaseFailed ? 1 : 0
      return out
    }
    let bindings: ControllerBinding[]
    try {
      bindings = this.#o.controllers.list()
    } catch (err) {
      this.#failed('tick', 'tick', err, 'controllers: listing the bindings failed')
      out.failed++
      return out
    }
    for (const b of bindings) {
      if (this.#loop.stopped) break
      const now = this.#o.now()
      const rt = this.#runtime(b)
      if (rt.lastRunAt !== undefined && now - rt.lastRunAt < b.definition.interval_ms) continue
      rt.lastRunAt = now
      out.ran++
      try {
        if (!(await this.#step(b, rt, now, term))) out.failed++
      } catch (err) {
        // #step handles what it expects; anything else is a bug, and must not stop the loop.
        this.#failed(`${b.service}/${b.name}`, 'tick', err, `controller ${b.service}/${b.name}: tick failed`)
        out.failed++
      }
    }
    return out
  }

  /** The runtime of a binding, new when the binding changed since (its algorithm starts afresh). */
  #runtime(b: ControllerBinding): Runtime {
    const id = `${b.service}/${b.name}`
    let rt = this.#runtimes.get(id)
    if (rt === undefined || rt.version !== b.version) {
      rt = {
        version: b.version,
        lastRunAt: undefined,
        lastObservation: undefined,
        lastDecision: undefined,
        holding: undefined,
        controller: undefined,
        state: undefined,
        shadowKey: undefined,
        limiterHeld: false,
      }
      this.#runtimes.set(id, rt)
    }
    return rt
  }

  #leaseFailed = false

  /**
   * Renews or claims the lease when due; the term to run the controllers under, undefined
   * without a lease, null when another collector holds it (or the store cannot tell). A runner
   * that stops leading forgets its controllers' state: the next leader, or this one later,
   * starts them afresh from the knob's value.
   */
  async #leaseTerm(): Promise<number | undefined | null> {
    const lease = this.#o.lease
    if (lease === undefined) return undefined
    this.#leaseFailed = false
    if (lease.due(this.#o.now())) {
      try {
        await lease.step()
        this.#recovered('lease', 'lease')
      } catch (err) {
        this.#leaseFailed = true
        this.#failed(
          'lease',
          'lease',
          err,
          'controllers: the lease could not be read or renewed; not running controllers',
        )
      }
    }
    if (lease.held(this.#o.now())) return lease.state.term
    this.#runtimes.clear()
    return null
  }

  /** One step of one controller; false when a stage failed. */
  async #step(b: ControllerBinding, rt: Runtime, now: number, term: number | undefined): Promise<boolean> {
    const def = b.definition
    const id = `${b.service}/${b.name}`
    if (def.mode === 'off') {
      // Off: holds and does nothing; the mode change itself is the change-log event.
      rt.holding ??= { kind: 'off', reason: `controller ${id} is off`, since: now }
      return true
    }
    const knob = this.#o.knobs.list(b.service).find((k) => k.name === def.knob)
    if (knob === undefined)
      return this.#hold(b, rt, now, 'knob_missing', `knob ${b.service}/${def.knob} no longer exists`, undefined)
    const value = knob.value as number
    if (knob.mode === 'pinned')
      return this.#hold(
        b,
        rt,
        now,
        'pinned',
        `knob ${def.knob} is pinned at ${value} by ${knob.actor} (${knob.reason})`,
        value,
      )
    if (def.mode === 'active' && knob.mode !== 'auto') {
      return this.#hold(
        b,
        rt,
        now,
        'manual',
        `knob ${def.knob} is in ${knob.mode} mode since ${knob.actor} set it (${knob.reason}); put it back in auto mode to hand it to the controller`,
        value,
      )
    }
    if (rt.controller === undefined) {
      try {
        // An inverse effect or a guard: the same algorithm, fed a mapped observation (see `steered`).
        const guard = def.guard === null ? undefined : { decrease: def.guard.decrease, headroom: def.guard.headroom }
        rt.controller = steered(this.#o.factory(def.algorithm, def.params), { effect: def.effect, guard }) as Controller
        rt.state = rt.controller.init(value, now)
      } catch (err) {
        return this.#hold(
          b,
          rt,
          now,
          'invalid',
          `algorithm ${def.algorithm} refused its parameters: ${(err as Error).message}`,
          value,
        )
      }
    }

    const seen = await observeBinding(this.#o.observer, this.#o.slos, b.service, def, value, now)
    if (!seen.ok) {
      if (seen.failed === undefined) return this.#hold(b, rt, now, seen.kind, seen.reason, value)
      this.#failed(id, 'observe', seen.failed.err, `controller ${id}: reading ${seen.failed.metric} failed`)
      await this.#hold(b, rt, now, seen.kind, seen.reason, value)
      return false
    }
    this.#recovered(id, 'observe')

    const { obs } = seen
    let explain = seen.explain
    const usage = await this.#usage(b, def.knob, now)
    if (usage !== undefined) {
      if (usage.inUse !== undefined) obs.inUse = usage.inUse
      if (usage.limit !== undefined) obs.limit = usage.limit
      explain += ` · ${usage.text}`
      await this.#limiterHold(b, rt, usage.notFromConcurrency === true, usage.text, now)
    }
    const stepped = rt.controller.step(rt.state, obs, bounds(def, knob))
    let decision = stepped.decision
    if (usage?.notFromConcurrency === true && decision.value < value) {
      // The limiter under the knob sees requests late whatever their concurrency: a lower bound
      // would shed traffic and fix nothing. Hold, and keep the algorithm's state as it was, so
      // that it decides afresh once the limiter stops holding.
      decision = {
        kind: 'hold',
        value,
        reason: `${decision.reason}, but the app's limiter holds for latency not from concurrency: holding at ${value}`,
      }
    } else rt.state = stepped.state
    rt.holding = undefined
    rt.lastObservation = { ...obs, text: seen.text, guardText: seen.guardText }
    rt.lastDecision = { ...decision, at: now, applied: false }
    this.#o.metrics.decisions.inc({ kind: decision.kind, mode: def.mode })
    if (decision.kind === 'hold' || decision.value === value) return true
    const reason = `${decision.reason} — ${explain}`

    if (def.mode === 'shadow') {
      const key = `${value}→${decision.value}`
      if (rt.shadowKey === key) return true
      const recorded = await this.#record(
        b,
        {
          title: `controller ${id} (shadow) would ${decision.kind} ${def.knob} ${value} → ${decision.value}`,
          text: reason,
          tags: [b.name, 'shadow', decision.kind],
          data: {
            controller: b.name,
            knob: def.knob,
            mode: 'shadow',
            decision: decision.kind,
            before: value,
            after: decision.value,
            sli: obs.sli,
            target: obs.target,
            burn_rate: obs.burnRate ?? null,
            ...(obs.guard !== undefined ? { guard_sli: obs.guard.sli, guard_target: obs.guard.target } : {}),
          },
        },
        now,
      )
      if (recorded) rt.shadowKey = key
      return recorded
    }

    const lease = this.#o.lease
    const fence =
      lease === undefined || term === undefined ? undefined : { term, assertCurrent: () => lease.assertCurrent(term) }
    try {
      await this.#o.knobs.setValue(
        b.service,
        def.knob,
        decision.value,
        { actor: `controller:${b.name}`, reason },
        undefined,
        fence,
      )
      rt.lastDecision.applied = true
      this.#recovered(id, 'apply')
      return true
    } catch (err) {
      if (isGovernorError(err) && err.code === 'GOV_ERR_KNOB_PINNED')
        return this.#hold(b, rt, now, 'pinned', `knob ${def.knob} was pinned: ${err.message}`, value)
      if (isGovernorError(err) && err.code === 'GOV_ERR_KNOB_CONFLICT')
        return this.#hold(b, rt, now, 'manual', `knob ${def.knob} was taken over: ${err.message}`, value)
      if (isGovernorError(err) && err.code === 'GOV_ERR_CONTROLLER_STALE_TERM') {
        // Another collector leads now: it records what happens next, this one says nothing.
        rt.holding = { kind: 'stale_term', reason: err.message, since: now }
        this.#o.log.debug({ err }, `controller ${id}: decision of a stale term refused`)
        return true
      }
      this.#failed(id, 'apply', err, `controller ${id}: setting ${def.knob} failed`)
      await this.#hold(
        b,
        rt,
        now,
        'apply_failed',
        `setting ${def.knob} to ${decision.value} failed: ${(err as Error).message}`,
        value,
      )
      return false
    }
  }

  /**
   * The app's limiter under the knob, over the observation window; undefined when there is no
   * usage observer, the app reports none, or the store fails (counted and logged as an observe
   * failure: the controller still steps, as it would without the fast loop's figures).
   */
  async #usage(b: ControllerBinding, knob: string, now: number): Promise<Awaited<ReturnType<UsageObserver['read']>>> {
    const usage = this.#o.usage
    if (usage === undefined) return undefined
    const id = `${b.service}/${b.name}`
    try {
      const read = await usage.read(b.service, knob, now, observationWindowMillis(b.definition.interval_ms))
      this.#recovered(`${id}\0usage`, 'observe')
      return read
    } catch (err) {
      this.#failed(
        `${id}\0usage`,
        'observe',
        err,
        `controller ${id}: reading the app's limiter metrics failed; stepping without them`,
      )
      return undefined
    }
  }

  /**
   * Records, once per transition into it, that the app's limiter under the knob holds for
   * latency not from its concurrency (a slow dependency, a pause, a throttled CPU): lowering
   * limits will not help there, and people should know. A failed record is tried again at the next step.
   */
  async #limiterHold(b: ControllerBinding, rt: Runtime, held: boolean, text: string, now: number): Promise<void> {
    if (!held || rt.limiterHeld) {
      rt.limiterHeld = held
      return
    }
    const knob = b.definition.knob
    rt.limiterHeld = await this.#record(
      b,
      {
        title: `app ${b.service}: the limiter under ${knob} holds: latency not from concurrency`,
        text: `${text}. Requests are late whatever the concurrency (a slow dependency, a pause, a throttled CPU), so the limiter does not lower its limit for it.`,
        tags: [b.name, 'limiter', 'not_from_concurrency'],
        data: { controller: b.name, knob, limiter_reason: 'not_from_concurrency' },
      },
      now,
    )
  }

  /**
   * Holds the value for a reason of the runner's own, recorded once per transition into that
   * hold (a failed record is tried again at the next tick). Resolves to true (the tick went as
   * expected) unless the record failed.
   */
  async #hold(
    b: ControllerBinding,
    rt: Runtime,
    now: number,
    kind: HoldKind,
    reason: string,
    value: number | undefined,
  ): Promise<boolean> {
    rt.lastDecision = { kind: 'hold', value: value ?? Number.NaN, reason, at: now, applied: false }
    if (rt.holding?.kind === kind) return true
    const def = b.definition
    const at = value === undefined ? '' : ` at ${value}`
    const recorded = await this.#record(
      b,
      {
        title: `controller ${b.service}/${b.name} holds ${def.knob}${at}: ${reason}`,
        text: reason,
        tags: [b.name, 'hold', kind],
        data: { controller: b.name, knob: def.knob, mode: def.mode, hold: kind, value: value ?? null },
      },
      now,
    )
    if (recorded) rt.holding = { kind, reason, since: now }
    return recorded
  }

  async #record(
    b: ControllerBinding,
    e: Pick<NewEvent, 'title' | 'text' | 'tags' | 'data'>,
    now: number,
  ): Promise<boolean> {
    const id = `${b.service}/${b.name}`
    try {
      await this.#o.changeLog.append({
        kind: CONTROLLER_KIND,
        time: now,
        timeEnd: now,
        service: b.service,
        environment: '',
        actor: `controller:${b.name}`,
        version: '',
        ...e,
      })
      this.#recovered(id, 'record')
      return true
    } catch (err) {
      this.#failed(id, 'record', err, `controller ${id}: recording "${e.title}" failed`)
      return false
    }
  }

  #failed(id: string, stage: FailureStage, err: unknown, msg: string): void {
    this.#o.metrics.failures.inc({ stage })
    const key = `${id}\0${stage}`
    if (this.#failing.has(key)) {
      this.#o.log.debug({ err }, msg)
      return
    }
    if (this.#failing.size >= 1000) this.#failing.delete(this.#failing.values().next().value!)
    this.#failing.add(key)
    this.#o.log.error({ err }, msg)
  }

  #recovered(id: string, stage: FailureStage): void {
    this.#failing.delete(`${id}\0${stage}`)
  }
}
