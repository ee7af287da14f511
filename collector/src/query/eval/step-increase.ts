import { extrapolatedRate } from './extrapolated-rate.ts'

/**
 * How much a series grew inside one step bucket `[b, b + step)`; NaN when that is undefined.
 *
 * Delta points each carry their own growth, so the bucket's increase is the sum of the deltas
 * whose timestamp falls in the bucket.
 *
 * Cumulative points go through `extrapolatedRate` with the range `(b − 1ms, b + step − 1ms]`.
 * With integer-millisecond timestamps that range holds exactly the points of `[b, b + step)`
 * — the same points every other aggregation sees in that bucket — and the result equals
 * Prometheus' `increase(x[<step>ms])` evaluated at `b + step − 1ms`. Consequences, all as in
 * Prometheus: a bucket needs two points (or one whose start time lies inside the bucket), and
 * the growth between the last point of one bucket and the first of the next is only
 * accounted for by extrapolation.
 *
 * @param lo first point of the bucket in the series' arrays; `hi` is one past the last.
 * @param isCounter counter semantics (reset correction, no extrapolation below zero); false
 *   for non-monotonic sums.
 */
export function stepIncrease(
  ts: ArrayLike<number>,
  value: ArrayLike<number>,
  start: ArrayLike<number> | undefined,
  lo: number,
  hi: number,
  bucketStart: number,
  stepMs: number,
  cumulative: boolean,
  isCounter = true,
): number {
  if (!cumulative) {
    let total = 0
    for (let i = lo; i < hi; i++) total += value[i] as number
    return hi > lo ? total : Number.NaN
  }
  return extrapolatedRate({
    ts,
    value,
    start,
    lo,
    hi,
    rangeStartMs: bucketStart - 1,
    rangeEndMs: bucketStart + stepMs - 1,
    isCounter,
    isRate: false,
  })
}
