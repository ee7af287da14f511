import { PointBatch, type ExpBuckets } from '../model/batch.ts'
import type { SeriesCache } from '../model/series-cache.ts'
import { entriesKey } from '../model/series-key.ts'
import type { Attributes, MetricType, SeriesInfo, Temporality } from '../model/types.ts'
import { exemplarLabelChars, MAX_EXEMPLAR_LABEL_CHARS, type HeldExemplar } from './exemplars.ts'
import { FLAGS, INT32, MILLIS, QUANTILE, SCALE, UINT64, badBound, type NumberRule } from './point-limits.ts'

/** What a decoder makes of one OTLP request body. */
export interface DecodeResult {
  /** The points that can be stored, with the series they refer to. */
  batch: PointBatch
  /** Data points that could not be stored (see `BatchBuilder` for the rules). */
  rejected: number
  /** Up to `MAX_ERRORS` distinct reasons for the rejections, for `partialSuccess.errorMessage`. */
  errors: string[]
  /** Exemplars dropped (labels over MAX_EXEMPLAR_LABEL_CHARS, a time out of range); their points are kept. */
  exemplarsDropped: number
}

/** How many distinct rejection reasons a result keeps. */
export const MAX_ERRORS = 5

/** The `service` of a resource without `service.name`, as the OTel SDKs default to. */
export const UNKNOWN_SERVICE = 'unknown_service'

/** AnyValue arrays and kvlists nested deeper than this are a malformed body. */
export const MAX_VALUE_DEPTH = 32

/** The OTLP AggregationTemporality enum number as stored: 1 delta, 2 cumulative. */
export function temporalityOf(value: number): Temporality {
  return value === 1 ? 'delta' : value === 2 ? 'cumulative' : 'unspecified'
}

/**
 * Attribute maps are made by `new` on this constructor, whose prototype is an empty object with
 * no prototype of its own: nothing is inherited, so a key such as `__proto__` or `constructor`
 * is stored as data instead of reaching Object.prototype. `Object.create(null)` would do the
 * same, but V8 keeps such objects in dictionary mode: maps made with `new` share hidden classes
 * by label set, and take less memory and time per series (see bench/decode-turn.ts).
 */
const AttributeMap = function AttributeMap() {} as unknown as new () => Attributes
AttributeMap.prototype = Object.create(null) as Attributes

/** A fresh attribute map: nothing inherited (see AttributeMap). */
export function newAttributes(): Attributes {
  return new AttributeMap()
}

/** A double inside an array or kvlist's JSON text; non-finite values as quoted strings. */
export function doubleJson(value: number): string {
  return Number.isFinite(value) ? String(value) : `"${String(value)}"`
}

/** Bytes as standard base64, the OTLP JSON encoding of `bytes`. */
export function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
}

/**
 * Milliseconds since the epoch from a fixed64 nanosecond timestamp given as two unsigned
 * 32-bit halves, exactly `floor(ns / 1e6)` without a BigInt.
 *
 * `hi * 2^32 + lo` is not exact past 2^53 ns (April 1970), so split 2^32 = 4294 * 1e6 + 967296:
 *   ns = hi * 4294 * 1e6 + (hi * 967296 + lo)
 * The second term stays below 2^53, so its division is done on exact integers; the quotient
 * is then corrected once because a rounded `a / 1e6` may land on the next integer.
 */
export function millisFromNanoHalves(lo: number, hi: number): number {
  const rest = hi * 967_296 + lo
  let q = Math.floor(rest / 1e6)
  if (q * 1e6 > rest) q--
  return hi * 4294 + q
}

const NO_VALUE = 'number data point has neither asInt nor asDouble'

/** Why every point of a metric sent as `type` is refused when its name is stored as `stored`. */
function typeConflict(type: MetricType, stored: MetricType): string {
  return `type ${type} contradicts the stored type ${stored}: points of another type are refused (send them under another name)`
}

