/**
 * The scenarios of `npm run bench:control`. One server of 32 slots with lognormal service
 * times (mean 20 ms, σ 0.5: p99 of the service alone 56 ms), so 1,600 requests a second at
 * most; an SLO of p99 ≤ 200 ms; clients that give up after 1 s and retry twice with
 * exponential backoff and full jitter (100 ms, 200 ms). Times in ms unless named otherwise.
 */

/** A client's retry policy: up to `max` retries, the k-th after a uniform draw in [0, base × 2^(k−1)) ms (0: at once). */
export interface RetryPolicy {
  max: number
  baseMillis: number
}

/** One scenario. Functions of time take ms since the start of the run. */
export interface Scenario {
  name: string
  title: string
  /** One sentence on what it shows. */
  about: string
  seconds: number
  /** First attempts per second offered (open loop, Poisson). */
  rate(t: number): number
  slots(t: number): number
  meanServiceMillis(t: number): number
  /** σ of the lognormal service time. */
  sigma: number
  /** Another service-time distribution in place of the lognormal (the model's tests use exponential ones). */
  drawService?: (t: number, random: () => number) => number
  sloMillis: number
  timeoutMillis: number
  retry: RetryPolicy
  /** The overload, in seconds: shedding should start after `onset` and stop after `end` (when there is one). */
  overload?: { onset: number; end?: number }
  /** The span judged for goodput, SLO windows and limit variation, [from, to) seconds: the converged part. */
  measure: [number, number]
  /** Overload scenarios are those where Governor must beat every baseline on goodput within the SLO. */
  isOverload: boolean
  /** A slow-loop controller sets each limiter's max bound; its changes reach the app this late. */
  knobDelayMillis?: number
  /** The slow loop's knob at the start. Default 200. */
  knobStart?: number
  /** Parameters of the slow loop's `gradient` controller over its defaults. */
  slowLoopParams?: Record<string, number>
  /**
   * Time a request spends after its service on a dependency that is not the server: it holds
   * no slot, so it queues nothing, but the client (and the limiter) waits for it. A slow
   * downstream call, a GC pause: latency that no concurrency limit can lower.
   */
  dependencyMillis?: (t: number) => number
  /**
   * Clients that protect the server as `throttledFetch` does by default: client-side adaptive
   * throttling (`AdaptiveThrottle`, k = 2 over 2 min) and a retry budget (`RetryBudget`, 10 %
   * of first attempts + 10 a second over 10 s), the library's classes on the run's clock.
   */
  clientProtection?: boolean
}

/** Slots of the server. */
export const SLOTS = 32
/** Mean service time, ms. */
export const MEAN_SERVICE_MILLIS = 20
/** Requests per second the server completes at most with its nominal slots and service time. */
export const CAPACITY = (SLOTS * 1000) / MEAN_SERVICE_MILLIS
const SLO = 200
const TIMEOUT = 1000
const RETRY: RetryPolicy = { max: 2, baseMillis: 100 }
const BASE = {
  slots: () => SLOTS,
  meanServiceMillis: () => MEAN_SERVICE_MILLIS,
  sigma: 0.5,
  sloMillis: SLO,
  timeoutMillis: TIMEOUT,
  retry: RETRY,
}

/** A load of `low` × capacity, `high` × capacity from `onset` to `end` seconds. */
const step =
  (low: number, high: number, onset: number, end = Infinity) =>
  (t: number) =>
    CAPACITY * (t >= onset * 1000 && t < end * 1000 ? high : low)

function overload(factor: number, name = `overload-${factor}x`): Scenario {
  const onset = 10,
    end = factor >= 10 ? 30 : 50
  return {
    ...BASE,
    name,
    title: `Step overload to ${factor}× capacity`,
    about: `0.5× capacity, ${factor}× from ${onset} s to ${end} s, then 0.5× again.`,
    seconds: end + 25,
    rate: step(0.5, factor, onset, end),
    overload: { onset, end },
    measure: [onset + 10, end],
    isOverload: true,
  }
}

