/**
 * The k-th smallest of the first `n` values of `a` (k from 0), found in place in O(n) on
 * average (Hoare's quickselect, middle pivot). Reorders `a[0..n)`. Used once per window by
 * SloGradientLimit: a full sort of the window would cost O(n log n) for one order statistic.
 */
export function selectKth(a: Float64Array, n: number, k: number): number {
  let lo = 0
  let hi = n - 1
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1]!
    let i = lo
    let j = hi
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
    // a[lo..j] ≤ pivot ≤ a[i..hi]; values between j and i equal the pivot.
    if (k <= j) hi = j
    else if (k >= i) lo = i
    else return a[k]!
  }
  return a[k]!
}