/**
 * Collects decoded points into a PointBatch, applying the rules both decoders share.
 * Decoders set the current resource, scope and metric, then hand over each point; a point
 * that cannot be stored is counted and its reason kept instead:
 *
 *   - time is 0 or missing, or not finite; start time not finite
 *   - time older than `oldestMillis` (the retention: the store would drop it at once)
 *   - a number point with no value
 *   - a histogram whose bucket counts are not one more than its bounds (both empty is fine)
 *   - every point of a metric with an empty name (`rejectPoints` by the decoder)
 *   - every point of a metric whose type contradicts the type stored for its name
 *     (`SeriesCache.types`): the message names the metric, the stored and the sent type
 *   - a number its column cannot hold, or that OTLP forbids (see point-limits.ts): a negative
 *     or fractional count, flags past 255, a scale outside -10..20, unsorted bounds...
 *
 * So a batch holds only values its columns take: the store never refuses its rows.
 * Timestamps are milliseconds (0 = missing, NaN = not finite). Decoders name the point a
 * rejection is about with `atPoint`; field names are OTLP's (protobuf spelling).
 */
export class BatchBuilder {
  #batch = new PointBatch()
  readonly #cache: SeriesCache
  #rejected = 0
  readonly #errors: string[] = []
  #exemplarsDropped = 0
  /** The exemplars of the point being decoded: stored with it, dropped with it (see holdExemplars). */
  #held: readonly HeldExemplar[] | undefined

  #service = UNKNOWN_SERVICE
  #resource: Attributes = newAttributes()
  #scope = ''
  #metric = ''
  #type: MetricType = 'gauge'
  #temporality: Temporality = 'unspecified'
  #monotonic = false
  #unit = ''
  #description = ''
  /** Index of the current point among its metric's data points; -1 when unknown. */
  #point = -1
  /** Why every point of the current metric is refused (its type contradicts the stored one); '' when none. */
  #typeConflict = ''
  /** The current metric's type is not known yet: learned from its first admitted point. */
  #typeUnknown = false
  /** Resource attributes as canonical text (`entriesKey`), and the context key of the current metric. */
  #resourceKey = '[]'
  #encodings = new Map<string, SeriesInfo>()

  readonly #oldestMillis: number

  /** `oldestMillis`: points older than this are rejected (0 keeps every time). */
  constructor(cache: SeriesCache, oldestMillis = 0) {
    this.#cache = cache
    this.#oldestMillis = oldestMillis
  }

  /** Starts the points of a resource; its attributes are shared by all of them. */
  setResource(attributes: Attributes): void {
    this.#resource = attributes
    this.#service = attributes['service.name'] || UNKNOWN_SERVICE
    this.#resourceKey = entriesKey(attributes)
  }

  /** Starts the points of an instrumentation scope. */
  setScope(name: string): void {
    this.#scope = name
  }

