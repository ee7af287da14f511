import type { SeriesInfo } from './types.ts'

export interface CardinalityGuardOptions {
  /** New series one metric may gain per hour. */
  maxPerMetric: number
  /** New series one service may gain per hour. */
  maxPerService: number
  /** Whether the store already holds this series (such a series is never new). */
  isKnown: (id: bigint) => boolean
  /** The clock, epoch ms (injected so tests step through hours). */
  now: () => number
  /** Told of every point refused, with the limit it hit. Must not throw. */
  onRefused?: (limit: 'metric' | 'service') => void
}

const HOUR_MS = 3_600_000

/**
 * Limits how many new series a metric and a service may create per hour, so that one
 * label with an unbounded value (a user id, a request id) cannot flood the store. A series
 * the store knows, or that was admitted this hour, always passes; the counts start again
 * at the top of every hour.
 */
export class CardinalityGuard {
  readonly #o: CardinalityGuardOptions
  #hour = -1
  #admitted = new Set<bigint>()
  #perMetric = new Map<string, number>()
  #perService = new Map<string, number>()

  constructor(options: CardinalityGuardOptions) {
    this.#o = options
  }

  /** Undefined when the series may be stored; otherwise why not, for the client. */
  admit(s: SeriesInfo): string | undefined {
    const hour = Math.floor(this.#o.now() / HOUR_MS)
    if (hour !== this.#hour) {
      this.#hour = hour
      this.#admitted = new Set()
      this.#perMetric = new Map()
      this.#perService = new Map()
    }
    if (this.#admitted.has(s.id) || this.#o.isKnown(s.id)) return undefined
    const m = this.#perMetric.get(s.metric) ?? 0
    if (m >= this.#o.maxPerMetric) {
      this.#o.onRefused?.('metric')
      return `series limit: metric "${s.metric}" already gained ${m} new series this hour (GOVERNOR_MAX_NEW_SERIES_PER_METRIC_PER_HOUR)`
    }
    const v = this.#perService.get(s.service) ?? 0
    if (v >= this.#o.maxPerService) {
      this.#o.onRefused?.('service')
      return `series limit: service "${s.service}" already gained ${v} new series this hour (GOVERNOR_MAX_NEW_SERIES_PER_SERVICE_PER_HOUR)`
    }
    this.#perMetric.set(s.metric, m + 1)
    this.#perService.set(s.service, v + 1)
    this.#admitted.add(s.id)
    return undefined
  }
}
