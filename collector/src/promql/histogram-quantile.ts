/**
 * histogram_quantile over classic `le` buckets, as Prometheus 2.x computes it: buckets of
 * one series (its labels but `le`) sorted by bound, equal bounds summed, counts forced
 * monotonic, the quantile interpolated linearly inside its bucket; NaN without a `+Inf`
 * bucket or with fewer than two buckets; the highest finite bound when it falls in +Inf.
 */
import type { Labels } from './querier.ts'
import { type Grid, type Row, newRow } from './step-vector.ts'
import { NAME } from './labels.ts'

/** Quantile `q` of one set of buckets (`bounds[i]` with cumulative `counts[i]`), not sorted yet. */
export function bucketQuantile(q: number, bounds: number[], counts: number[]): number {
  if (Number.isNaN(q)) return NaN
  if (q < 0) return -Infinity
  if (q > 1) return Infinity
  const order = bounds.map((_, i) => i).sort((a, b) => bounds[a]! - bounds[b]!)
  const ub: number[] = []
  const cnt: number[] = []
  for (const i of order) {
    const b = bounds[i]!
    // Coalesce buckets with the same bound.
    if (ub.length > 0 && ub[ub.length - 1] === b) cnt[cnt.length - 1]! += counts[i]!
    else {
      ub.push(b)
      cnt.push(counts[i]!)
    }
  }
  if (ub[ub.length - 1] !== Infinity) return NaN
  // Non-monotonic counts (scrape races, float noise) are raised to the running maximum.
  let max = -Infinity
  for (let i = 0; i < cnt.length; i++) {
    const c = cnt[i]!
    if (c > max) max = c
    else if (c < max) cnt[i] = max
  }
  if (ub.length < 2) return NaN
  const observations = cnt[cnt.length - 1]!
  if (observations === 0) return NaN
  let rank = q * observations
  // First bucket whose count reaches the rank, searched among all but the +Inf bucket.
  let b = 0
  const last = ub.length - 1
  while (b < last && !(cnt[b]! >= rank)) b++
  if (b === last) return ub[last - 1]!
  if (b === 0 && ub[0]! <= 0) return ub[0]!
  let bucketStart = 0
  const bucketEnd = ub[b]!
  let count = cnt[b]!
  if (b > 0) {
    bucketStart = ub[b - 1]!
    count -= cnt[b - 1]!
    rank -= cnt[b - 1]!
  }
  return bucketStart + (bucketEnd - bucketStart) * (rank / count)
}

// Go's ParseFloat for an `le` value: decimal, exponent, Inf/NaN spellings.
function parseBound(s: string | undefined): number | undefined {
  if (s === undefined) return undefined
  const t = s.trim() === s ? s : undefined
  if (t === undefined || t === '') return undefined
  const lower = t.toLowerCase()
  if (lower === '+inf' || lower === 'inf' || lower === '+infinity' || lower === 'infinity') return Infinity
  if (lower === '-inf' || lower === '-infinity') return -Infinity
  if (lower === 'nan') return NaN
  if (!/^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/.test(t) && !/^[+-]?0[xX]/.test(t)) return undefined
  const v = Number(t)
  return Number.isNaN(v) ? undefined : v
}

/** histogram_quantile(φ, buckets) over every step: one output row per bucket group. */
export function histogramQuantile(q: Float64Array, rows: readonly Row[], grid: Grid): Row[] {
  // Groups are keyed by all labels but `le` (the name included, as Prometheus does).
  const groups = new Map<string, { labels: Labels; members: { row: Row; bound: number }[] }>()
  for (const row of rows) {
    const bound = parseBound(row.labels.le)
    if (bound === undefined) continue
    const rest: Record<string, string> = {}
    let key = ''
    for (const n of Object.keys(row.labels).sort()) {
      if (n === 'le') continue
      key += n + '\u0001' + row.labels[n] + '\u0000'
      if (n !== NAME) rest[n] = row.labels[n]!
    }
    let g = groups.get(key)
    if (!g) {
      g = { labels: rest, members: [] }
      groups.set(key, g)
    }
    g.members.push({ row, bound })
  }
  const out: Row[] = []
  const bounds: number[] = []
  const counts: number[] = []
  for (const g of groups.values()) {
    const res = newRow(g.labels, grid.n)
    for (let k = 0; k < grid.n; k++) {
      bounds.length = 0
      counts.length = 0
      for (const m of g.members) {
        if (m.row.present[k] !== 1) continue
        bounds.push(m.bound)
        counts.push(m.row.values[k]!)
      }
      if (bounds.length === 0) continue
      res.present[k] = 1
      res.values[k] = bucketQuantile(q[k]!, bounds, counts)
    }
    out.push(res)
  }
  return out
}
