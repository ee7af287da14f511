import type { UTest } from './verdict.ts'

/** Largest `n₁ + n₂` the exact test runs on; above it the normal approximation is close. */
export const EXACT_MAX_TOTAL = 40

/**
 * The two-sided Mann-Whitney U test of `before` against `after`, exact: the p-value is the
 * share of all C(n₁+n₂, n₂) ways of splitting the pooled values into groups of these sizes
 * whose rank sum lies at least as far from its mean as the observed one. Ties get mid-ranks
 * and are handled exactly (the permutation distribution of the mid-rank sum), so nothing is
 * approximated. For small samples this matters: with 5 buckets a side the normal
 * approximation cannot go below p = 0.0122, while the exact test reaches 2/252 = 0.0079.
 *
 * `u` is the same statistic as `mannWhitneyUTest`'s: the (before, after) pairs where before is
 * larger, ties as one half. Undefined when `n₁ + n₂ > EXACT_MAX_TOTAL` or either side is empty.
 *
 * Counting: ranks are doubled so mid-ranks are integers; ways[k][s] counts the subsets of k
 * values seen so far whose doubled ranks sum to s, built one value at a time (a knapsack).
 * At most 40 · 20 · 1,640 cells; the counts stay below C(40, 20) ≈ 1.4e11, exact in a double.
 */
export function exactMannWhitney(before: readonly number[], after: readonly number[]): UTest | undefined {
  const n1 = before.length,
    n2 = after.length,
    n = n1 + n2
  if (n1 === 0 || n2 === 0 || n > EXACT_MAX_TOTAL) return undefined
  const pooled = [...before.map((v) => ({ v, after: false })), ...after.map((v) => ({ v, after: true }))].sort(
    (a, b) => a.v - b.v,
  )
  // Doubled mid-ranks: a tie over positions i..j (1-based) gets i + j.
  const rank2 = new Array<number>(n)
  for (let i = 0; i < n;) {
    let j = i
    while (j + 1 < n && pooled[j + 1]!.v === pooled[i]!.v) j++
    for (let k = i; k <= j; k++) rank2[k] = i + 1 + (j + 1)
    i = j + 1
  }
  let observed = 0
  for (let i = 0; i < n; i++) if (pooled[i]!.after) observed += rank2[i]!
  const maxSum = n * (n + 1)
  // ways[k * (maxSum + 1) + s]
  const width = maxSum + 1
  const ways = new Float64Array((n2 + 1) * width)
  ways[0] = 1
  for (let i = 0; i < n; i++) {
    const r = rank2[i]!
    for (let k = Math.min(i + 1, n2); k >= 1; k--) {
      const row = k * width,
        prev = (k - 1) * width
      for (let s = maxSum; s >= r; s--) ways[row + s]! += ways[prev + s - r]!
    }
  }
  const mean = n2 * (n + 1) // the doubled rank sum's mean
  const distance = Math.abs(observed - mean)
  let extreme = 0,
    total = 0
  for (let s = 0; s <= maxSum; s++) {
    const w = ways[n2 * width + s]!
    if (w === 0) continue
    total += w
    // Sums are integers: a distance equal to the observed one counts (≥), with no rounding.
    if (Math.abs(s - mean) >= distance) extreme += w
  }
  const rankSumBefore = (n * (n + 1) - observed) / 2
  return { u: rankSumBefore - (n1 * (n1 + 1)) / 2, p: Math.min(1, extreme / total) }
}

/**
 * The smallest two-sided p-value any outcome can give with `n1` and `n2` values (no ties):
 * both groups wholly apart, 2 / C(n₁+n₂, n₁). Above the threshold, no data can show a change.
 */
export function smallestPValue(n1: number, n2: number): number {
  let c = 1
  for (let k = 1; k <= n1; k++) c = (c * (n2 + k)) / k
  return Math.min(1, 2 / c)
}
