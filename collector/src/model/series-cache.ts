import { seriesId, seriesKey } from './series-key.ts'
import type { SeriesInfo } from './types.ts'

/**
 * Remembers the SeriesInfo of recently seen series so that a known series costs one map
 * lookup, not a hash. Bounded: past `maxEntries` the oldest half is dropped (a Map iterates
 * in insertion order, so the first keys are the oldest).
 */
export class SeriesCache {
  readonly #map = new Map<string, SeriesInfo>()
  readonly #maxEntries: number

  constructor(maxEntries = 1_000_000) {
    this.#maxEntries = maxEntries
  }

  get size(): number {
    return this.#map.size
  }

  /** The series for these fields; a cached one when its identity and metadata match. */
  resolve(fields: Omit<SeriesInfo, 'id'>): SeriesInfo {
    const key = seriesKey(fields.metric, fields.resource, fields.attributes)
    const hit = this.#map.get(key)
    if (hit !== undefined && sameMetadata(hit, fields)) return hit
    const info: SeriesInfo = { id: hit?.id ?? seriesId(key), ...fields }
    if (hit === undefined && this.#map.size >= this.#maxEntries) this.#evictOldestHalf()
    this.#map.set(key, info)
    return info
  }

  #evictOldestHalf(): void {
    let drop = this.#map.size >> 1
    for (const key of this.#map.keys()) {
      if (drop-- <= 0) break
      this.#map.delete(key)
    }
  }
}

function sameMetadata(a: SeriesInfo, b: Omit<SeriesInfo, 'id'>): boolean {
  return a.type === b.type && a.temporality === b.temporality && a.monotonic === b.monotonic &&
    a.unit === b.unit && a.description === b.description && a.scope === b.scope && a.service === b.service
}
