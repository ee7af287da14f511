import type { ChangeLog } from '../changelog/change-log.ts'
import type { ChangeEvent } from '../changelog/types.ts'
import { DEPLOY_KIND } from '../changelog/types.ts'
import type { DeployImpact } from './deploy-impact.ts'
import type { ImpactMetrics } from './impact-metrics.ts'
import { ANALYSIS_KIND, deployIdOf, overallVerdict } from './report.ts'
import { impactWindows } from './windows.ts'
import { PeriodicLoop } from '../util/periodic-loop.ts'

/** The part of a logger the scheduler uses (fastify's and pino's fit). */
export interface SchedulerLog {
  error(obj: object, msg: string): void
  debug(obj: object, msg: string): void
}

/** What the scheduler needs of `DeployImpact`. */
export type ImpactAnalyser = Pick<DeployImpact, 'windowMillis' | 'windowsFor' | 'analyse' | 'store'>

export interface ImpactSchedulerOptions {
  impact: ImpactAnalyser
  changeLog: ChangeLog
  metrics: ImpactMetrics
  log: SchedulerLog
  /** The clock; tests pass a manual one. */
  now: () => number
  /** Time between ticks (`GOVERNOR_IMPACT_INTERVAL_MILLIS`); 0: `start` does nothing. */
  intervalMillis: number
  /** How far back a tick looks for deploys whose window has passed. Default 24 h. */
  lookbackMillis?: number
  /** Most analyses one tick runs; the rest wait for the next. Default 50. */
  maxPerTick?: number
  /** Longest `stop` waits for a running tick. Default 5 s. */
  stopTimeoutMillis?: number
}

/** What one tick did. */
export interface TickOutcome {
  /** True when a tick was already running, so this one did nothing. */
  skipped: boolean
  stored: number
  failed: number
}

/**
 * Analyses deploys once their window has passed: every tick lists the deploys that finished
 * within the lookback, leaves out those with a stored analysis and those whose window after
 * is still open, and analyses and stores the rest, oldest first.
 *
 * A background loop (CONVENTIONS #11): `tick` never throws; a failure is counted in
 * `governor_impact_failures_total`, logged at error level once (and at debug while it
 * repeats) and retried at the next tick; a tick that finds the previous one running is
 * skipped; `stop` waits for the running tick at most `stopTimeoutMillis`.
 */
export class ImpactScheduler {
  readonly #o: Required<ImpactSchedulerOptions>
  /** Keys of failures already logged at error level: a deploy id, or 'tick'. */
  readonly #failing = new Set<string>()

  readonly #loop: PeriodicLoop<TickOutcome>

  constructor(options: ImpactSchedulerOptions) {
    this.#o = { lookbackMillis: 86_400_000, maxPerTick: 50, stopTimeoutMillis: 5_000, ...options }
    this.#loop = new PeriodicLoop(
      () => this.#run(),
      { skipped: true, stored: 0, failed: 0 },
      { intervalMillis: this.#o.intervalMillis, stopTimeoutMillis: this.#o.stopTimeoutMillis },
    )
  }

  /** Ticks every `intervalMillis` until `stop`; the first tick comes one interval after start. */
  start(): void {
    this.#loop.start()
  }

  /** One pass now; never rejects; skipped while one is running. */
  tick(): Promise<TickOutcome> {
    return this.#loop.tick()
  }

  /** Stops ticking and waits for a running tick, at most `stopTimeoutMillis`. */
  stop(): Promise<void> {
    return this.#loop.stop()
  }

  async #run(): Promise<TickOutcome> {
    const out: TickOutcome = { skipped: false, stored: 0, failed: 0 }
    let due: { deploy: ChangeEvent; deploys: ChangeEvent[] }[]
    const now = this.#o.now()
    try {
      due = await this.#due(now)
      this.#recovered('tick')
    } catch (err) {
      this.#failed('tick', err, 'impact: listing deploys failed')
      out.failed++
      return out
    }
    for (const { deploy, deploys } of due.slice(0, this.#o.maxPerTick)) {
      if (this.#loop.stopped) break
      try {
        const windows = await this.#o.impact.windowsFor(deploy, deploys)
        const report = await this.#o.impact.analyse(deploy, windows, now)
        await this.#o.impact.store(deploy, report, windows)
        this.#o.metrics.analyses.inc({ outcome: overallVerdict(report.metrics) })
        this.#recovered(deploy.id)
        out.stored++
      } catch (err) {
        this.#failed(deploy.id, err, `impact: analysis of deploy ${deploy.id} failed`)
        out.failed++
      }
    }
    return out
  }

  /** Deploys whose window has passed and that have no stored analysis, oldest first. */
  async #due(now: number): Promise<{ deploy: ChangeEvent; deploys: ChangeEvent[] }[]> {
    const w = this.#o.impact.windowMillis
    const since = now - this.#o.lookbackMillis
    // Neighbours that can cut a window lie within one window of it: list those too.
    const deploys = (
      await this.#o.changeLog.list({ kind: DEPLOY_KIND, from: since - 2 * w, to: now, limit: 1000 })
    ).reverse()
    const analysed = new Set(
      (await this.#o.changeLog.list({ kind: ANALYSIS_KIND, from: since, limit: 1000 })).map(deployIdOf),
    )
    return deploys
      .filter((d) => d.timeEnd >= since && !analysed.has(d.id) && impactWindows(d, deploys, w).after.to <= now)
      .map((deploy) => ({ deploy, deploys }))
  }

  #failed(key: string, err: unknown, msg: string): void {
    this.#o.metrics.failures.inc()
    if (this.#failing.has(key)) {
      this.#o.log.debug({ err }, msg)
      return
    }
    // Bounded: a store that is down for long makes every deploy fail; forget the oldest.
    if (this.#failing.size >= 1000) this.#failing.delete(this.#failing.values().next().value!)
    this.#failing.add(key)
    this.#o.log.error({ err }, msg)
  }

  #recovered(key: string): void {
    this.#failing.delete(key)
  }
}
