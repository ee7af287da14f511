import { GovernorError } from '../../errors.ts'
import { evaluateDistribution } from './evaluate-distribution.ts'
import { assertAggApplies, quantileAggName } from './parse-agg.ts'
import type { EvalOptions, StepPoint, SummarySeries } from './types.ts'

// A stored quantile matches the requested one when they differ by at most this.
const QUANTILE_TOLERANCE = 1e-9

/**
 * Evaluates one group of summary series on step buckets.
 *
 * `pNN`: the stored value of that quantile at the last point of each bucket. Quantiles
 * computed by different processes cannot be combined, so a quantile needs a group with at
 * most one series that has points in the queried buckets. `count`, `sum`, `avg`, `rate`:
 * from the count and sum fields, see `evaluateDistribution` (summaries are cumulative in
 * OTLP; a `delta` temporality is honoured all the same).
 *
 * @throws GovernorError `GOV_ERR_QUERY_AGG_TYPE` when the agg does not apply to summaries,
 *   when the quantile is not stored (the message lists those that are), or when a quantile
 *   is asked of a group of several series.
 */
export function evaluateSummaries(group: ReadonlyArray<SummarySeries>, opts: EvalOptions): StepPoint[] {
  const { agg } = opts
  assertAggApplies(agg, 'summary')
  let seriesSeen: number | undefined
  return evaluateDistribution(group, opts, (w, q) => {
    for (const r of w.runs) {
      if (seriesSeen !== undefined && seriesSeen !== r.series) {
        throw new GovernorError(
          'GOV_ERR_QUERY_AGG_TYPE',
          `agg ${JSON.stringify(agg.name)}: summary quantiles of several series cannot be combined; ` +
            'group by more attributes so that each group holds one series, or use count, sum, avg or rate',
        )
      }
      seriesSeen = r.series
    }
    const run = w.runs[0]
    if (run === undefined) return Number.NaN
    const s = group[run.series] as SummarySeries
    const last = run.hi - 1
    const quantiles = s.quantiles[last] ?? []
    for (let k = 0; k < quantiles.length; k++) {
      if (Math.abs((quantiles[k] as number) - q) <= QUANTILE_TOLERANCE) return s.values[last]?.[k] ?? Number.NaN
    }
    const stored = Array.from(quantiles, quantileAggName)
    throw new GovernorError(
      'GOV_ERR_QUERY_AGG_TYPE',
      `agg ${JSON.stringify(agg.name)}: this summary does not store quantile ${q}; ` +
        (stored.length > 0 ? `stored: ${stored.join(', ')}` : 'it stores no quantiles'),
    )
  })
}
