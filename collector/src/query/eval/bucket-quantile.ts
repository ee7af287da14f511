/**
 * A port of Prometheus' `BucketQuantile` (promql/quantile.go), the function behind
 * `histogram_quantile()` on classic histograms.
 */

/** One classic-histogram bucket: observations ≤ `upperBound`, cumulative as `le` buckets are. */
export interface LeBucket {
  upperBound: number
  count: number
}

// Relative differences between neighbouring buckets below this are float noise, not
// observations (Prometheus `smallDeltaTolerance`).
const SMALL_DELTA_TOLERANCE = 1e-12
// The smallest positive normal float64, as in Prometheus `util/almost`.
const MIN_NORMAL = 2.2250738585072014e-308

/**
 * The `q` quantile of cumulative buckets, interpolated linearly inside the bucket it falls in.
 *
 *   count ▲                          ┌──── +Inf
 *         │                  ┌───────┘
 *    rank ┼ ─ ─ ─ ─ ─ ─ ─ ─ ╱│         result = start + (end − start) × (rank − below) / inBucket
 *         │          ┌─────┘ │
 *         └──────────┴───────┴───────▶ upper bound
 *                  start  ▲ end
 *
 * - The lowest bucket starts at 0 when its upper bound is above 0; when its upper bound is
 *   at or below 0, that upper bound is returned.
 * - A quantile that falls into the +Inf bucket returns the upper bound of the bucket below it.
 * - NaN for q = NaN, no observations, fewer than two buckets, or no +Inf bucket;
 *   −Inf for q < 0 and +Inf for q > 1.
 *
 * Buckets need not be sorted. Counts that decrease with the bound (float noise, or data
 * merged from inconsistent sources) are first flattened into a monotonic envelope.
 */
export function bucketQuantile(q: number, input: ReadonlyArray<LeBucket>): number {
  if (Number.isNaN(q)) return Number.NaN
  if (q < 0) return Number.NEGATIVE_INFINITY
  if (q > 1) return Number.POSITIVE_INFINITY
  if (input.length === 0) return Number.NaN
  const sorted = input.map((b) => ({ upperBound: b.upperBound, count: b.count }))
  sorted.sort((a, b) => a.upperBound - b.upperBound)
  if ((sorted[sorted.length - 1] as LeBucket).upperBound !== Number.POSITIVE_INFINITY) return Number.NaN

  const buckets = coalesceBuckets(sorted)
  ensureMonotonicAndIgnoreSmallDeltas(buckets, SMALL_DELTA_TOLERANCE)
  if (buckets.length < 2) return Number.NaN
  const observations = (buckets[buckets.length - 1] as LeBucket).count
  if (observations === 0) return Number.NaN

  let rank = q * observations
  // First bucket whose cumulative count reaches the rank; the +Inf bucket when none does.
  let b = 0
  while (b < buckets.length - 1 && (buckets[b] as LeBucket).count < rank) b++

  if (b === buckets.length - 1) return (buckets[buckets.length - 2] as LeBucket).upperBound
  const bucket = buckets[b] as LeBucket
  if (b === 0 && bucket.upperBound <= 0) return bucket.upperBound
  let bucketStart = 0
  let count = bucket.count
  if (b > 0) {
    const below = buckets[b - 1] as LeBucket
    bucketStart = below.upperBound
    count -= below.count
    rank -= below.count
  }
  return bucketStart + (bucket.upperBound - bucketStart) * (rank / count)
}

/** Merges sorted buckets that share an upper bound, adding their counts. */
function coalesceBuckets(buckets: LeBucket[]): LeBucket[] {
  const out: LeBucket[] = []
  for (const b of buckets) {
    const last = out[out.length - 1]
    if (last !== undefined && last.upperBound === b.upperBound) last.count += b.count
    else out.push(b)
  }
  return out
}

/**
 * Makes counts non-decreasing in place: a difference to the last kept count that is float
 * noise is dropped in either direction, and any real decrease is raised to that count.
 */
function ensureMonotonicAndIgnoreSmallDeltas(buckets: LeBucket[], tolerance: number): void {
  let prev = (buckets[0] as LeBucket).count
  for (let i = 1; i < buckets.length; i++) {
    const b = buckets[i] as LeBucket
    if (b.count === prev) continue
    if (almostEqual(prev, b.count, tolerance) || b.count < prev) {
      b.count = prev
      continue
    }
    prev = b.count
  }
}

/** Prometheus `almost.Equal`: a and b differ by less than `epsilon` relative to their sum. */
function almostEqual(a: number, b: number, epsilon: number): boolean {
  if (Number.isNaN(a) && Number.isNaN(b)) return true
  if (a === b) return true
  const absSum = Math.abs(a) + Math.abs(b)
  const diff = Math.abs(a - b)
  if (a === 0 || b === 0 || absSum < MIN_NORMAL) return diff < epsilon * MIN_NORMAL
  return diff / Math.min(absSum, Number.MAX_VALUE) < epsilon
}
