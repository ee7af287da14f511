import type { MetricType } from '../model/types.ts'

/** MetricMetadata.MetricType, as numbered in types.proto. */
export const FAMILY_TYPE = {
  UNKNOWN: 0,
  COUNTER: 1,
  GAUGE: 2,
  HISTOGRAM: 3,
  GAUGEHISTOGRAM: 4,
  SUMMARY: 5,
  INFO: 6,
  STATESET: 7,
} as const

/** What a MetricMetadata says of a metric family. */
export interface MetricFamily {
  /** A FAMILY_TYPE number. */
  type: number
  help: string
  unit: string
}

/**
 * Metric family metadata by family name, remembered across requests: Prometheus sends
 * metadata in requests of its own, not with the samples it describes. Bounded: past
 * `maxEntries` the oldest half is dropped (a Map iterates in insertion order).
 */
export class MetricFamilies {
  readonly #map = new Map<string, MetricFamily>()
  readonly #maxEntries: number

  constructor(maxEntries = 100_000) {
    this.#maxEntries = maxEntries
  }

  get size(): number {
    return this.#map.size
  }

  get(name: string): MetricFamily | undefined {
    return this.#map.get(name)
  }

  /** Remembers a family's metadata; true when it is new or says something else than before. */
  set(name: string, family: MetricFamily): boolean {
    const before = this.#map.get(name)
    if (
      before !== undefined &&
      before.type === family.type &&
      before.help === family.help &&
      before.unit === family.unit
    )
      return false
    if (before === undefined && this.#map.size >= this.#maxEntries) {
      let drop = this.#map.size >> 1
      for (const key of this.#map.keys()) {
        if (drop-- <= 0) break
        this.#map.delete(key)
      }
    }
    this.#map.set(name, family)
    return true
  }

  /** Forgets a family, so that its next metadata counts as new (its recording failed). */
  forget(name: string): void {
    this.#map.delete(name)
  }
}

/** The name of each FAMILY_TYPE number, as Prometheus' metadata API writes it. */
export const FAMILY_TYPE_NAMES = [
  'unknown',
  'counter',
  'gauge',
  'histogram',
  'gaugehistogram',
  'summary',
  'info',
  'stateset',
] as const

/** How the samples of one metric name are stored. */
export interface SeriesTyping {
  /** 'sum' means a cumulative monotonic sum. */
  type: Extract<MetricType, 'gauge' | 'sum'>
  help: string
  unit: string
  /** True when no metadata told it, only the name (see `BatchBuilder.setMetric`: a guess yields to the stored type). */
  guessed?: boolean
}

/** Series-name suffixes of a family that carry counter (cumulative monotonic) values, by family type. */
const COUNTER_SUFFIXES: Partial<Record<number, readonly string[]>> = {
  [FAMILY_TYPE.COUNTER]: ['_total'],
  [FAMILY_TYPE.HISTOGRAM]: ['_bucket', '_count', '_sum'],
  [FAMILY_TYPE.SUMMARY]: ['_count', '_sum'],
}
/** Series-name suffixes of a family whose values are gauges. */
const GAUGE_SUFFIXES: Partial<Record<number, readonly string[]>> = {
  [FAMILY_TYPE.GAUGEHISTOGRAM]: ['_bucket', '_gcount', '_gsum'],
  [FAMILY_TYPE.INFO]: ['_info'],
}
const FAMILY_SUFFIXES = ['_total', '_bucket', '_count', '_sum', '_gcount', '_gsum', '_info']
/** Without metadata, a name with one of these endings is a counter. */
const COUNTER_NAME = /_(?:total|count|sum|bucket)$/

/** The type of series `name` without metadata: `_total`, `_count`, `_sum`, `_bucket` are counters, the rest gauges. */
export function guessedType(name: string): 'sum' | 'gauge' {
  return COUNTER_NAME.test(name) ? 'sum' : 'gauge'
}

/**
 * The type of a series named `name`. From its family's metadata when known: the family of
 * that exact name (a counter's own series; a summary's quantile series, stored as gauges
 * since quantiles go down), else the family the name minus a suffix belongs to, when the
 * suffix fits its type (histogram and summary `_bucket`/`_count`/`_sum` and counter
 * `_total` are counters). Otherwise by the name: `_total`, `_count`, `_sum`, `_bucket` are
 * counters, anything else a gauge.
 */
export function seriesTyping(name: string, families: MetricFamilies): SeriesTyping {
  const exact = families.get(name)
  if (exact !== undefined)
    return { type: exact.type === FAMILY_TYPE.COUNTER ? 'sum' : 'gauge', help: exact.help, unit: exact.unit }
  for (const suffix of FAMILY_SUFFIXES) {
    if (!name.endsWith(suffix)) continue
    const family = families.get(name.slice(0, -suffix.length))
    if (family === undefined) continue
    if (COUNTER_SUFFIXES[family.type]?.includes(suffix)) return { type: 'sum', help: family.help, unit: family.unit }
    if (GAUGE_SUFFIXES[family.type]?.includes(suffix)) return { type: 'gauge', help: family.help, unit: family.unit }
  }
  return { type: guessedType(name), help: '', unit: '', guessed: true }
}

/**
 * The type of series `name` from the metadata that comes with it (remote write 2.0 sends a
 * series' family metadata with each series, under the series' own name): a counter's series
 * and a histogram's or summary's `_bucket`/`_count`/`_sum` are counters, a gauge histogram's
 * buckets and every other typed series gauges (a summary's quantiles go down). Without a type
 * (0, unknown), by the name, as `seriesTyping` guesses.
 */
export function typingFromMetadata(name: string, family: MetricFamily): SeriesTyping {
  const { type, help, unit } = family
  if (type === FAMILY_TYPE.UNKNOWN) return { type: guessedType(name), help, unit, guessed: true }
  if (type === FAMILY_TYPE.COUNTER) return { type: 'sum', help, unit }
  const counter = COUNTER_SUFFIXES[type]?.some((suffix) => name.endsWith(suffix)) === true
  return { type: counter ? 'sum' : 'gauge', help, unit }
}
