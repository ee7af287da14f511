/**
 * Prometheus' `quantile` (of quantile_over_time and the quantile aggregation): the value at
 * rank φ·(n-1), interpolated linearly between its two neighbours, NaN ranking below every
 * number and φ outside [0, 1] answering ±Inf.
 */

// A scratch column reused by every quantile: selecting in a window never allocates.
let scratch = new Float64Array(64)

// Hoare's quickselect: rearranges a[lo, hi) so that a[k] holds the value of rank k, smaller
// ones before it and larger ones after. O(n) on average, against O(n log n) for a sort.
function select(a: Float64Array, lo: number, hi: number, k: number): void {
  let l = lo
  let r = hi - 1
  while (r > l) {
    const pivot = a[(l + r) >>> 1]!
    let i = l
    let j = r
    while (i <= j) {
      while (a[i]! < pivot) i++
      while (a[j]! > pivot) j--
      if (i <= j) {
        const t = a[i]!
        a[i] = a[j]!
        a[j] = t
        i++
        j--
      }
    }
    if (k <= j) r = j
    else if (k >= i) l = i
    else return
  }
}

/**
 * Prometheus' `quantile`: linear interpolation between the two ranks around `q·(n-1)`, NaN
 * sorting before every number. The two ranks are selected, not sorted for.
 */
export function quantileOf(q: number, values: Float64Array | number[]): number {
  const n = values.length
  if (n === 0 || Number.isNaN(q)) return NaN
  if (q < 0) return -Infinity
  if (q > 1) return Infinity
  if (scratch.length < n) scratch = new Float64Array(Math.max(n, scratch.length * 2))
  const a = scratch
  // NaN first (their rank is the lowest), numbers after.
  let nans = 0
  let w = n
  for (let i = 0; i < n; i++) {
    const v = values[i]!
    if (v !== v) a[nans++] = v
    else a[--w] = v
  }
  const rank = q * (n - 1)
  const lower = Math.max(0, Math.floor(rank))
  const upper = Math.min(n - 1, lower + 1)
  const weight = rank - Math.floor(rank)
  let lowV = NaN
  let upV = NaN
  if (lower >= nans) {
    select(a, nans, n, lower)
    lowV = a[lower]!
  }
  if (upper >= nans) {
    if (upper === lower) upV = lowV
    else if (lower >= nans) {
      // After selecting `lower`, the next rank is the smallest value above it.
      upV = a[upper]!
      for (let i = upper + 1; i < n; i++) if (a[i]! < upV) upV = a[i]!
    } else {
      select(a, nans, n, upper)
      upV = a[upper]!
    }
  }
  return lowV * (1 - weight) + upV * weight
}
