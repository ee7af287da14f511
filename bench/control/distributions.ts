/**
 * Random draws for the simulator, all from one seeded uniform source (`seeded` of the test
 * helpers), so that a run is the same for the same seed.
 */

/** A uniform source in [0, 1). */
export type Random = () => number

/** An exponential draw with the given mean: the gap between Poisson arrivals. */
export function exponential(random: Random, mean: number): number {
  // 1 − u is in (0, 1]: the log never sees 0.
  return -Math.log(1 - random()) * mean
}

/** A standard normal draw (Box–Muller; one of the pair is used, which keeps the stream simple). */
export function normal(random: Random): number {
  const u = 1 - random()
  const v = random()
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
}

/**
 * A lognormal draw with the given mean and shape σ (the standard deviation of its log). The
 * median is mean·e^(−σ²/2), so that changing σ (a heavier tail) keeps the mean, and with it the
 * server's capacity, the same: σ 0.5 puts p99 at 2.8× the mean, σ 1.2 at 7.4×.
 */
export function lognormal(random: Random, mean: number, sigma: number): number {
  return mean * Math.exp(sigma * normal(random) - (sigma * sigma) / 2)
}

/** The q-quantile of the lognormal of `lognormal(mean, sigma)`: for stating what a scenario's service alone gives. */
export function lognormalQuantile(mean: number, sigma: number, z: number): number {
  return mean * Math.exp(sigma * z - (sigma * sigma) / 2)
}
