import type { CardinalityGuard } from './cardinality-guard.ts'
import { MetricTypes } from './metric-types.ts'
import { entriesKey, seriesId, seriesKeyOf } from './series-key.ts'
import type { SeriesInfo } from './types.ts'

/**
 * Remembers the SeriesInfo of recently seen series so that a known series costs one map
 * lookup, not a hash. Bounded: past `maxEntries` the oldest half is dropped (a Map iterates
 * in insertion order, so the first keys are the oldest).
 */
export class SeriesCache {
  readonly #map = new Map<string, SeriesInfo>()
  /**
   * Series by their encoded form as a decoder saw it (a context of resource and metric, plus
   * the raw bytes of the point's attributes). The same SDK sends the same bytes for the
   * same series, so a known series costs one lookup without decoding its attributes; any
   * other encoding of it misses here and falls back to the canonical key.
   */
  readonly #byEncoding = new Map<string, Map<string, SeriesInfo>>()
  /** Maps handed out by `encodings` and not kept yet: kept on their first entry. */
  readonly #unkept = new WeakMap<Map<string, SeriesInfo>, string>()
  /** Contexts and encoded forms held in #byEncoding, both bounded by maxEntries together. */
  #encodedEntries = 0
  readonly #maxEntries: number
  readonly #guard: CardinalityGuard | undefined
  /** The stored type of each metric name (see `MetricTypes`). */
  readonly types: MetricTypes

  /** `types`: the types already stored (`MetricTypes.of`); empty by default. */
  constructor(maxEntries = 1_000_000, guard?: CardinalityGuard, types = new MetricTypes(maxEntries)) {
    this.#maxEntries = maxEntries
    this.#guard = guard
    this.types = types
  }

  /** Undefined when a series may be stored; otherwise why not (see CardinalityGuard). */
  admit(info: SeriesInfo): string | undefined {
    return this.#guard?.admit(info)
  }

  get size(): number {
    return this.#map.size
  }

  /** Contexts held for `encodings`: only those with a remembered series, at most `maxEntries`. */
  get encodingContexts(): number {
    return this.#byEncoding.size
  }

  /**
   * The series for these fields; a cached one when its identity and metadata match.
   * `resourceKey`: `entriesKey(fields.resource)`, when the caller has it already.
   */
  resolve(fields: Omit<SeriesInfo, 'id'>, resourceKey = entriesKey(fields.resource)): SeriesInfo {
    const key = seriesKeyOf(fields.metric, resourceKey, fields.attributes)
    const hit = this.#map.get(key)
    if (hit !== undefined && sameMetadata(hit, fields)) return hit
    const info: SeriesInfo = { id: hit?.id ?? seriesId(fields.metric, key), ...fields }
    if (hit === undefined && this.#map.size >= this.#maxEntries) this.#evictOldestHalf()
    this.#map.set(key, info)
    return info
  }

  /**
   * The series of one context (a decoder's resource and metric) by encoded attributes. A
   * decoder fetches it once per metric, so each point looks up only its short attribute key.
   */
  encodings(context: string): Map<string, SeriesInfo> {
    let m = this.#byEncoding.get(context)
    if (m === undefined) this.#unkept.set((m = new Map()), context)
    return m
  }

  /** Remembers a resolved series under an encoded form of it, in a map from `encodings`. */
  rememberEncoding(map: Map<string, SeriesInfo>, encoded: string, info: SeriesInfo): void {
    if (this.#encodedEntries >= this.#maxEntries) {
      // Rare and wholesale: the next requests rebuild what they use from the canonical keys.
      this.#byEncoding.clear()
      this.#encodedEntries = 0
    }
    // A context is kept with its first series, so that contexts whose every point is
    // refused (a hostile stream of new metric names, say) are never held.
    const context = this.#unkept.get(map)
    if (context !== undefined) {
      this.#unkept.delete(map)
      this.#byEncoding.set(context, map)
      this.#encodedEntries++
    }
    if (!map.has(encoded)) this.#encodedEntries++
    map.set(encoded, info)
  }

  #evictOldestHalf(): void {
    evictOldestHalf(this.#map)
  }
}

function evictOldestHalf(map: Map<string, SeriesInfo>): void {
  let drop = map.size >> 1
  for (const key of map.keys()) {
    if (drop-- <= 0) break
    map.delete(key)
  }
}

function sameMetadata(a: SeriesInfo, b: Omit<SeriesInfo, 'id'>): boolean {
  return (
    a.type === b.type &&
    a.temporality === b.temporality &&
    a.monotonic === b.monotonic &&
    a.unit === b.unit &&
    a.description === b.description &&
    a.scope === b.scope &&
    a.service === b.service
  )
}
