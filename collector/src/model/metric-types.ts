import type { MetricType } from './types.ts'

/**
 * The stored type of every metric name (gauge, sum, histogram...), so that a point whose
 * type contradicts it is refused instead of merging into one series with the old points.
 * Seeded from the series table at start (the type a metric was first stored with), then
 * learned from each metric's first admitted point. A decoder asks once per metric per
 * request (`BatchBuilder.setMetric`), never per point.
 *
 * Bounded: past `maxEntries` the oldest half is dropped (a Map iterates in insertion order);
 * a dropped name is learned again from its next point.
 */
export class MetricTypes {
  readonly #map = new Map<string, MetricType>()
  readonly #maxEntries: number

  constructor(maxEntries = 1_000_000) {
    this.#maxEntries = maxEntries
  }

  /** Types already stored, as `StoreQueries.metricTypes` reads them: per metric, the type of its first series. */
  static of(stored: Iterable<readonly [string, MetricType]>, maxEntries?: number): MetricTypes {
    const types = new MetricTypes(maxEntries)
    for (const [metric, type] of stored) types.learn(metric, type)
    return types
  }

  get size(): number {
    return this.#map.size
  }

  /** The stored type of `metric`, undefined when it is new. */
  get(metric: string): MetricType | undefined {
    return this.#map.get(metric)
  }

  /** Remembers the type of a metric; the first one learned stays. */
  learn(metric: string, type: MetricType): void {
    if (this.#map.has(metric)) return
    if (this.#map.size >= this.#maxEntries) {
      let drop = this.#map.size >> 1
      for (const key of this.#map.keys()) {
        if (drop-- <= 0) break
        this.#map.delete(key)
      }
    }
    this.#map.set(metric, type)
  }

  /**
   * Sets the type of a metric whatever was learned before: its metadata came after series
   * stored on a guess, which are re-typed (see decode/late-typing.ts).
   */
  declare(metric: string, type: MetricType): void {
    this.#map.delete(metric)
    this.learn(metric, type)
  }
}
