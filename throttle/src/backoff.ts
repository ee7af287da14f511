/** Shape of the reconnect delays: exponential growth up to a cap, with jitter. */
export interface BackoffPolicy {
  /** Upper bound of the first delay. */
  initialDelayMillis: number
  /** Largest upper bound of a delay. */
  maxDelayMillis: number
  /** Growth of the bound per failed attempt. */
  multiplier: number
}

/**
 * The delay before reconnect attempt `attempt` (0 for the first after a failure): "equal
 * jitter", a draw between half the bound and the bound, where the bound grows as
 * `initialDelayMillis × multiplier^attempt` up to `maxDelayMillis`.
 *
 *   bound   250   500   1000  2000 … 30000  30000
 *   delay  [125,250] [250,500] …   [15000,30000]
 *
 * Half the bound keeps a floor under each delay (a full-jitter draw near 0 would hammer a
 * collector that is just coming back); the random half spreads a thousand clients that lost
 * the same collector at the same moment. Pure: `random` returns a number in [0, 1).
 */
export function backoffDelayMillis(attempt: number, policy: BackoffPolicy, random: () => number): number {
  const growth = policy.multiplier ** Math.max(0, attempt)
  // Compared as a ratio so that a long outage (growth overflowing to Infinity) stays at the cap.
  const bound =
    growth >= policy.maxDelayMillis / policy.initialDelayMillis
      ? policy.maxDelayMillis
      : policy.initialDelayMillis * growth
  const half = bound / 2
  return half + half * Math.min(1, Math.max(0, random()))
}
