/**
 * What a simulation run records, per 1-second window of simulated time, and the figures the
 * report derives from it. Pure: times in, no clock.
 */

/** One second of a run. A response is counted in the window in which it finished. */
export interface Window {
  /** Attempts that reached the server's admission (first tries and retries). */
  attempts: number
  /** First tries only (the open-loop arrivals), those rejected by the client itself included. */
  firsts: number
  /** Attempts the client's own throttle rejected before sending them (they never reach the server). */
  rejectedLocally: number
  /** Attempts refused by the admission (503). */
  shed: number
  /** Admitted attempts that finished (whether or not their client still waited). */
  completed: number
  /** Completed within the client's timeout: goodput. */
  good: number
  /** Completed within the SLO's latency threshold. */
  goodSlo: number
  /** Latencies of the completed attempts, ms (for the window's p99). */
  latencies: number[]
}

/** Records a run window by window; times are ms since the start of the run. */
export class RunRecorder {
  readonly windows: Window[]
  readonly #slo: number
  readonly #timeout: number
  /** The limit as sampled by the simulator (every 100 ms): [time s, limit]. */
  readonly limits: [number, number][] = []

  /** A run of `seconds` windows, judged against `sloMillis` and the client's `timeoutMillis`. */
  constructor(seconds: number, sloMillis: number, timeoutMillis: number) {
    this.windows = Array.from({ length: seconds }, () => ({
      attempts: 0,
      firsts: 0,
      rejectedLocally: 0,
      shed: 0,
      completed: 0,
      good: 0,
      goodSlo: 0,
      latencies: [],
    }))
    this.#slo = sloMillis
    this.#timeout = timeoutMillis
  }

  #at(now: number): Window | undefined {
    return this.windows[Math.floor(now / 1000)]
  }

  /** An attempt reached the admission; `first` when it is not a retry; `admitted` false when shed. */
  attempt(now: number, first: boolean, admitted: boolean): void {
    const w = this.#at(now)
    if (w === undefined) return
    w.attempts++
    if (first) w.firsts++
    if (!admitted) w.shed++
  }

  /** An attempt the client's own throttle rejected: it never reached the admission. */
  rejectLocally(now: number, first: boolean): void {
    const w = this.#at(now)
    if (w === undefined) return
    w.rejectedLocally++
    if (first) w.firsts++
  }

  /** An admitted attempt finished after `latency` ms. */
  complete(now: number, latency: number): void {
    const w = this.#at(now)
    if (w === undefined) return
    w.completed++
    if (latency <= this.#timeout) w.good++
    if (latency <= this.#slo) w.goodSlo++
    w.latencies.push(latency)
  }

  /** The limit at `now` (NaN for an admission without one). */
  limit(now: number, value: number): void {
    this.limits.push([now / 1000, value])
  }
}

/** The nearest-rank p-quantile (0 < q ≤ 1) of values, NaN when there are none. Sorts a copy. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN
  const sorted = Float64Array.from(values).sort()
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}

/** The p99 of each window's completed latencies (NaN for a window with none). */
export function windowP99s(windows: readonly Window[]): number[] {
  return windows.map((w) => quantile(w.latencies, 0.99))
}

/**
 * Share of the windows in [from, to) whose p99 is within the SLO. A window in which requests
 * arrived but none completed counts as outside (the server answered nothing); one with no
 * traffic at all is left out.
 */
export function shareWithinSlo(windows: readonly Window[], from: number, to: number, sloMillis: number): number {
  let inside = 0,
    counted = 0
  for (let i = from; i < to && i < windows.length; i++) {
    const w = windows[i]!
    if (w.completed === 0 && w.attempts === 0) continue
    counted++
    if (w.completed > 0 && quantile(w.latencies, 0.99) <= sloMillis) inside++
  }
  return counted === 0 ? NaN : inside / counted
}

/**
 * Seconds from `onset` until shedding started: the end of the first window at or after it in
 * which at least `share` of the attempts were shed. Infinity when it never did.
 */
export function timeToShed(windows: readonly Window[], onset: number, share = 0.1): number {
  for (let i = onset; i < windows.length; i++) {
    const w = windows[i]!
    if (w.attempts > 0 && w.shed / w.attempts >= share) return i + 1 - onset
  }
  return Infinity
}

/**
 * Seconds from `end` (when the overload ended) until full admission was back: the end of the
 * last window from `end` on that shed more than `share` of its attempts, less `end`. 0 when
 * none did; Infinity when the last window of the run still shed.
 */
export function timeToRecover(windows: readonly Window[], end: number, share = 0.001): number {
  let last = -1
  for (let i = end; i < windows.length; i++) {
    const w = windows[i]!
    if (w.attempts > 0 && w.shed / w.attempts > share) last = i
  }
  if (last === windows.length - 1) return Infinity
  return last < 0 ? 0 : last + 1 - end
}

/** Coefficient of variation (standard deviation ÷ mean) of the limit samples with time in [from, to) s. */
export function limitCv(limits: readonly [number, number][], from: number, to: number): number {
  const xs = limits.filter(([t, v]) => t >= from && t < to && Number.isFinite(v)).map(([, v]) => v)
  if (xs.length === 0) return NaN
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length
  return mean === 0 ? NaN : Math.sqrt(variance) / mean
}

/** Sums a field of the windows in [from, to). */
export function sum(
  windows: readonly Window[],
  from: number,
  to: number,
  field: 'attempts' | 'firsts' | 'shed' | 'completed' | 'good' | 'goodSlo',
): number {
  let s = 0
  for (let i = from; i < to && i < windows.length; i++) s += windows[i]![field]
  return s
}
