import { stepIncrease } from './step-increase.ts'
import type { StepRun } from './steps.ts'

/**
 * The bucket boundaries shared by all histogram points of one step bucket, in the form
 * Prometheus' classic histograms use: cumulative `le` counts, ascending bounds, +Inf last.
 *
 * Reading every point at the same boundaries turns each boundary into one counter series
 * (`x_bucket{le="…"}`), so a step's increase is the increase of each of those counters.
 */
export interface LeLayout {
  /** Ascending upper bounds; the last one is +Inf. */
  readonly upperBounds: ReadonlyArray<number>
  /** Writes the cumulative counts of point `point` of series `series` at `upperBounds` into `out`. */
  cumulative(series: number, point: number, out: Float64Array): void
}

/** Timestamps and start times of one series of a histogram-like group. */
export interface TimedSeries {
  ts: ArrayLike<number>
  start?: ArrayLike<number> | undefined
}

/**
 * The increase of every `le` counter over one step bucket, summed over the group's series:
 * `sum by (le) (increase(x_bucket[step]))`. Undefined when no series defines an increase.
 *
 * Each `le` counter goes through `stepIncrease` on its own, as Prometheus does for classic
 * histograms, so each gets its own reset correction and its own zero-clamped extrapolation.
 */
export function leIncrease(
  layout: LeLayout,
  group: ReadonlyArray<TimedSeries>,
  runs: ReadonlyArray<StepRun>,
  bucketStart: number,
  stepMs: number,
  cumulative: boolean,
): Float64Array | undefined {
  const width = layout.upperBounds.length
  const total = new Float64Array(width)
  let any = false
  for (const r of runs) {
    const s = group[r.series] as TimedSeries
    const n = r.hi - r.lo
    // Point-major matrix of cumulative counts; a column is one le counter. The run's
    // timestamps are copied once so that they and a column share indices 0…n−1.
    const matrix = new Float64Array(n * width)
    const row = new Float64Array(width)
    const ts = new Float64Array(n)
    const start = s.start === undefined ? undefined : new Float64Array(n)
    for (let p = 0; p < n; p++) {
      layout.cumulative(r.series, r.lo + p, row)
      matrix.set(row, p * width)
      ts[p] = s.ts[r.lo + p] as number
      if (start !== undefined) start[p] = s.start?.[r.lo + p] ?? 0
    }
    const column = new Float64Array(n)
    for (let j = 0; j < width; j++) {
      for (let p = 0; p < n; p++) column[p] = matrix[p * width + j] as number
      const inc = stepIncrease(ts, column, start, 0, n, bucketStart, stepMs, cumulative)
      if (Number.isNaN(inc)) continue
      total[j] = (total[j] as number) + inc
      any = true
    }
  }
  return any ? total : undefined
}
