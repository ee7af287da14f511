import type { ChangeLog } from '../changelog/change-log.ts'
import { iso } from '../changelog/change-log.ts'
import type { ChangeEvent, DeployPlan } from '../changelog/types.ts'
import { DEPLOY_KIND } from '../changelog/types.ts'
import { GovernorError, isGovernorError } from '../errors.ts'
import { TABLE_OF } from '../query/run-query.ts'
import type { RankTest } from '../store/rank-test.ts'
import type { PointRows, SeriesRow, StoreQueries } from '../store/queries.ts'
import { bucketValues } from './bucket-values.ts'
import { exactMannWhitney } from './exact-rank-test.ts'
import { analysisEvent, hintsFor, impactEventId, overallVerdict, summarise, windowJson } from './report.ts'
import { resolveSignals, type ResolvedSignal } from './signals.ts'
import type { ImpactReport, ImpactWindows, MetricImpact } from './types.ts'
import { judge, THRESHOLDS, type UTest } from './verdict.ts'
import { completeBuckets, cutAt, impactWindows } from './windows.ts'

export interface DeployImpactOptions {
  changeLog: ChangeLog
  /** Where the series and their points are read. */
  queries: StoreQueries
  /** The rank test of samples too large for the exact one (the store's `mannWhitneyUTest`). */
  rankTest: RankTest
  /** Length of the windows before and after a deploy (`GOVERNOR_IMPACT_WINDOW_MILLIS`). */
  windowMillis: number
  /** Width of the buckets compared (`GOVERNOR_IMPACT_BUCKET_MILLIS`). */
  bucketMillis: number
  /** Most raw points one signal may read (`GOVERNOR_MAX_QUERY_POINTS`). */
  maxQueryPoints: number
}

/** A report as `GET /api/v1/deploys/{id}/impact` answers it: with the id of its stored event, or null. */
export type ImpactAnswer = ImpactReport & { analysis_id: string | null }

/**
 * Deploy impact analysis: compares a service's watched metrics in the window before a deploy
 * with the window after it (see `impactWindows`, `resolveSignals`, `bucketValues`, `judge`)
 * and stores the result once as a change-log event of kind `analysis`. The current time is
 * always an argument, so tests drive it with a manual clock.
 */
export class DeployImpact {
  readonly #o: DeployImpactOptions
  readonly #queries: StoreQueries

  /** @throws GovernorError `GOV_ERR_SETTINGS_INVALID` when a window holds fewer buckets than a verdict needs. */
  constructor(options: DeployImpactOptions) {
    // Buckets are aligned to multiples of their width and a deploy comes at any time, so a
    // window of w holds as few as floor(w / bucket) − 1 complete buckets.
    const complete = Math.floor(options.windowMillis / options.bucketMillis) - 1
    if (complete < THRESHOLDS.min_buckets) {
      throw new GovernorError(
        'GOV_ERR_SETTINGS_INVALID',
        `GOVERNOR_IMPACT_WINDOW_MILLIS=${options.windowMillis} holds as few as ${Math.max(0, complete)} complete buckets of ` +
          `GOVERNOR_IMPACT_BUCKET_MILLIS=${options.bucketMillis} (buckets are aligned, deploys are not), and a verdict needs ${THRESHOLDS.min_buckets}: ` +
          `make the window at least ${(THRESHOLDS.min_buckets + 1) * options.bucketMillis} ms or the buckets shorter`,
      )
    }
    this.#o = options
    this.#queries = options.queries
  }

  get windowMillis(): number {
    return this.#o.windowMillis
  }

