import { GovernorError } from '../../errors.ts'
import type { LeLayout } from './le-layout.ts'
import type { StepRun } from './steps.ts'
import type { ExpBuckets, ExpHistogramSeries } from './types.ts'

/** Most buckets (both signs) a layout keeps before it is coarsened. */
const MAX_BUCKETS = 4096

/**
 * The common `le` layout of the exponential-histogram points in one step bucket.
 *
 * At scale s the base is 2^(2^−s); positive bucket i covers (base^i, base^(i+1)], negative
 * bucket i covers [−base^(i+1), −base^i), and the zero bucket covers [−zt, zt]. All points
 * are first brought to the lowest scale among them — exact, since at scale s−1 bucket i is
 * buckets 2i and 2i+1 of scale s, so index i becomes ⌊i / 2^(s − min)⌋. Then every bucket
 * edge becomes an `le` bound, from the most negative to the most positive:
 *
 *   −base^(nHi+1)  −base^nHi … −base^nLo   −zt    zt    base^pLo  base^(pLo+1) … base^(pHi+1)  +Inf
 *        0         (negative buckets)      gap  (zero)    gap     (positive buckets)
 *
 * The leading bound (count 0) and the two gap bounds (no new count) pin the true lower edge
 * of the outermost negative bucket, of the zero bucket and of the lowest positive bucket, so
 * linear interpolation inside them does not start from a neighbour's edge. As in
 * Prometheus, the zero bucket starts at 0 when there are no negative buckets (the lowest-
 * bucket rule of `bucketQuantile`) and ends at 0 when there are no positive buckets.
 * A layout wider than 4096 buckets is coarsened one scale at a time until it fits.
 *
 * @throws GovernorError `GOV_ERR_QUERY_AGG_TYPE` when the points have different zero
 *   thresholds: a zero bucket cannot be split, so their buckets do not line up.
 */
export function expLayout(group: ReadonlyArray<ExpHistogramSeries>, runs: ReadonlyArray<StepRun>): LeLayout {
  let scale = Number.POSITIVE_INFINITY
  let zt: number | undefined
  for (const r of runs) {
    const s = group[r.series] as ExpHistogramSeries
    for (let p = r.lo; p < r.hi; p++) {
      scale = Math.min(scale, s.scale[p] as number)
      const z = s.zeroThreshold[p] as number
      if (zt === undefined) zt = z
      else if (z !== zt) {
        throw new GovernorError(
          'GOV_ERR_QUERY_AGG_TYPE',
          `quantile: the exponential histograms in this step have different zero thresholds (${zt} and ${z}); query the series separately`,
        )
      }
    }
  }
  const zero = zt ?? 0
  const pos = { lo: Number.POSITIVE_INFINITY, hi: Number.NEGATIVE_INFINITY }
  const neg = { lo: Number.POSITIVE_INFINITY, hi: Number.NEGATIVE_INFINITY }
  for (const r of runs) {
    const s = group[r.series] as ExpHistogramSeries
    for (let p = r.lo; p < r.hi; p++) {
      const f = 2 ** ((s.scale[p] as number) - scale)
      widen(pos, s.positive[p], f)
      widen(neg, s.negative[p], f)
    }
  }
  const hasPos = pos.lo <= pos.hi
  const hasNeg = neg.lo <= neg.hi
  // Series far apart at a fine scale would need millions of bounds between them: coarsen
  // (exactly, one scale at a time) until the layout is of a size OTel SDKs would use.
  while ((hasPos ? pos.hi - pos.lo + 1 : 0) + (hasNeg ? neg.hi - neg.lo + 1 : 0) > MAX_BUCKETS) {
    scale -= 1
    for (const range of [pos, neg]) {
      range.lo = Math.floor(range.lo / 2)
      range.hi = Math.floor(range.hi / 2)
    }
  }
  const bound = (i: number): number => 2 ** (i * 2 ** -scale)

  const upperBounds: number[] = []
  if (hasNeg) {
    upperBounds.push(-bound(neg.hi + 1))
    for (let i = neg.hi; i >= neg.lo; i--) upperBounds.push(-bound(i))
  }
  const gapBelowZero = hasNeg && zero > 0 && zero < bound(neg.lo)
  if (gapBelowZero) upperBounds.push(-zero)
  const zeroTop = hasNeg && !hasPos ? 0 : zero
  upperBounds.push(zeroTop)
  const gapAboveZero = hasPos && bound(pos.lo) > zeroTop
  if (hasPos) {
    if (gapAboveZero) upperBounds.push(bound(pos.lo))
    for (let i = pos.lo; i <= pos.hi; i++) upperBounds.push(bound(i + 1))
  }
  upperBounds.push(Number.POSITIVE_INFINITY)

  return {
    upperBounds,
    cumulative(series, point, out) {
      const s = group[series] as ExpHistogramSeries
      const f = 2 ** ((s.scale[point] as number) - scale)
      const negCounts = hasNeg ? dense(s.negative[point], f, neg.lo, neg.hi) : undefined
      const posCounts = hasPos ? dense(s.positive[point], f, pos.lo, pos.hi) : undefined
      // Same order as upperBounds above.
      let cum = 0
      let j = 0
      if (negCounts !== undefined) {
        out[j++] = 0
        for (let i = negCounts.length - 1; i >= 0; i--) out[j++] = cum += negCounts[i] as number
      }
      if (gapBelowZero) out[j++] = cum
      out[j++] = cum += s.zeroCount[point] as number
      if (posCounts !== undefined) {
        if (gapAboveZero) out[j++] = cum
        for (let i = 0; i < posCounts.length; i++) out[j++] = cum += posCounts[i] as number
      }
      out[j] = cum
    },
  }
}

/** Extends `range` by the indices of `b` once brought down by factor `f` (= 2^scale drop). */
function widen(range: { lo: number; hi: number }, b: ExpBuckets | undefined, f: number): void {
  if (b === undefined || b.counts.length === 0) return
  range.lo = Math.min(range.lo, Math.floor(b.offset / f))
  range.hi = Math.max(range.hi, Math.floor((b.offset + b.counts.length - 1) / f))
}

/** The counts of `b` brought down by factor `f`, laid out densely over indices lo…hi. */
function dense(b: ExpBuckets | undefined, f: number, lo: number, hi: number): Float64Array {
  const out = new Float64Array(hi - lo + 1)
  if (b === undefined) return out
  for (let k = 0; k < b.counts.length; k++) {
    const i = Math.floor((b.offset + k) / f) - lo
    out[i] = (out[i] as number) + (b.counts[k] as number)
  }
  return out
}
