import { isGovernorError } from '../errors.ts'
import { leQuantile } from '../query/eval/evaluate-distribution.ts'
import { explicitLayout } from '../query/eval/explicit-layout.ts'
import type { HistogramSeries } from '../query/eval/types.ts'
import { sliceBySeries } from '../query/groups.ts'
import { toNumber, type StoreQueries } from '../store/queries.ts'
import type { SliReads } from '../store/sli-reads.ts'
import { burnRate } from '../slo/burn-windows.ts'
import { allowedBadRatio, type SloDefinition } from '../slo/definition.ts'
import { countQuery, resolveSli, SliUnreadableError, type SliSeries } from '../slo/sli-series.ts'

/** What the runner reads for one tick: the SLI over the short window, or why there is none. */
export type SliReading =
  | { ok: true; sli: number; target: number; burnRate: number | undefined; newestAt: number; text: string }
  | { ok: false; why: 'no_data' | 'stale' | 'unreadable'; text: string }

/** Newest points are looked for this far back, so that "stale" can be told from "never sent". */
const NEWEST_LOOKBACK_MILLIS = 86_400_000

/**
 * Reads a controller's observation from the store, over the short window `(now − window, now]`:
 *
 * - latency: the SLI's percentile of the histogram's increase over the window, in ms — the
 *   query API's own `histogram_quantile` (`explicitLayout` + `leQuantile`) over one bucket
 *   as long as the window; the target is the SLO's `threshold_ms`;
 * - error_ratio: bad / total events over the window (as the SLO counts them); the target is
 *   the share the objective allows (0.001 for 99.9 %);
 * - gauge_max: the gauge's last value in the window (the highest, over several series);
 *   the target is the SLO's `max`.
 *
 * Every kind also gets the SLO's burn rate over the window. No series, no point in the last
 * day, or no event in the window is `no_data`; a newest point older than `staleMillis` is
 * `stale`; a metric of a type the SLI does not read is `unreadable`. Store errors throw.
 */
export class SliObserver {
  readonly #reads: SliReads
  readonly #queries: StoreQueries
  readonly #maxPoints: number

  constructor(reads: SliReads, queries: StoreQueries, maxPoints: number) {
    this.#reads = reads
    this.#queries = queries
    this.#maxPoints = maxPoints
  }

  async read(
    service: string,
    slo: SloDefinition,
    now: number,
    windowMillis: number,
    staleMillis: number,
  ): Promise<SliReading> {
    let series: SliSeries
    try {
      series = await resolveSli(this.#queries, service, slo.sli)
    } catch (err) {
      if (err instanceof SliUnreadableError) return { ok: false, why: 'unreadable', text: err.message }
      throw err
    }
    const metric = slo.sli.metric
    if (series.all.length === 0) return { ok: false, why: 'no_data', text: `no data: ${service} has sent no ${metric}` }
    const newest = await this.#newest(series, now)
    if (newest === undefined)
      return { ok: false, why: 'no_data', text: `no data: no point of ${metric} in the last 24 h` }
    if (now - newest > staleMillis) {
      return {
        ok: false,
        why: 'stale',
        text: `stale data: the newest point of ${metric} is ${seconds(now - newest)} old (more than ${seconds(staleMillis)})`,
      }
    }
    const [counts = { bad: 0, total: 0 }] = await this.#reads.countEvents(countQuery(series, now, [windowMillis]))
    const burn = burnRate(counts, allowedBadRatio(slo))
    const span = `over the last ${seconds(windowMillis)}`
    const sli = slo.sli
    switch (sli.type) {
      case 'latency': {
        let p: number | undefined
        try {
          p = await this.#percentile(series, sli.percentile / 100, now, windowMillis)
        } catch (err) {
          // Series whose bucket bounds share nothing: no percentile can be read from them.
          if (isGovernorError(err) && err.code === 'GOV_ERR_QUERY_AGG_TYPE')
            return { ok: false, why: 'unreadable', text: `${metric}: ${err.message}` }
          throw err
        }
        if (p === undefined) return { ok: false, why: 'no_data', text: `no data: no observation of ${metric} ${span}` }
        return {
          ok: true,
          sli: p,
          target: sli.threshold_ms,
          burnRate: burn,
          newestAt: newest,
          text: `p${sli.percentile} of ${metric} ${round(p)} ms ${span}, target ${sli.threshold_ms} ms${burnText(burn)}`,
        }
      }
      case 'error_ratio': {
        if (counts.total <= 0) return { ok: false, why: 'no_data', text: `no data: ${metric} did not grow ${span}` }
        const ratio = counts.bad / counts.total
        const target = allowedBadRatio(slo)
        return {
          ok: true,
          sli: ratio,
          target,
          burnRate: burn,
          newestAt: newest,
          text: `error ratio of ${metric} ${round(ratio)} ${span}, target ${round(target)}${burnText(burn)}`,
        }
      }
      case 'gauge_max': {
        const last = await this.#lastValue(series, now, windowMillis)
        if (last === undefined) return { ok: false, why: 'no_data', text: `no data: no sample of ${metric} ${span}` }
        return {
          ok: true,
          sli: last,
          target: sli.max,
          burnRate: burn,
          newestAt: newest,
          text: `${metric} ${round(last)} (last sample), max ${sli.max}${burnText(burn)}`,
        }
      }
    }
  }

  #newest(s: SliSeries, now: number): Promise<number | undefined> {
    return this.#reads.newest(
      s.table,
      s.all.map((x) => x.id),
      now - NEWEST_LOOKBACK_MILLIS,
      now,
    )
  }

  /**
   * The `q` quantile, in ms, of the observations made in `[now − window, now)`: the increase of
   * each `le` counter over the window, summed over the series, then interpolated.
   */
  async #percentile(s: SliSeries, q: number, now: number, windowMillis: number): Promise<number | undefined> {
    const from = now - windowMillis
    const rows = await this.#queries.points(
      'histograms',
      ['count', 'sum', 'bounds', 'counts'],
      s.all.map((x) => x.id),
      from,
      now,
      this.#maxPoints,
    )
    const group: HistogramSeries[] = []
    for (const { begin, end } of sliceBySeries(rows).values()) {
      const cut = (col: string) => rows.columns[col]!.slice(begin, end)
      group.push({
        ts: rows.ts.slice(begin, end),
        start: rows.start.slice(begin, end),
        count: cut('count').map(toNumber),
        sum: cut('sum').map(toNumber),
        bounds: cut('bounds').map((b) => (b as unknown[]).map(toNumber)),
        counts: cut('counts').map((c) => (c as unknown[]).map(toNumber)),
      })
    }
    if (group.length === 0) return undefined
    const runs = group.map((g, series) => ({ series, lo: 0, hi: g.ts.length }))
    const cumulative = s.all.every((x) => x.temporality !== 'delta')
    const v = leQuantile(explicitLayout(group, runs), group, { start: from, runs }, q, windowMillis, cumulative)
    return Number.isFinite(v) ? v * s.millisPerUnit : undefined
  }

  #lastValue(s: SliSeries, now: number, windowMillis: number): Promise<number | undefined> {
    return this.#reads.lastValue(
      s.all.map((x) => x.id),
      now - windowMillis,
      now,
    )
  }
}

function burnText(burn: number | undefined): string {
  return burn === undefined ? '' : `, burn rate ${round(burn)}`
}

function round(n: number): string {
  return String(Number(n.toPrecision(3)))
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`
}
