import { assertAggApplies } from './parse-agg.ts'
import { stepIncrease } from './step-increase.ts'
import { stepWindows } from './steps.ts'
import type { EvalOptions, NumberSeries, StepPoint } from './types.ts'

/**
 * Evaluates one group of gauge or sum series on step buckets (see `stepWindows` for the
 * buckets and `stepIncrease` for the window of `rate`/`increase`).
 *
 * - `avg`, `min`, `max`, `sum`, `count`: over the raw points of all the group's series in the
 *   bucket, pooled.
 * - `last`: each series' last value in the bucket, summed over the group's series.
 * - `increase`: per series, then summed. Cumulative sums use Prometheus' extrapolated
 *   increase with counter-reset correction (value drops and start-time resets); delta sums
 *   add up their deltas. `rate` is the increase per second of step.
 *
 * Buckets without a finite value are left out.
 *
 * @throws GovernorError `GOV_ERR_QUERY_AGG_TYPE` for `rate`, `increase` or a quantile of a
 *   gauge, or a quantile of a sum.
 */
export function evaluateNumbers(group: ReadonlyArray<NumberSeries>, opts: EvalOptions): StepPoint[] {
  if (opts.type !== 'gauge' && opts.type !== 'sum') {
    throw new Error(`evaluateNumbers: type ${opts.type} is not a number type`)
  }
  assertAggApplies(opts.agg, opts.type)
  const { agg, stepMs } = opts
  const windows = stepWindows(
    group.map((s) => s.ts),
    opts.from,
    opts.to,
    stepMs,
  )
  const cumulative = opts.temporality !== 'delta'
  const isCounter = opts.monotonic !== false
  const out: StepPoint[] = []

  for (const w of windows) {
    let v = Number.NaN
    switch (agg.kind) {
      case 'avg':
      case 'min':
      case 'max':
      case 'sum':
      case 'count': {
        let sum = 0
        let count = 0
        let min = Number.POSITIVE_INFINITY
        let max = Number.NEGATIVE_INFINITY
        for (const r of w.runs) {
          const values = (group[r.series] as NumberSeries).value
          for (let i = r.lo; i < r.hi; i++) {
            const x = values[i] as number
            sum += x
            count++
            if (x < min) min = x
            if (x > max) max = x
          }
        }
        v =
          agg.kind === 'avg'
            ? sum / count
            : agg.kind === 'min'
              ? min
              : agg.kind === 'max'
                ? max
                : agg.kind === 'sum'
                  ? sum
                  : count
        break
      }
      case 'last': {
        v = 0
        for (const r of w.runs) v += (group[r.series] as NumberSeries).value[r.hi - 1] as number
        break
      }
      case 'increase':
      case 'rate': {
        // Per series, then summed; a series whose window defines no increase adds nothing.
        let total = 0
        let any = false
        for (const r of w.runs) {
          const s = group[r.series] as NumberSeries
          const inc = stepIncrease(s.ts, s.value, s.start, r.lo, r.hi, w.start, stepMs, cumulative, isCounter)
          if (Number.isNaN(inc)) continue
          total += inc
          any = true
        }
        if (any) v = agg.kind === 'rate' ? total / (stepMs / 1000) : total
        break
      }
      case 'quantile':
        break // assertAggApplies rejected it above.
    }
    if (Number.isFinite(v)) out.push([w.start, v])
  }
  return out
}