  /**
   * Starts the points of a metric. Gauges and summaries are always `unspecified`, never monotonic.
   *
   * `guessed`: the type was inferred from the name alone (remote write without metadata), and
   * is not learned as the metric's type (its metadata may come later and say otherwise).
   *
   * `yields`: a gauge or sum yields to a stored gauge or sum instead of being refused. Remote
   * write sets it always: its samples are the same rows whichever of the two they are typed,
   * and a metric first stored on a guess (its metadata came later, in a request of its own)
   * must not lose every sample after. Default: `guessed`.
   */
  setMetric(
    name: string,
    description: string,
    unit: string,
    type: MetricType,
    temporality: Temporality,
    monotonic: boolean,
    guessed = false,
    yields = guessed,
  ): void {
    const stored = this.#cache.types.get(name)
    if (
      yields &&
      stored !== undefined &&
      stored !== type &&
      (stored === 'sum' || stored === 'gauge') &&
      (type === 'sum' || type === 'gauge')
    ) {
      type = stored
      monotonic = stored === 'sum'
      temporality = stored === 'sum' ? 'cumulative' : 'unspecified'
    }
    this.#metric = name
    this.#description = description
    this.#unit = unit
    this.#type = type
    const temporal = type === 'sum' || type === 'histogram' || type === 'exponential_histogram'
    this.#temporality = temporal ? temporality : 'unspecified'
    this.#monotonic = type === 'sum' && monotonic
    this.#point = -1
    // One lookup per metric, not per point: a name stored as a gauge and sent as a sum
    // would merge both into one series; every point of it is refused instead.
    this.#typeUnknown = stored === undefined && !guessed
    this.#typeConflict = stored === undefined || stored === type ? '' : typeConflict(type, stored)
    // A refused metric gets a map of its own: no series of it is ever known.
    this.#encodings =
      this.#typeConflict !== ''
        ? new Map()
        : this.#cache.encodings(
            JSON.stringify([
              this.#resourceKey,
              this.#scope,
              name,
              description,
              unit,
              type,
              this.#temporality,
              this.#monotonic,
            ]),
          )
  }

  /** The index of the next point among its metric's data points, for rejection reasons. */
  atPoint(index: number): void {
    this.#point = index
  }

  /**
   * The series of the current metric whose point attributes were encoded as `encoded` (see
   * SeriesCache.byEncoding), when it has been seen before; undefined otherwise.
   */
  knownSeries(encoded: string): SeriesInfo | undefined {
    return this.#encodings.get(encoded)
  }

  /**
   * Resolves a series from decoded attributes and remembers it under its encoded form.
   * Undefined when the series limit refuses it: `points` points are then counted as
   * rejected, and the series is not remembered, so it is asked again next time.
   */
  resolveSeries(attributes: Attributes, encoded: string | undefined, points = 1): SeriesInfo | undefined {
    const info = this.#admitted(attributes, points)
    if (info !== undefined && encoded !== undefined) this.#cache.rememberEncoding(this.#encodings, encoded, info)
    return info
  }

  /** A gauge or sum point of an already resolved series (see `knownSeries`). */
  sampleOf(series: SeriesInfo, ts: number, start: number, flags: number, value: number | undefined): void {
    if (!this.#timesOk(ts, start)) return
    // FLAGS inline: this is the path of every sample.
    if ((flags & 0xff) !== flags) return this.rejectValue('flags', flags, FLAGS.expected)
    if (value === undefined) return this.rejectPoints(NO_VALUE)
    this.#batch.series.set(series.id, series)
    this.#batch.samples.push(series, ts, start, flags, value)
    if (this.#held !== undefined) this.#attach(series, ts)
  }

  /**
   * Holds the exemplars of the next point a decoder hands over: they are stored with it when
   * it is stored, on its series, and dropped when it is not. Decoders call it only for a point
   * that has exemplars, and `holdExemplars(undefined)` right after the point.
   */
  holdExemplars(exemplars: readonly HeldExemplar[] | undefined): void {
    this.#held = exemplars
  }

  /**
   * An exemplar of a resolved series (remote write: exemplars belong to a series, not to a
   * point). Dropped and counted when its labels are over Prometheus' limit or its time is
   * missing or out of range.
   */
  exemplarOf(series: SeriesInfo, ts: number, value: number, labels: Attributes): void {
    if (ts === 0 || !MILLIS.ok(ts) || exemplarLabelChars(labels) > MAX_EXEMPLAR_LABEL_CHARS) {
      this.#exemplarsDropped++
      return
    }
    this.#batch.series.set(series.id, series)
    this.#batch.exemplars.push(series, ts, value, labels)
  }

  /** Stores the held exemplars on the series of the point just stored, at `ts` when they carry no time of their own. */
  #attach(series: SeriesInfo, ts: number): void {
    for (const e of this.#held!) this.exemplarOf(series, e.ts === 0 ? ts : e.ts, e.value, e.labels)
    this.#held = undefined
  }

  /** Counts `points` rejected points of the current metric and keeps the reason. */
  rejectPoints(reason: string, points = 1): void {
    this.#rejected += points
    if (this.#errors.length >= MAX_ERRORS) return
    const message = this.#metric === '' ? reason : `metric "${this.#metric}": ${reason}`
    if (!this.#errors.includes(message)) this.#errors.push(message)
  }

  /** Rejects the current point for a field whose value is out of bounds (see `atPoint`). */
  rejectValue(field: string, value: number | string, expected: string): void {
    this.rejectPoints(
      `${this.#point < 0 ? 'data point' : `data point ${this.#point}`}: ${field} is ${value}, expected ${expected}`,
    )
  }

  /** A gauge or sum point; `value` undefined when the point had neither asInt nor asDouble. */
  sample(attributes: Attributes, ts: number, start: number, flags: number, value: number | undefined): void {
    if (!this.#timesOk(ts, start)) return
    // FLAGS inline: this is the path of every sample.
    if ((flags & 0xff) !== flags) return this.rejectValue('flags', flags, FLAGS.expected)
    if (value === undefined) return this.rejectPoints(NO_VALUE)
    const s = this.#series(attributes)
    if (s === undefined) return
    this.#batch.samples.push(s, ts, start, flags, value)
    if (this.#held !== undefined) this.#attach(s, ts)
  }

  /** A histogram point; `sum`, `min`, `max` NaN when absent. */
  histogram(
    attributes: Attributes,
    ts: number,
    start: number,
    flags: number,
    count: number,
    sum: number,
    min: number,
    max: number,
    bounds: number[],
    counts: number[],
  ): void {
    if (!this.#timesOk(ts, start)) return
    if (counts.length !== bounds.length + 1 && (counts.length !== 0 || bounds.length !== 0)) {
      return this.rejectPoints(
        `histogram data point has ${counts.length} bucket counts for ${bounds.length} explicit bounds (expected bounds + 1)`,
      )
    }
    if (
      !this.#fits('flags', flags, FLAGS) ||
      !this.#fits('count', count, UINT64) ||
      !this.#allFit('bucket_counts', counts, UINT64)
    )
      return
    const bad = badBound(bounds)
    if (bad >= 0) {
      return this.rejectValue(
        `explicit_bounds[${bad}]`,
        bounds[bad]!,
        bad === 0
          ? 'a finite number'
          : `a finite number above explicit_bounds[${bad - 1}] (${bounds[bad - 1]!}): bounds are strictly increasing`,
      )
    }
    const s = this.#series(attributes)
    if (s === undefined) return
    this.#batch.histograms.push(s, ts, start, flags, count, sum, min, max, bounds, counts)
    if (this.#held !== undefined) this.#attach(s, ts)
  }

  /** An exponential histogram point; `sum`, `min`, `max` NaN when absent. */
  expHistogram(
    attributes: Attributes,
    ts: number,
    start: number,
    flags: number,
    count: number,
    sum: number,
    min: number,
    max: number,
    scale: number,
    zeroCount: number,
    zeroThreshold: number,
    positive: ExpBuckets,
    negative: ExpBuckets,
  ): void {
    if (!this.#timesOk(ts, start)) return
    if (
      !this.#fits('flags', flags, FLAGS) ||
      !this.#fits('count', count, UINT64) ||
      !this.#fits('scale', scale, SCALE) ||
      !this.#fits('zero_count', zeroCount, UINT64) ||
      !this.#fits('positive.offset', positive.offset, INT32) ||
      !this.#allFit('positive.bucket_counts', positive.counts, UINT64) ||
      !this.#fits('negative.offset', negative.offset, INT32) ||
      !this.#allFit('negative.bucket_counts', negative.counts, UINT64)
    )
      return
    const s = this.#series(attributes)
    if (s === undefined) return
    this.#batch.expHistograms.push(
      s,
      ts,
      start,
      flags,
      count,
      sum,
      min,
      max,
      scale,
      zeroCount,
      zeroThreshold,
      positive,
      negative,
    )
    if (this.#held !== undefined) this.#attach(s, ts)
  }

  /** A summary point. */
  summary(
    attributes: Attributes,
    ts: number,
    start: number,
    flags: number,
    count: number,
    sum: number,
    quantiles: number[],
    values: number[],
  ): void {
    if (!this.#timesOk(ts, start) || !this.#fits('flags', flags, FLAGS) || !this.#fits('count', count, UINT64)) return
    for (let i = 0; i < quantiles.length; i++) {
      if (!this.#fits(`quantile_values[${i}].quantile`, quantiles[i]!, QUANTILE)) return
    }
    const s = this.#series(attributes)
    if (s !== undefined) this.#batch.summaries.push(s, ts, start, flags, count, sum, quantiles, values)
  }

  /**
   * The points collected since the builder began or since the last cut, as a batch of their
   * own; the points that follow go into a new one. Rejections keep counting across cuts.
   */
  cut(): PointBatch {
    const batch = this.#batch
    this.#batch = new PointBatch()
    return batch
  }

  /** The batch, the rejected count and the reasons. */
  result(): DecodeResult {
    return {
      batch: this.#batch,
      rejected: this.#rejected,
      errors: this.#errors,
      exemplarsDropped: this.#exemplarsDropped,
    }
  }

  #timesOk(ts: number, start: number): boolean {
    // The common case in one test; the reasons are worked out only for a point that fails it.
    if (ts !== 0 && Number.isSafeInteger(ts) && Number.isSafeInteger(start) && ts >= this.#oldestMillis) return true
    if (ts === 0) this.rejectPoints('data point has no time_unix_nano (missing or 0)')
    else if (!Number.isFinite(ts)) this.rejectPoints('data point time_unix_nano is not a finite number')
    else if (!Number.isFinite(start)) this.rejectPoints('data point start_time_unix_nano is not a finite number')
    else if (!MILLIS.ok(ts)) this.rejectValue('time', ts, MILLIS.expected)
    else if (!MILLIS.ok(start)) this.rejectValue('start time', start, MILLIS.expected)
    else this.rejectPoints(`data point is older than the retention (${new Date(this.#oldestMillis).toISOString()})`)
    return false
  }

  /** Whether `value` fits its column; rejects the point when not. */
  #fits(field: string, value: number, rule: NumberRule): boolean {
    if (rule.ok(value)) return true
    this.rejectValue(field, value, rule.expected)
    return false
  }

  #allFit(field: string, values: readonly number[], rule: NumberRule): boolean {
    for (let i = 0; i < values.length; i++) {
      if (!rule.ok(values[i]!)) {
        this.rejectValue(`${field}[${i}]`, values[i]!, rule.expected)
        return false
      }
    }
    return true
  }

  #series(attributes: Attributes): SeriesInfo | undefined {
    const info = this.#admitted(attributes, 1)
    if (info !== undefined) this.#batch.series.set(info.id, info)
    return info
  }

  #admitted(attributes: Attributes, points: number): SeriesInfo | undefined {
    if (this.#typeUnknown) {
      // A request decoded in slices lets others run in between: one of them may have stored
      // this metric under another type since setMetric looked (a first point refused by the
      // series limit leaves the type unlearned across slices).
      const stored = this.#cache.types.get(this.#metric)
      if (stored !== undefined && stored !== this.#type) {
        this.#typeUnknown = false
        this.#typeConflict = typeConflict(this.#type, stored)
        this.#encodings = new Map()
      }
    }
    if (this.#typeConflict !== '') {
      this.rejectPoints(this.#typeConflict, points)
      return undefined
    }
    const info = this.#resolve(attributes)
    const refused = this.#cache.admit(info)
    if (refused === undefined) {
      if (this.#typeUnknown) {
        this.#cache.types.learn(this.#metric, this.#type)
        this.#typeUnknown = false
      }
      return info
    }
    this.rejectPoints(refused, points)
    return undefined
  }

  #resolve(attributes: Attributes): SeriesInfo {
    return this.#cache.resolve(
      {
        metric: this.#metric,
        type: this.#type,
        temporality: this.#temporality,
        monotonic: this.#monotonic,
        unit: this.#unit,
        description: this.#description,
        service: this.#service,
        scope: this.#scope,
        resource: this.#resource,
        attributes,
      },
      this.#resourceKey,
    )
  }
}
