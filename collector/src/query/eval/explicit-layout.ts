import { GovernorError } from '../../errors.ts'
import type { LeLayout } from './le-layout.ts'
import type { StepRun } from './steps.ts'
import type { HistogramSeries } from './types.ts'

/**
 * The common `le` layout of the explicit-histogram points in one step bucket.
 *
 * When every point has the same bounds (the usual case) those are the layout. When bounds
 * differ — between the group's series, or within one series whose SDK was reconfigured —
 * the layout keeps only the bounds every point has, as Prometheus does when it reconciles
 * custom-bucket histograms. The cumulative count at a shared bound is exact for every
 * point, so nothing is estimated; the price is coarser buckets:
 *
 *   series A  bounds 0.1  0.5  1          A read at 0.5, 1: cum(≤0.5), cum(≤1), total
 *   series B  bounds      0.5  1  5       B read at 0.5, 1: cum(≤0.5), cum(≤1), total
 *   layout                0.5  1  +Inf
 *
 * @throws GovernorError `GOV_ERR_QUERY_AGG_TYPE` when the points share no finite bound, so no
 *   quantile can be told apart from "somewhere below +Inf".
 */
export function explicitLayout(group: ReadonlyArray<HistogramSeries>, runs: ReadonlyArray<StepRun>): LeLayout {
  let common: number[] | undefined
  let differ = false
  for (const r of runs) {
    const s = group[r.series] as HistogramSeries
    for (let p = r.lo; p < r.hi; p++) {
      const bounds = s.bounds[p] ?? []
      if (common === undefined) common = Array.from(bounds)
      else if (!sameBounds(common, bounds)) {
        differ = true
        common = intersect(common, bounds)
      }
    }
  }
  const finite = common ?? []
  if (differ && finite.length === 0) {
    throw new GovernorError(
      'GOV_ERR_QUERY_AGG_TYPE',
      'quantile: the histograms in this group have no bucket bound in common; group them by an attribute that separates their bucket layouts',
    )
  }
  const upperBounds = [...finite, Number.POSITIVE_INFINITY]
  return {
    upperBounds,
    cumulative(series, point, out) {
      const s = group[series] as HistogramSeries
      const bounds = s.bounds[point] ?? []
      const counts = s.counts[point] ?? []
      // Walk the point's buckets once; every layout bound is one of the point's bounds.
      let cum = 0
      let k = 0
      for (let j = 0; j < finite.length; j++) {
        const le = finite[j] as number
        while (k < bounds.length && (bounds[k] as number) <= le) cum += counts[k++] ?? 0
        out[j] = cum
      }
      for (; k < counts.length; k++) cum += counts[k] ?? 0
      out[finite.length] = cum
    },
  }
}

function sameBounds(a: ReadonlyArray<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function intersect(a: ReadonlyArray<number>, b: ArrayLike<number>): number[] {
  const out: number[] = []
  let j = 0
  for (const x of a) {
    while (j < b.length && (b[j] as number) < x) j++
    if (j < b.length && b[j] === x) out.push(x)
  }
  return out
}
