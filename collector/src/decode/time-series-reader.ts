import type { Attributes, SeriesInfo } from '../model/types.ts'
import { UNKNOWN_SERVICE, newAttributes, type BatchBuilder } from './decode-result.ts'
import { staleFlags } from './stale-marker.ts'
import { I64, LEN, VARINT, type ProtobufReader } from './protobuf-reader.ts'
import { addNativeHistogram, readNativeHistogram } from './native-histogram.ts'
import { seriesTyping, type MetricFamilies } from './remote-write-typing.ts'

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s)
const NAME_LABEL = ascii('__name__')
const SERVICE_LABELS = [ascii('service_name'), ascii('service'), ascii('job')] as const

/** `labelsStart` of a series whose labels are not one run of bytes: it has no encoded key. */
const SCATTERED = -2

/** How many series are stored between two looks at the clock (see `TimeSeriesReader.store`). */
const SERIES_PER_CHECK = 32

/**
 * Reads the TimeSeries of one request into the batch in two steps:
 *
 *   scan   delimit each series: its label bytes, the offsets of its name and service values,
 *          its sample count; only label names are looked at (as bytes), nothing is decoded
 *   store  visit the series grouped by (service, metric name), so that the builder's
 *          resource and metric context (a canonical key each) is set once per group, not
 *          once per series: senders interleave series of many jobs and metrics
 *
 * Within a group, a series seen before is found by its raw label bytes (knownSeries);
 * only a new one has its labels decoded.
 *
 * `store` may stop part way and go on from there at its next call, so that a large request of
 * new series is stored over several event-loop turns (see receivers/remote-write.ts); the
 * builder keeps the group's context in between.
 */
export class TimeSeriesReader {
  readonly #r: ProtobufReader
  readonly #body: Uint8Array
  readonly #b: BatchBuilder
  readonly #families: MetricFamilies
  // One entry per scanned series (parallel arrays: no object per series).
  readonly #start: number[] = []
  readonly #end: number[] = []
  /** First byte of the labels, -1 when there are none, SCATTERED when not contiguous. */
  readonly #labelsStart: number[] = []
  readonly #labelsEnd: number[] = []
  /** Offsets of the length prefixes of the name and service values; -1 when absent. */
  readonly #nameAt: number[] = []
  readonly #serviceAt: number[] = []
  readonly #samples: number[] = []
  readonly #histograms: number[] = []
  readonly #exemplars: number[] = []
  readonly #group: number[] = []
  readonly #groups = new Map<string, number>()
  /** Label name and value offsets of the series being decoded (see #label). */
  readonly #names: number[] = []
  readonly #values: number[] = []
  #labels = 0
  /** The series in the order `store` visits them, once it has begun; the next one to store; its group. */
  #order: number[] | undefined
  #next = 0
  #current = -1

  constructor(r: ProtobufReader, body: Uint8Array, b: BatchBuilder, families: MetricFamilies) {
    this.#r = r
    this.#body = body
    this.#b = b
    this.#families = families
  }

