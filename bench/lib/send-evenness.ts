/**
 * How evenly a load generator sent its requests: counts per fixed interval, summarised, beside
 * what a Poisson process of the same rate would show. A generator that refills a quota once a
 * second, or catches up after a stall, shows a p99 and a max far above the Poisson quantile.
 */
import { percentile } from './proc.ts'

/** Requests sent per interval: mean, 99th percentile and max. */
export interface Evenness {
  mean: number
  p99: number
  max: number
}

/** Summarises requests sent per interval. `counts` is not changed. */
export function evenness(counts: ArrayLike<number>): Evenness {
  const sorted = Float64Array.from(counts).sort()
  let total = 0
  for (const c of sorted) total += c
  return {
    mean: sorted.length === 0 ? NaN : total / sorted.length,
    p99: percentile(sorted, 0.99),
    max: sorted.length === 0 ? NaN : sorted[sorted.length - 1]!,
  }
}

/** The smallest k with P(X ≤ k) ≥ q for X Poisson with mean `mean` (mean up to a few hundred). */
export function poissonQuantile(mean: number, q: number): number {
  let term = Math.exp(-mean) // P(X = 0)
  let cumulative = term
  let k = 0
  while (cumulative < q) {
    k++
    term *= mean / k
    cumulative += term
  }
  return k
}
