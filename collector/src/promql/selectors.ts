/**
 * Selectors over raw series, one series at a time with index cursors that only move
 * forward as the steps advance (no per-step search, no per-point objects).
 *
 * Instant selector at step time t (offset o): the latest point in [t - o - lookback, t - o],
 * absent when that point is a stale marker (Prometheus 2.x, both ends closed).
 *
 *   points   ●      ●    ●   ✕(stale)        ●
 *   window      [----lookback----t]           → the last ● before t, if no ✕ after it
 */
import type { RawSeries } from './querier.ts'
import type { RangeSeries, Row } from './step-vector.ts'
import { newRow } from './step-vector.ts'

/**
 * The row of one series at reference times `refs` (ascending): value of the latest point
 * within the lookback, or with `asTimestamp` its time in seconds (for `timestamp()`).
 */
export function instantRow(s: RawSeries, refs: Float64Array, lookback: number, asTimestamp: boolean): Row {
  const n = refs.length
  const row = newRow(s.labels, n)
  const ts = s.ts
  const vs = s.values
  const stale = s.stale
  const len = ts.length
  let j = 0 // first point after the current reference time
  for (let k = 0; k < n; k++) {
    const ref = refs[k]!
    while (j < len && ts[j]! <= ref) j++
    const i = j - 1
    if (i < 0 || ts[i]! < ref - lookback) continue
    if (stale !== undefined && stale[i] === 1) continue
    row.present[k] = 1
    row.values[k] = asTimestamp ? ts[i]! / 1000 : vs[i]!
  }
  return row
}

/** The points of a raw series without its stale markers (they are no samples in a range). */
export function withoutStale(s: RawSeries): RangeSeries {
  const stale = s.stale
  if (stale === undefined || stale.indexOf(1) < 0) return { labels: s.labels, ts: s.ts, values: s.values }
  let kept = 0
  for (let i = 0; i < stale.length; i++) if (stale[i] !== 1) kept++
  const ts = new Float64Array(kept)
  const values = new Float64Array(kept)
  let w = 0
  for (let i = 0; i < stale.length; i++) {
    if (stale[i] === 1) continue
    ts[w] = s.ts[i]!
    values[w] = s.values[i]!
    w++
  }
  return { labels: s.labels, ts, values }
}

/** The points of an instant-vector row as a range series at the grid's times (for subqueries). */
export function rowToRangeSeries(r: Row, start: number, step: number): RangeSeries {
  let count = 0
  for (let k = 0; k < r.present.length; k++) count += r.present[k]!
  const ts = new Float64Array(count)
  const values = new Float64Array(count)
  let w = 0
  for (let k = 0; k < r.present.length; k++) {
    if (r.present[k] !== 1) continue
    ts[w] = start + k * step
    values[w] = r.values[k]!
    w++
  }
  return { labels: r.labels, ts, values }
}
