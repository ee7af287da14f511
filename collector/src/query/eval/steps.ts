import { GovernorError } from '../../errors.ts'

/** The points `[lo, hi)` of series number `series` that fall into one step bucket. */
export interface StepRun {
  series: number
  lo: number
  hi: number
}

/** One step bucket that holds data: its start and, per series that has points in it, the run. */
export interface StepWindow {
  /** Bucket start, a multiple of the step: the bucket covers `[start, start + step)`. */
  start: number
  /** Runs in series order; series without points in the bucket are absent. */
  runs: StepRun[]
}

/** The largest multiple of `stepMs` at or below `ts`. */
export function alignDown(ts: number, stepMs: number): number {
  return Math.floor(ts / stepMs) * stepMs
}

/**
 * Cuts time-sorted series into step buckets.
 *
 *      alignDown(from)                                  to (exclusive)
 *      |  bucket b0   |  bucket b1   |  …   |  bucket bn |
 *      [b0, b0+step)  [b1, b1+step)          [bn, bn+step)   with bn < to
 *
 * A bucket is evaluated whole even when `from` or `to` cuts through it: the value of a bucket
 * then depends only on the bucket, so the same bucket reads the same in every query. To get
 * complete first and last buckets the caller fetches `[alignDown(from), alignDown(to - 1) +
 * step)`; points outside the buckets are ignored. Only buckets with at least one point in
 * some series are returned, in time order.
 *
 * @throws GovernorError `GOV_ERR_QUERY_PARAM` when `stepMs` is not a positive integer.
 */
export function stepWindows(
  series: ReadonlyArray<ArrayLike<number>>,
  from: number,
  to: number,
  stepMs: number,
): StepWindow[] {
  if (!Number.isSafeInteger(stepMs) || stepMs <= 0) {
    throw new GovernorError(
      'GOV_ERR_QUERY_PARAM',
      `step: must be a positive whole number of milliseconds, got ${stepMs}`,
    )
  }
  const first = alignDown(from, stepMs)
  // Buckets b with b < to, i.e. up to the first multiple of the step at or above `to`.
  const end = Math.ceil(to / stepMs) * stepMs
  const byStart = new Map<number, StepRun[]>()
  for (let s = 0; s < series.length; s++) {
    const ts = series[s]
    if (ts === undefined) continue
    let i = lowerBound(ts, first)
    // Points are sorted, so each bucket's points are one contiguous run.
    while (i < ts.length) {
      const t = ts[i] as number
      if (t >= end) break
      const b = alignDown(t, stepMs)
      const lo = i
      while (i < ts.length && (ts[i] as number) < b + stepMs) i++
      const runs = byStart.get(b)
      if (runs === undefined) byStart.set(b, [{ series: s, lo, hi: i }])
      else runs.push({ series: s, lo, hi: i })
    }
  }
  return [...byStart.entries()].sort((a, b) => a[0] - b[0]).map(([start, runs]) => ({ start, runs }))
}

/** Index of the first element ≥ `x` in an ascending array. */
function lowerBound(a: ArrayLike<number>, x: number): number {
  let lo = 0
  let hi = a.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((a[mid] as number) < x) lo = mid + 1
    else hi = mid
  }
  return lo
}