  /** Delimits one TimeSeries ending at `end` and checks its labels' structure. */
  scan(end: number): void {
    const r = this.#r
    const start = r.pos
    let labelsStart = -1
    let labelsEnd = -1
    let samples = 0
    let histograms = 0
    let exemplars = 0
    let nameAt = -1
    // Value offsets of service_name, service and job, in that order of precedence.
    let service0 = -1,
      service1 = -1,
      service2 = -1
    this.#labels = 0
    while (r.pos < end) {
      const at = r.pos
      const tag = r.tag()
      switch (tag >>> 3) {
        case 1: {
          r.expect(tag, LEN, 'TimeSeries.labels')
          if (labelsStart === -1) labelsStart = at
          else if (at !== labelsEnd) labelsStart = SCATTERED
          const i = this.#label(r.delimitedEnd())
          labelsEnd = r.pos
          const valueAt = this.#values[i]!
          if (this.#nameIs(i, NAME_LABEL)) nameAt = valueAt
          else if (this.#nameIs(i, SERVICE_LABELS[0])) service0 = valueAt
          else if (this.#nameIs(i, SERVICE_LABELS[1])) service1 = valueAt
          else if (this.#nameIs(i, SERVICE_LABELS[2])) service2 = valueAt
          break
        }
        case 2:
          r.expect(tag, LEN, 'TimeSeries.samples')
          r.pos = r.delimitedEnd()
          samples++
          break
        case 4:
          r.expect(tag, LEN, 'TimeSeries.histograms')
          r.pos = r.delimitedEnd()
          histograms++
          break
        case 3:
          // Prometheus sends a series' exemplars in a TimeSeries of their own, without samples.
          r.expect(tag, LEN, 'TimeSeries.exemplars')
          r.pos = r.delimitedEnd()
          exemplars++
          break
        default:
          r.skip(tag)
      }
    }
    r.endOf(end, 'TimeSeries')
    if (samples === 0 && histograms === 0 && exemplars === 0) return
    // An empty value counts as absent, as in Prometheus.
    const serviceAt = this.#nonEmpty(service0) ?? this.#nonEmpty(service1) ?? this.#nonEmpty(service2) ?? -1
    // The length-prefixed value bytes of name and service, side by side, identify the group.
    // Senders often send a metric's series one after another: the same name and service bytes
    // as the series before reuse its group without building a key.
    const n = this.#group.length
    let group: number | undefined
    if (n > 0 && this.#sameField(nameAt, this.#nameAt[n - 1]!) && this.#sameField(serviceAt, this.#serviceAt[n - 1]!))
      group = this.#group[n - 1]!
    else {
      const key = this.#rawField(nameAt) + this.#rawField(serviceAt)
      group = this.#groups.get(key)
      if (group === undefined) {
        group = this.#groups.size
        this.#groups.set(key, group)
      }
    }
    this.#start.push(start)
    this.#end.push(end)
    this.#labelsStart.push(labelsStart)
    this.#labelsEnd.push(labelsEnd)
    this.#nameAt.push(nameAt)
    this.#serviceAt.push(serviceAt)
    this.#samples.push(samples)
    this.#histograms.push(histograms)
    this.#exemplars.push(exemplars)
    this.#group.push(group)
  }

  /**
   * Adds the samples of the scanned series to the batch, group by group, from where the last
   * call stopped, until `stop()` says so (asked every SERIES_PER_CHECK series) or every series
   * is stored. Returns whether every series is.
   */
  store(stop?: () => boolean): boolean {
    const order = (this.#order ??= this.#grouped())
    const n = order.length
    let i = this.#next
    while (i < n) {
      const series = order[i++]!
      if (this.#group[series] !== this.#current) {
        this.#current = this.#group[series]!
        this.#enter(series)
      }
      this.#series(series)
      if (stop !== undefined && i % SERIES_PER_CHECK === 0 && i < n && stop()) break
    }
    this.#next = i
    return i === n
  }

  /** The scanned series by group, stable: series keep their order within a group (a counting sort). */
  #grouped(): number[] {
    const n = this.#start.length
    const first = new Array<number>(this.#groups.size + 1).fill(0)
    for (let i = 0; i < n; i++) first[this.#group[i]! + 1]!++
    for (let g = 1; g < first.length; g++) first[g]! += first[g - 1]!
    const order = new Array<number>(n)
    for (let i = 0; i < n; i++) order[first[this.#group[i]!]!++] = i
    return order
  }

  /** Sets the builder's resource and metric for the group of series `i`. */
  #enter(i: number): void {
    const name = this.#stringAt(this.#nameAt[i]!)
    const service = this.#stringAt(this.#serviceAt[i]!) || UNKNOWN_SERVICE
    const resource = newAttributes()
    resource['service.name'] = service
    this.#b.setResource(resource)
    const t = seriesTyping(name, this.#families)
    const counter = t.type === 'sum'
    // Sum or gauge, a sample yields to the type stored for its name (see BatchBuilder.setMetric).
    this.#b.setMetric(
      name,
      t.help,
      t.unit,
      t.type,
      counter ? 'cumulative' : 'unspecified',
      counter,
      t.guessed === true,
      true,
    )
  }

  #series(i: number): void {
    // Exemplars belong to the series of the samples, or of the native histograms when the
    // TimeSeries has only those.
    const onHistograms = this.#samples[i]! === 0 && this.#histograms[i]! > 0
    if (this.#samples[i]! > 0 || (this.#exemplars[i]! > 0 && !onHistograms)) this.#floatSamples(i)
    if (this.#histograms[i]! > 0) this.#nativeHistograms(i)
  }

  #floatSamples(i: number): void {
    const b = this.#b
    const samples = this.#samples[i]!
    if (this.#nonEmpty(this.#nameAt[i]!) === undefined) return b.rejectPoints('series has no __name__ label', samples)

    const r = this.#r
    const labelsStart = this.#labelsStart[i]!
    const encoded =
      labelsStart === SCATTERED ? undefined : labelsStart === -1 ? '' : r.bytesKey(labelsStart, this.#labelsEnd[i]!)
    const series =
      (encoded === undefined ? undefined : b.knownSeries(encoded)) ??
      b.resolveSeries(this.#attributes(i), encoded, samples)
    if (series === undefined) return // refused by the series limit; its samples are counted
    const end = this.#end[i]!
    r.pos = this.#start[i]!
    while (r.pos < end) {
      const tag = r.tag()
      const field = tag >>> 3
      if (field === 2) this.#sample(r.delimitedEnd(), series)
      else if (field === 3) this.#exemplar(r.delimitedEnd(), series)
      else r.skip(tag)
    }
  }

  /** One Exemplar of `series`: its labels, value and time (int64 ms). */
  #exemplar(end: number, series: SeriesInfo): void {
    const r = this.#r
    const labels = newAttributes()
    let value = 0
    let ts = 0
    while (r.pos < end) {
      const tag = r.tag()
      const field = tag >>> 3
      if (field === 1) {
        r.expect(tag, LEN, 'Exemplar.labels')
        exemplarLabel(r, r.delimitedEnd(), labels)
      } else if (field === 2) {
        r.expect(tag, I64, 'Exemplar.value')
        value = r.double()
      } else if (field === 3) {
        r.expect(tag, VARINT, 'Exemplar.timestamp')
        ts = r.int64()
      } else r.skip(tag)
    }
    r.endOf(end, 'Exemplar')
    this.#b.exemplarOf(series, ts, value, labels)
  }

  /**
   * The native histograms of series `i`, stored as exponential histogram points of its name
   * (see native-histogram.ts). The builder's metric changes for them: the next series sets
   * its group's again.
   */
  #nativeHistograms(i: number): void {
    const b = this.#b
    const name = this.#stringAt(this.#nameAt[i]!)
    if (name === '') return b.rejectPoints('series has no __name__ label', this.#histograms[i]!)
    const t = seriesTyping(name, this.#families)
    b.setMetric(name, t.help, t.unit, 'exponential_histogram', 'cumulative', false)
    this.#current = -1
    const attributes = this.#attributes(i)
    const r = this.#r
    const end = this.#end[i]!
    r.pos = this.#start[i]!
    while (r.pos < end) {
      const tag = r.tag()
      if (tag >>> 3 === 4) addNativeHistogram(b, attributes, 0, readNativeHistogram(r, r.delimitedEnd()))
      else r.skip(tag)
    }
    if (this.#samples[i]! > 0 || this.#exemplars[i]! === 0) return
    const series = b.resolveSeries(attributes, undefined, 0)
    if (series === undefined) return
    r.pos = this.#start[i]!
    while (r.pos < end) {
      const tag = r.tag()
      if (tag >>> 3 === 3) this.#exemplar(r.delimitedEnd(), series)
      else r.skip(tag)
    }
  }

  /** Delimits one Label, records where its name and value are, and returns its index. */
  #label(end: number): number {
    const r = this.#r
    let nameAt = -1
    let valueAt = -1
    while (r.pos < end) {
      const tag = r.tag()
      const field = tag >>> 3
      if (field === 1 || field === 2) {
        r.expect(tag, LEN, field === 1 ? 'Label.name' : 'Label.value')
        if (field === 1) nameAt = r.pos
        else valueAt = r.pos
        r.pos = r.delimitedEnd()
      } else r.skip(tag)
    }
    r.endOf(end, 'Label')
    const i = this.#labels++
    this.#names[i] = nameAt
    this.#values[i] = valueAt
    return i
  }

  /** Whether label `i`'s name is exactly `expected` (compared as bytes, nothing decoded). */
  #nameIs(i: number, expected: Uint8Array): boolean {
    const at = this.#names[i]!
    if (at < 0) return false
    const body = this.#body
    // Label names are short: a one-byte length prefix is all that can match.
    if (body[at] !== expected.length) return false
    for (let k = 0; k < expected.length; k++) if (body[at + 1 + k] !== expected[k]) return false
    return true
  }

  /** Whether the length-prefixed fields at `a` and `b` (-1: absent) hold the same bytes; short ones only. */
  #sameField(a: number, b: number): boolean {
    if (a === b) return true
    if (a < 0 || b < 0) return false
    const body = this.#body
    const n = body[a]!
    // A one-byte length prefix (under 128 bytes) or no shortcut: the key path decides.
    if (n >= 0x80 || body[b] !== n) return false
    for (let k = 1; k <= n; k++) if (body[a + k] !== body[b + k]) return false
    return true
  }

  /** `at` when the length-prefixed value there is not empty. */
  #nonEmpty(at: number): number | undefined {
    return at >= 0 && this.#body[at] !== 0 ? at : undefined
  }

  /** The length-prefixed field at `at` as raw bytes (a map key), '' when -1. */
  #rawField(at: number): string {
    if (at < 0) return ''
    const r = this.#r
    const pos = r.pos
    r.pos = at
    const end = r.delimitedEnd()
    r.pos = pos
    return r.bytesKey(at, end)
  }

  /** The string whose length prefix is at `at`, '' when -1. Leaves the cursor where it was. */
  #stringAt(at: number): string {
    if (at < 0) return ''
    const r = this.#r
    const pos = r.pos
    r.pos = at
    const s = r.string()
    r.pos = pos
    return s
  }

  /** Every label of series `i` but `__name__`, as point attributes (a series not seen before). */
  #attributes(i: number): Attributes {
    const r = this.#r
    const end = this.#end[i]!
    this.#labels = 0
    r.pos = this.#start[i]!
    while (r.pos < end) {
      const tag = r.tag()
      if (tag >>> 3 === 1) this.#label(r.delimitedEnd())
      else r.skip(tag)
    }
    const attributes = newAttributes()
    for (let k = 0; k < this.#labels; k++) {
      if (this.#nameIs(k, NAME_LABEL)) continue
      attributes[this.#stringAt(this.#names[k]!)] = this.#stringAt(this.#values[k]!)
    }
    return attributes
  }

  #sample(end: number, series: SeriesInfo): void {
    const r = this.#r
    let value = 0
    let ts = 0
    let flags = 0
    while (r.pos < end) {
      const tag = r.tag()
      const field = tag >>> 3
      if (field === 1) {
        r.expect(tag, I64, 'Sample.value')
        const at = r.pos
        value = r.double()
        flags = 0
        if (value !== value) flags = staleFlags(r, at)
      } else if (field === 2) {
        r.expect(tag, VARINT, 'Sample.timestamp')
        ts = r.int64()
      } else r.skip(tag)
    }
    r.endOf(end, 'Sample')
    this.#b.sampleOf(series, ts, 0, flags, value)
  }
}

/** One Label of an exemplar into `labels`. */
function exemplarLabel(r: ProtobufReader, end: number, labels: Attributes): void {
  let name = ''
  let value = ''
  while (r.pos < end) {
    const tag = r.tag()
    const field = tag >>> 3
    if (field === 1 || field === 2) {
      r.expect(tag, LEN, field === 1 ? 'Label.name' : 'Label.value')
      if (field === 1) name = r.string()
      else value = r.string()
    } else r.skip(tag)
  }
  r.endOf(end, 'Label')
  labels[name] = value
}
