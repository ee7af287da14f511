import { bucketQuantile, type LeBucket } from './bucket-quantile.ts'
import { leIncrease, type LeLayout } from './le-layout.ts'
import { stepIncrease } from './step-increase.ts'
import { stepWindows, type StepRun, type StepWindow } from './steps.ts'
import type { EvalOptions, StepPoint } from './types.ts'

/** The columns every histogram-like series has: timestamps, start times, count and sum. */
export interface DistributionSeries {
  ts: ArrayLike<number>
  start?: ArrayLike<number> | undefined
  count: ArrayLike<number>
  sum: ArrayLike<number>
}

/**
 * Computes the value of one quantile agg in one step bucket, NaN when there is none. Called
 * only for `agg.kind === 'quantile'`.
 */
export type StepQuantile = (window: StepWindow, q: number) => number

/**
 * The shared step loop of histograms, exponential histograms and summaries.
 *
 * `count`, `sum`: the increase of the count and sum fields over the step, per series (see
 * `stepIncrease`), summed over the group. `avg`: sum increase / count increase of the group.
 * `rate`: count increase per second of step. Quantiles are delegated to `quantileOf`.
 * Buckets without a finite value are left out. The caller has checked the agg applies.
 */
export function evaluateDistribution(
  group: ReadonlyArray<DistributionSeries>,
  opts: EvalOptions,
  quantileOf: StepQuantile,
): StepPoint[] {
  const { agg, stepMs } = opts
  const cumulative = opts.temporality !== 'delta'
  const windows = stepWindows(
    group.map((s) => s.ts),
    opts.from,
    opts.to,
    stepMs,
  )
  const increase = (w: StepWindow, field: 'count' | 'sum'): number =>
    groupIncrease(group, w.runs, field, w.start, stepMs, cumulative)
  const out: StepPoint[] = []
  for (const w of windows) {
    let v: number
    switch (agg.kind) {
      case 'quantile':
        v = quantileOf(w, agg.q)
        break
      case 'count':
        v = increase(w, 'count')
        break
      case 'sum':
        v = increase(w, 'sum')
        break
      case 'avg':
        v = increase(w, 'sum') / increase(w, 'count')
        break
      case 'rate':
        v = increase(w, 'count') / (stepMs / 1000)
        break
      default:
        v = Number.NaN
    }
    if (Number.isFinite(v)) out.push([w.start, v])
  }
  return out
}

/**
 * `histogram_quantile(q, sum by (le) (increase(x_bucket[step])))` for one step bucket: the
 * increase of each `le` counter of `layout`, summed over the group, then `bucketQuantile`.
 */
export function leQuantile(
  layout: LeLayout,
  group: ReadonlyArray<DistributionSeries>,
  window: StepWindow,
  q: number,
  stepMs: number,
  cumulative: boolean,
): number {
  const inc = leIncrease(layout, group, window.runs, window.start, stepMs, cumulative)
  if (inc === undefined) return Number.NaN
  const buckets: LeBucket[] = layout.upperBounds.map((upperBound, j) => ({ upperBound, count: inc[j] as number }))
  return bucketQuantile(q, buckets)
}

function groupIncrease(
  group: ReadonlyArray<DistributionSeries>,
  runs: ReadonlyArray<StepRun>,
  field: 'count' | 'sum',
  bucketStart: number,
  stepMs: number,
  cumulative: boolean,
): number {
  let total = 0
  let any = false
  for (const r of runs) {
    const s = group[r.series] as DistributionSeries
    const inc = stepIncrease(s.ts, s[field], s.start, r.lo, r.hi, bucketStart, stepMs, cumulative)
    if (Number.isNaN(inc)) continue
    total += inc
    any = true
  }
  return any ? total : Number.NaN
}
