import { attr } from '../query/groups.ts'
import { toNumber, type StoreQueries } from '../store/queries.ts'

/** What the app's limiter under a knob did: its peak in flight and its highest limit, when it reports them. */
export interface UsageReading {
  /** The most requests in flight at once (`governor.limiter.peak_inflight`, or `inflight` from an older library). */
  inUse: number | undefined
  /** The limiter's highest limit (`governor.limiter.limit`). */
  limit: number | undefined
  /**
   * Whether the limiter held in the window because the latency over its target was not from
   * its concurrency (`governor.limiter.state` with `governor.reason` `not_from_concurrency`
   * at 1); undefined when it reports no state.
   */
  notFromConcurrency: boolean | undefined
  /** "the app's limiter: 12 in flight at most, limit 31 at most, over the last 30 s". */
  text: string
}

/** Metrics of the throttle library's limiter (see `observeLimiter` there). */
export const LIMITER_METRICS = {
  peak: 'governor.limiter.peak_inflight',
  inflight: 'governor.limiter.inflight',
  limit: 'governor.limiter.limit',
  state: 'governor.limiter.state',
} as const

/** The `governor.reason` of a limiter holding for latency it does not cause. */
export const NOT_FROM_CONCURRENCY = 'not_from_concurrency'

/**
 * An app exports its metrics once a minute by default (OpenTelemetry's periodic reader): a
 * window of 30 s often holds none of its points. Then the newest point of this long a span
 * is taken (a peak gauge covers the span since the export before it).
 */
export const USAGE_LOOKBACK_MILLIS = 120_000

/**
 * Reads how much of a knob the app's fast loop uses: the throttle library's limiter metrics
 * whose `governor.knob` attribute names the knob (set when `bindBounds` binds the limiter's
 * max to it). Over the observation window, the highest values of every such series (an app
 * runs several instances); without a point in the window, the newest point of the last
 * `USAGE_LOOKBACK_MILLIS`. Undefined when the service reports none for the knob: the
 * controller then raises as it would without the fast loop. Also whether the limiter held for
 * latency not from its concurrency (its state metric). Store errors throw.
 */
export class UsageObserver {
  readonly #queries: Pick<StoreQueries, 'series' | 'points'>
  readonly #maxPoints: number

  constructor(queries: Pick<StoreQueries, 'series' | 'points'>, maxPoints = 100_000) {
    this.#queries = queries
    this.#maxPoints = maxPoints
  }

  async read(service: string, knob: string, now: number, windowMillis: number): Promise<UsageReading | undefined> {
    const peak = await this.#highest(LIMITER_METRICS.peak, service, knob, now, windowMillis)
    const inUse = peak ?? (await this.#highest(LIMITER_METRICS.inflight, service, knob, now, windowMillis))
    const limit = await this.#highest(LIMITER_METRICS.limit, service, knob, now, windowMillis)
    if (inUse === undefined && limit === undefined) return undefined
    const held = await this.#highest(LIMITER_METRICS.state, service, knob, now, windowMillis, NOT_FROM_CONCURRENCY)
    const notFromConcurrency = held === undefined ? undefined : held >= 1
    const parts = [
      ...(inUse !== undefined ? [`${inUse} in flight at most`] : []),
      ...(limit !== undefined ? [`limit ${limit} at most`] : []),
      ...(notFromConcurrency === true ? ['holding: latency not from concurrency'] : []),
    ]
    return { inUse, limit, notFromConcurrency, text: `the app's limiter: ${parts.join(', ')}` }
  }

  async #highest(
    metric: string,
    service: string,
    knob: string,
    now: number,
    windowMillis: number,
    reason?: string,
  ): Promise<number | undefined> {
    const ids = (await this.#queries.series(metric, service))
      .filter(
        (s) => attr(s, 'governor.knob') === knob && (reason === undefined || attr(s, 'governor.reason') === reason),
      )
      .map((s) => s.id)
    if (ids.length === 0) return undefined
    const from = now - Math.max(windowMillis, USAGE_LOOKBACK_MILLIS)
    const rows = await this.#queries.points('samples', ['value'], ids, from, now + 1, this.#maxPoints)
    const values = rows.columns.value!
    // The highest point in the window; else, per series, its newest point, and the highest of those.
    let inWindow = -Infinity
    const newest = new Map<string, { ts: number; v: number }>()
    for (let i = 0; i < rows.ts.length; i++) {
      const v = toNumber(values[i])
      const ts = rows.ts[i]!
      if (!Number.isFinite(v)) continue
      if (ts > now - windowMillis && v > inWindow) inWindow = v
      const id = rows.seriesId[i]!
      const last = newest.get(id)
      if (last === undefined || ts >= last.ts) newest.set(id, { ts, v })
    }
    if (inWindow > -Infinity) return inWindow
    let high: number | undefined
    for (const { v } of newest.values()) if (high === undefined || v > high) high = v
    return high
  }
}
