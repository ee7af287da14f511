import { evaluateDistribution, leQuantile } from './evaluate-distribution.ts'
import { explicitLayout } from './explicit-layout.ts'
import { assertAggApplies } from './parse-agg.ts'
import type { EvalOptions, HistogramSeries, StepPoint } from './types.ts'

/**
 * Evaluates one group of explicit-bucket histogram series on step buckets.
 *
 * Quantiles (`pNN`) are Prometheus' `histogram_quantile(q, sum by (le) (increase(x_bucket[step])))`:
 * each point is read as cumulative `le` counters at the bounds all points of the step share
 * (see `explicitLayout`); each counter's increase over the step is taken per series —
 * extrapolated and reset-corrected like any counter when cumulative, the sum of the deltas
 * when delta (see `stepIncrease`) — summed over the group, and fed to `bucketQuantile`.
 * So a quantile describes the observations made during the step, not since the start.
 *
 * `count`, `sum`, `avg`, `rate`: see `evaluateDistribution`.
 *
 * @throws GovernorError `GOV_ERR_QUERY_AGG_TYPE` when the agg does not apply to histograms or
 *   the group's bounds share nothing.
 */
export function evaluateHistograms(group: ReadonlyArray<HistogramSeries>, opts: EvalOptions): StepPoint[] {
  assertAggApplies(opts.agg, 'histogram')
  const cumulative = opts.temporality !== 'delta'
  return evaluateDistribution(group, opts, (w, q) =>
    leQuantile(explicitLayout(group, w.runs), group, w, q, opts.stepMs, cumulative),
  )
}