  /** The windows of a deploy; `deploys` are its neighbours when the caller has them already. */
  async windowsFor(deploy: ChangeEvent, deploys?: readonly ChangeEvent[]): Promise<ImpactWindows> {
    const w = this.#o.windowMillis
    const around =
      deploys ??
      (await this.#o.changeLog.list({
        kind: DEPLOY_KIND,
        service: deploy.service,
        environment: deploy.environment,
        from: deploy.time - w,
        to: deploy.timeEnd + w,
        limit: 1000,
      }))
    return impactWindows(deploy, around, w)
  }

  /** The stored analysis of a deploy, if there is one (with its overall verdict, which reports stored before it lack). */
  async stored(deployId: string): Promise<ImpactAnswer | undefined> {
    const e = await this.#o.changeLog.get(impactEventId(deployId))
    if (e === undefined) return undefined
    const report = e.data as unknown as ImpactReport
    return { ...report, verdict: report.verdict ?? overallVerdict(report.metrics ?? []), analysis_id: e.id }
  }

  /** The shortest window `?window=` takes: one that holds enough complete buckets for a verdict however the deploy falls. */
  get minWindowMillis(): number {
    return (THRESHOLDS.min_buckets + 1) * this.#o.bucketMillis
  }

  /**
   * What `GET /api/v1/deploys/{id}/impact` answers: the stored analysis; else, once the
   * window after the deploy has passed, a fresh one, stored; else a provisional one over the
   * data so far, not stored.
   *
   * With `windowMillis` (`?window=5m`), a provisional look over windows of that length
   * instead (before the deploy against after it, cut at `now` and at neighbouring deploys),
   * never stored and whatever is stored. GOV_ERR_QUERY_PARAM when it is shorter than
   * `minWindowMillis` or longer than the configured window.
   */
  async answer(deploy: ChangeEvent, now: number, windowMillis?: number): Promise<ImpactAnswer> {
    if (windowMillis !== undefined) {
      if (windowMillis < this.minWindowMillis || windowMillis > this.#o.windowMillis) {
        throw new GovernorError(
          'GOV_ERR_QUERY_PARAM',
          `window must be from ${this.minWindowMillis / 1000} s (${THRESHOLDS.min_buckets + 1} buckets of ` +
            `${this.#o.bucketMillis / 1000} s) to ${this.#o.windowMillis / 1000} s (GOVERNOR_IMPACT_WINDOW_MILLIS), got ${windowMillis / 1000} s`,
        )
      }
      const around = await this.#o.changeLog.list({
        kind: DEPLOY_KIND,
        service: deploy.service,
        environment: deploy.environment,
        from: deploy.time - windowMillis,
        to: deploy.timeEnd + windowMillis,
        limit: 1000,
      })
      const report = await this.analyse(deploy, impactWindows(deploy, around, windowMillis), now, { provisional: true })
      return { ...report, analysis_id: null }
    }
    const stored = await this.stored(deploy.id)
    if (stored !== undefined) return stored
    const windows = await this.windowsFor(deploy)
    const report = await this.analyse(deploy, windows, now)
    return report.provisional ? { ...report, analysis_id: null } : this.store(deploy, report, windows)
  }

  /** Stores a final report as an `analysis` event; a deploy's first stored report wins. */
  async store(deploy: ChangeEvent, report: ImpactReport, windows: ImpactWindows): Promise<ImpactAnswer> {
    if (report.provisional) throw new Error('a provisional impact report is not stored')
    const { event } = await this.#o.changeLog.append(analysisEvent(deploy, report, windows))
    return { ...(event.data as unknown as ImpactReport), analysis_id: event.id }
  }

  /**
   * Analyses a deploy as of `now`. Before the window after it has passed the report is
   * provisional: that window is cut at `now`. A signal that cannot be evaluated (too many
   * points, histograms with no common bounds) gets `not_enough_data` with the reason; a
   * store failure rejects.
   */
  async analyse(
    deploy: ChangeEvent,
    windows: ImpactWindows,
    now: number,
    options: { provisional?: boolean } = {},
  ): Promise<ImpactReport> {
    const provisional = options.provisional === true || now < windows.after.to
    const w = provisional ? cutAt(windows, now) : windows
    const signals = await resolveSignals(this.#queries, deploy)
    const reads = new Map<string, Promise<PointRows>>()
    const metrics: MetricImpact[] = []
    for (const s of signals) metrics.push(await this.#signal(s, w, reads))
    const plan = (deploy.data.plan ?? null) as DeployPlan | null
    return {
      deploy_id: deploy.id,
      service: deploy.service,
      environment: deploy.environment,
      version: deploy.version,
      provisional,
      analysed_at: iso(now),
      window: windowJson(w),
      bucket_seconds: this.#o.bucketMillis / 1000,
      thresholds: { ...THRESHOLDS },
      verdict: overallVerdict(metrics),
      summary: summarise(deploy, metrics),
      metrics,
      hints: hintsFor(plan, metrics),
    }
  }

  async #signal(s: ResolvedSignal, w: ImpactWindows, reads: Map<string, Promise<PointRows>>): Promise<MetricImpact> {
    if (s.series.length === 0) {
      return { ...judge(s.spec, [], [], undefined), note: `no series of ${s.spec.metric} for this service` }
    }
    const step = this.#o.bucketMillis
    try {
      const rows = await this.#read(s.spec.metric, s.series, w, reads)
      const points = bucketValues(s, rows, { from: w.before.from, to: w.after.to }, step)
      const before = completeBuckets(points, w.before, step)
      const after = completeBuckets(points, w.after, step)
      let test: UTest | undefined
      if (before.length >= THRESHOLDS.min_buckets && after.length >= THRESHOLDS.min_buckets) {
        // Exact for small samples (where the normal approximation cannot reach the threshold).
        test = exactMannWhitney(before, after) ?? (await this.#o.rankTest(before, after))
      }
      return judge(s.spec, before, after, test)
    } catch (err) {
      if (!isGovernorError(err) || err.code === 'GOV_ERR_STORE_UNAVAILABLE') throw err
      return { ...judge(s.spec, [], [], undefined), note: err.message }
    }
  }

  /** Raw points of the series over both windows; signals over the same series share one read. */
  #read(
    metric: string,
    series: SeriesRow[],
    w: ImpactWindows,
    reads: Map<string, Promise<PointRows>>,
  ): Promise<PointRows> {
    const ids = series.map((s) => s.id)
    const key = ids.join(',')
    let p = reads.get(key)
    if (p === undefined) {
      const { table, columns } = TABLE_OF[series[0]!.type]
      const max = this.#o.maxQueryPoints
      p = this.#queries.points(table, columns, ids, w.before.from, w.after.to, max).then((rows) => {
        if (rows.ts.length > max) {
          throw new GovernorError(
            'GOV_ERR_QUERY_TOO_LARGE',
            `${metric}: more than ${max} points in the windows (GOVERNOR_MAX_QUERY_POINTS)`,
          )
        }
        return rows
      })
      reads.set(key, p)
    }
    return p
  }
}
