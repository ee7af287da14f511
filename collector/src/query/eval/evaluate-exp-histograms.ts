import { evaluateDistribution, leQuantile } from './evaluate-distribution.ts'
import { expLayout } from './exp-layout.ts'
import { assertAggApplies } from './parse-agg.ts'
import type { EvalOptions, ExpHistogramSeries, StepPoint } from './types.ts'

/**
 * Evaluates one group of exponential histogram series on step buckets.
 *
 * Quantiles turn every bucket edge into an `le` bound (see `expLayout`: common scale, zero
 * and negative buckets included) and then go exactly the way of `evaluateHistograms`:
 * per-bound increase over the step, summed over the group, linear interpolation by
 * `bucketQuantile`. `count`, `sum`, `avg`, `rate`: see `evaluateDistribution`.
 *
 * @throws GovernorError `GOV_ERR_QUERY_AGG_TYPE` when the agg does not apply to histograms or
 *   the zero thresholds in a step differ.
 */
export function evaluateExpHistograms(group: ReadonlyArray<ExpHistogramSeries>, opts: EvalOptions): StepPoint[] {
  assertAggApplies(opts.agg, 'exponential_histogram')
  const cumulative = opts.temporality !== 'delta'
  return evaluateDistribution(group, opts, (w, q) =>
    leQuantile(expLayout(group, w.runs), group, w, q, opts.stepMs, cumulative),
  )
}