/** Every scenario, in report order. */
export function scenarios(): Scenario[] {
  return [
    overload(2),
    overload(1.4),
    overload(10),
    {
      ...BASE,
      name: 'capacity-halved',
      title: 'Capacity halved mid-run',
      about:
        '0.8× load throughout; the server loses half its slots from 20 s to 45 s (1.6× its capacity then), then gets them back.',
      seconds: 75,
      rate: () => 0.8 * CAPACITY,
      slots: (t) => (t >= 20_000 && t < 45_000 ? SLOTS / 2 : SLOTS),
      overload: { onset: 20, end: 45 },
      measure: [30, 45],
      isOverload: true,
    },
    {
      ...BASE,
      name: 'spiky-dependency',
      title: 'A latency-spiky dependency',
      about:
        '0.7× load; every 10 s from 10 s a dependency turns slow for 2 s: service times × 3 (2.1× overload while it lasts).',
      seconds: 60,
      rate: () => 0.7 * CAPACITY,
      meanServiceMillis: (t) => (t >= 10_000 && t % 10_000 < 2000 ? 3 * MEAN_SERVICE_MILLIS : MEAN_SERVICE_MILLIS),
      measure: [5, 60],
      isOverload: true,
    },
    {
      ...BASE,
      name: 'drift-deploy',
      title: 'Slow baseline drift across a deploy under 1.3× load',
      about:
        '1.3× load from 10 s; from 20 s to 60 s the new version gets slower, mean service 20 → 32 ms (capacity 1,600 → 1,000 a second).',
      seconds: 70,
      rate: step(0.5, 1.3, 10),
      meanServiceMillis: (t) => MEAN_SERVICE_MILLIS * (1 + 0.6 * Math.min(1, Math.max(0, (t - 20_000) / 40_000))),
      overload: { onset: 10 },
      measure: [20, 70],
      isOverload: true,
    },
    {
      ...BASE,
      name: 'drift-30min',
      title: 'Slow drift over 30 minutes under 1.3× load',
      about:
        '1.3× load from 10 s; over 30 minutes the service gets slower, mean 20 → 32 ms (capacity 1,600 → 1,000 a second): a drift no window sees, against the limits that hold a latency baseline of their own.',
      seconds: 1810,
      rate: step(0.5, 1.3, 10),
      meanServiceMillis: (t) => MEAN_SERVICE_MILLIS * (1 + 0.6 * Math.min(1, Math.max(0, (t - 10_000) / 1_800_000))),
      overload: { onset: 10 },
      measure: [60, 1810],
      isOverload: true,
    },
    {
      ...overload(2, 'retry-storm'),
      title: 'Retry storm at 2×',
      about: 'As the 2× step, but clients retry up to 3 times at once, without backoff, on a 503 or a timeout.',
      retry: { max: 3, baseMillis: 0 },
    },
    {
      ...overload(2, 'overload-2x-8-slots'),
      title: 'Step overload to 2× on 8 slots, SLO 100 ms',
      about:
        'As the 2× step on a server of 8 slots (400 requests a second) with an SLO of p99 ≤ 100 ms: a bound that is any good must be within a few requests of right.',
      slots: () => 8,
      sloMillis: 100,
      rate: (t) => 400 * (t >= 10_000 && t < 50_000 ? 2 : 0.5),
    },
    ...[1.4, 2, 4].map((factor): Scenario => ({
      ...overload(factor, `retry-storm-protected-${factor}x`),
      title: `Retry storm at ${factor}×, clients with throttling and a retry budget`,
      about: `As the ${factor}× step, clients retrying up to 3 times at once on a 503 or a timeout, but as \`throttledFetch\` sends: client-side adaptive throttling (k = 2) and a 10 % retry budget.`,
      retry: { max: 3, baseMillis: 0 },
      clientProtection: true,
    })),
    {
      ...overload(2, 'knob-delay'),
      title: 'Knob updates delayed 10 s (2× step)',
      about:
        "As the 2× step, with the slow loop (the `gradient` controller, every 5 s, on the p99 of the last 30 s) setting Governor's max bound; its changes reach the app 10 s late. The other algorithms run as in the 2× step.",
      knobDelayMillis: 10_000,
    },
    {
      ...BASE,
      name: 'slow-dependency-0.5x',
      title: 'A dependency 50 ms slower at half load (SLO 100 ms)',
      about:
        '0.5× load, SLO p99 ≤ 100 ms; from 20 s to 50 s every request also waits 50 ms on a dependency that holds no slot: nothing queues, so there is nothing to shed.',
      seconds: 70,
      rate: () => 0.5 * CAPACITY,
      sloMillis: 100,
      dependencyMillis: (t) => (t >= 20_000 && t < 50_000 ? 50 : 0),
      measure: [10, 70],
      isOverload: false,
    },
    {
      ...BASE,
      name: 'cpu-starved-0.3x',
      title: 'A CPU-starved server at 0.3× load (SLO 100 ms)',
      about:
        '0.3× load, SLO p99 ≤ 100 ms; from 20 s to 50 s a co-tenant takes half the CPU, so every service time doubles (mean 20 → 40 ms, p99 of the service alone 113 ms; capacity 1,600 → 800 a second, 60 % busy): latency over the target that no queue causes.',
      seconds: 70,
      rate: () => 0.3 * CAPACITY,
      sloMillis: 100,
      meanServiceMillis: (t) => (t >= 20_000 && t < 50_000 ? 2 * MEAN_SERVICE_MILLIS : MEAN_SERVICE_MILLIS),
      measure: [10, 70],
      isOverload: false,
    },
    {
      ...BASE,
      name: 'low-traffic',
      title: 'Low traffic',
      about: '0.05× capacity (80 requests a second) for a minute: nothing to shed.',
      seconds: 60,
      rate: () => 0.05 * CAPACITY,
      measure: [5, 60],
      isOverload: false,
    },
    {
      ...BASE,
      name: 'heavy-tail-0.8x',
      title: 'Heavy-tailed service times at 0.8× load',
      about:
        '0.8× load, service σ 1.2 (same mean; p99 of the service alone 160 ms, p99.9 400 ms): every rejection is a false one.',
      seconds: 60,
      rate: () => 0.8 * CAPACITY,
      sigma: 1.2,
      measure: [5, 60],
      isOverload: false,
    },
  ]
}
