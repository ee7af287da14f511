import type { PointBatch } from '../model/batch.ts'
import type { SeriesCache } from '../model/series-cache.ts'
import type { Attributes, SeriesInfo } from '../model/types.ts'
import { BatchBuilder, UNKNOWN_SERVICE, newAttributes } from './decode-result.ts'
import { staleFlags } from './stale-marker.ts'
import { I64, LEN, ProtobufReader, VARINT } from './protobuf-reader.ts'
import { addNativeHistogram, readNativeHistogram } from './native-histogram.ts'
import { remoteWriteError } from './remote-write.ts'
import { typingFromMetadata, type SeriesTyping } from './remote-write-typing.ts'

/*
 * Field numbers of io.prometheus.write.v2 (remote write 2.0, prompb/io/prometheus/write/v2/types.proto):
 *
 *   Request     4 symbols (string)  5 timeseries
 *   TimeSeries  1 labels_refs (packed uint32: name, value, name, value…)  2 samples
 *               3 histograms  4 exemplars  5 metadata  6 created_timestamp (int64 ms)
 *   Sample      1 value (double)  2 timestamp (int64 ms)  3 start_timestamp (int64 ms)
 *   Metadata    1 type (enum, as in 1.0)  3 help_ref  4 unit_ref
 *
 * Every string is a reference into the request's symbols table, whose first entry is the empty
 * string. Metadata and the counter's start (created timestamp) travel with each series.
 */

/** Label names that name the service, in order of precedence (as remote write 1.0 reads them). */
const SERVICE_LABELS = ['service_name', 'service', 'job'] as const
/** How many series are stored between two looks at the clock (see `next`). */
const SERIES_PER_CHECK = 32
/**
 * Prefix of the keys under which this decoder remembers a series by its label strings: remote
 * write 1.0 remembers series by their protobuf label bytes in the same maps, and those begin
 * with a field tag, never with this character.
 */
const KEY_PREFIX = '\u0002'

/** The samples, histograms and exemplars of a request that were stored, as the 2.0 answer headers report them. */
export interface Written {
  samples: number
  histograms: number
  exemplars: number
}

/**
 * Decodes a remote write 2.0 `Request` (already decompressed) in slices, as
 * `RemoteWriteDecoding` does a 1.0 `WriteRequest`: the constructor reads the symbols and
 * delimits every series (a body that is not a Request throws `GOV_ERR_RW_MALFORMED` there),
 * `next(stop)` decodes series until `stop()` says so and returns their points.
 *
 * Series are typed by their own metadata (see `typingFromMetadata`); the created timestamp of
 * a counter is its start. Native histograms are stored as exponential histograms (see
 * native-histogram.ts). Exemplars are stored with the series' samples (or its native
 * histograms when it has no samples); one whose labels are over Prometheus' limit is dropped.
 */
export class RemoteWriteV2Decoding {
  readonly #r: ProtobufReader
  readonly #b: BatchBuilder
  readonly #symbols: string[] = []
  readonly #start: number[] = []
  readonly #end: number[] = []
  #next = 0
  /** Name and service of the builder's current metric: a change of either sets it again. */
  #metric: string | undefined
  #service: string | undefined
  #typing: SeriesTyping | undefined

  constructor(body: Uint8Array, cache: SeriesCache, oldestMillis = 0) {
    const r = (this.#r = new ProtobufReader(body))
    this.#b = new BatchBuilder(cache, oldestMillis)
    try {
      const end = r.length
      while (r.pos < end) {
        const tag = r.tag()
        const field = tag >>> 3
        if (field === 4) {
          r.expect(tag, LEN, 'Request.symbols')
          this.#symbols.push(r.string())
        } else if (field === 5) {
          r.expect(tag, LEN, 'Request.timeseries')
          const seriesEnd = r.delimitedEnd()
          this.#start.push(r.pos)
          this.#end.push(seriesEnd)
          r.pos = seriesEnd
        } else r.skip(tag)
      }
      if (this.#symbols.length > 0 && this.#symbols[0] !== '')
        r.fail('Request.symbols: the first symbol must be the empty string', 0)
    } catch (err) {
      throw remoteWriteError(err)
    }
  }

  /** Whether every series has been decoded. */
  get done(): boolean {
    return this.#next === this.#start.length
  }

  /** Samples, histograms and exemplars dropped so far. */
  get rejected(): number {
    return this.#b.result().rejected
  }

  /** Up to a few distinct reasons for what was dropped so far. */
  get errors(): string[] {
    return this.#b.result().errors
  }

  /** Decodes series until `stop()` returns true (asked every few dozen series) or none is left. */
  next(stop?: () => boolean): PointBatch {
    try {
      const n = this.#start.length
      while (this.#next < n) {
        this.#series(this.#next++)
        if (stop !== undefined && this.#next % SERIES_PER_CHECK === 0 && this.#next < n && stop()) break
      }
    } catch (err) {
      throw remoteWriteError(err)
    }
    return this.#b.cut()
  }

  #series(i: number): void {
    const r = this.#r
    const end = this.#end[i]!
    const refs: number[] = []
    const samples: number[] = []
    const histograms: number[] = []
    const exemplars: number[] = []
    let metadataAt = -1
    let created = 0
    r.pos = this.#start[i]!
    while (r.pos < end) {
      const tag = r.tag()
      switch (tag >>> 3) {
        case 1:
          if ((tag & 7) === LEN) {
            const packedEnd = r.delimitedEnd()
            while (r.pos < packedEnd) refs.push(r.uint32())
            r.endOf(packedEnd, 'TimeSeries.labels_refs')
          } else {
            r.expect(tag, VARINT, 'TimeSeries.labels_refs')
            refs.push(r.uint32())
          }
          break
        case 2:
          r.expect(tag, LEN, 'TimeSeries.samples')
          samples.push(r.pos)
          r.pos = r.delimitedEnd()
          break
        case 3:
          r.expect(tag, LEN, 'TimeSeries.histograms')
          histograms.push(r.pos)
          r.pos = r.delimitedEnd()
          break
        case 4:
          r.expect(tag, LEN, 'TimeSeries.exemplars')
          exemplars.push(r.pos)
          r.pos = r.delimitedEnd()
          break
        case 5:
          r.expect(tag, LEN, 'TimeSeries.metadata')
          metadataAt = r.pos
          r.pos = r.delimitedEnd()
          break
        case 6:
          r.expect(tag, VARINT, 'TimeSeries.created_timestamp')
          created = r.int64()
          break
        default:
          r.skip(tag)
      }
    }
    r.endOf(end, 'TimeSeries')
    if (refs.length % 2 !== 0)
      r.fail(`TimeSeries.labels_refs: ${refs.length} references, expected name and value pairs`)
    const labels = refs.map((ref) => this.#symbol(ref))

    const b = this.#b
    const name = labelValue(labels, '__name__')
    // An empty value counts as absent, as in Prometheus.
    const service = SERVICE_LABELS.map((label) => labelValue(labels, label)).find((v) => v !== '') ?? UNKNOWN_SERVICE
    this.#enter(name, service, metadataAt)
    if (name === '') return b.rejectPoints('series has no __name__ label', samples.length + histograms.length)
    // Exemplars belong to the samples' series, or to the native histograms' when there are only those.
    const onHistograms = samples.length === 0 && histograms.length > 0
    if (samples.length > 0 || (exemplars.length > 0 && !onHistograms)) {
      const series = this.#floatSamples(labels, samples, this.#typing?.type === 'sum' ? created : undefined)
      if (series !== undefined) this.#exemplars(series, exemplars)
    }
    if (histograms.length > 0) this.#nativeHistograms(name, labels, histograms, created)
    if (onHistograms && exemplars.length > 0) {
      const series = b.resolveSeries(attributesOf(labels), undefined, 0)
      if (series !== undefined) this.#exemplars(series, exemplars)
    }
  }

  /** The samples of a series; returns the series, undefined when the series limit refused it. */
  #floatSamples(
    labels: readonly string[],
    samples: readonly number[],
    start: number | undefined,
  ): SeriesInfo | undefined {
    const r = this.#r
    const b = this.#b
    const key = KEY_PREFIX + labels.join('\u0000')
    const series = b.knownSeries(key) ?? b.resolveSeries(attributesOf(labels), key, samples.length)
    if (series === undefined) return undefined // refused by the series limit; its samples are counted
    for (const at of samples) {
      r.pos = at
      this.#sample(r.delimitedEnd(), series, start)
    }
    return series
  }

  /** The Exemplars at `at` (offsets of their length prefixes), on `series`. */
  #exemplars(series: SeriesInfo, at: readonly number[]): void {
    const r = this.#r
    for (const pos of at) {
      r.pos = pos
      const end = r.delimitedEnd()
      const refs: number[] = []
      let value = 0
      let ts = 0
      while (r.pos < end) {
        const tag = r.tag()
        const field = tag >>> 3
        if (field === 1) {
          if ((tag & 7) === LEN) {
            const packedEnd = r.delimitedEnd()
            while (r.pos < packedEnd) refs.push(r.uint32())
            r.endOf(packedEnd, 'Exemplar.labels_refs')
          } else {
            r.expect(tag, VARINT, 'Exemplar.labels_refs')
            refs.push(r.uint32())
          }
        } else if (field === 2) {
          r.expect(tag, I64, 'Exemplar.value')
          value = r.double()
        } else if (field === 3) {
          r.expect(tag, VARINT, 'Exemplar.timestamp')
          ts = r.int64()
        } else r.skip(tag)
      }
      r.endOf(end, 'Exemplar')
      if (refs.length % 2 !== 0)
        r.fail(`Exemplar.labels_refs: ${refs.length} references, expected name and value pairs`)
      const labels = newAttributes()
      for (let k = 0; k < refs.length; k += 2) labels[this.#symbol(refs[k]!)] = this.#symbol(refs[k + 1]!)
      this.#b.exemplarOf(series, ts, value, labels)
    }
  }

  /**
   * Native histograms, stored as exponential histogram points of the series' name (see
   * native-histogram.ts), starting at its created time. The builder's metric changes for
   * them: the next series sets its own again.
   */
  #nativeHistograms(name: string, labels: readonly string[], at: readonly number[], created: number): void {
    const r = this.#r
    const b = this.#b
    const typing = this.#typing!
    b.setMetric(name, typing.help, typing.unit, 'exponential_histogram', 'cumulative', false)
    this.#typing = undefined
    const attributes = attributesOf(labels)
    for (const pos of at) {
      r.pos = pos
      addNativeHistogram(b, attributes, created, readNativeHistogram(r, r.delimitedEnd()))
    }
  }

  /** Sets the builder's resource and metric when the series' name or service differs from the one before. */
  #enter(name: string, service: string, metadataAt: number): void {
    const typing = typingFromMetadata(name, this.#metadata(metadataAt))
    const t = this.#typing
    if (
      name === this.#metric &&
      service === this.#service &&
      t !== undefined &&
      t.type === typing.type &&
      t.help === typing.help &&
      t.unit === typing.unit
    )
      return
    if (service !== this.#service) {
      const resource = newAttributes()
      resource['service.name'] = service
      this.#b.setResource(resource)
    }
    this.#metric = name
    this.#service = service
    this.#typing = typing
    const counter = typing.type === 'sum'
    // Sum or gauge, a sample yields to the type stored for its name (see BatchBuilder.setMetric).
    this.#b.setMetric(
      name,
      typing.help,
      typing.unit,
      typing.type,
      counter ? 'cumulative' : 'unspecified',
      counter,
      typing.guessed === true,
      true,
    )
  }

  /** The Metadata at `at` (-1: none) as a type number and its help and unit strings. */
  #metadata(at: number): { type: number; help: string; unit: string } {
    if (at < 0) return { type: 0, help: '', unit: '' }
    const r = this.#r
    const pos = r.pos
    r.pos = at
    const end = r.delimitedEnd()
    let type = 0
    let help = ''
    let unit = ''
    while (r.pos < end) {
      const tag = r.tag()
      const field = tag >>> 3
      if (field === 1) {
        r.expect(tag, VARINT, 'Metadata.type')
        type = r.uint32()
      } else if (field === 3) {
        r.expect(tag, VARINT, 'Metadata.help_ref')
        help = this.#symbol(r.uint32())
      } else if (field === 4) {
        r.expect(tag, VARINT, 'Metadata.unit_ref')
        unit = this.#symbol(r.uint32())
      } else r.skip(tag)
    }
    r.endOf(end, 'Metadata')
    r.pos = pos
    return { type, help, unit }
  }

  #symbol(ref: number): string {
    const s = this.#symbols[ref]
    if (s === undefined)
      this.#r.fail(`symbol reference ${ref} is past the symbols table (${this.#symbols.length} symbols)`)
    return s
  }

  /** One Sample of `series`; `seriesStart` is its created timestamp (0 when unknown), undefined for a gauge. */
  #sample(end: number, series: SeriesInfo, seriesStart: number | undefined): void {
    const r = this.#r
    let value = 0
    let ts = 0
    let start = seriesStart ?? 0
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
      } else if (field === 3) {
        r.expect(tag, VARINT, 'Sample.start_timestamp')
        const sampleStart = r.int64()
        // A start is a counter's (its reset time); a gauge's points have none.
        if (sampleStart !== 0 && seriesStart !== undefined) start = sampleStart
      } else r.skip(tag)
    }
    r.endOf(end, 'Sample')
    this.#b.sampleOf(series, ts, start, flags, value)
  }
}

/** The value of label `name` in name, value pairs; '' when absent. */
function labelValue(labels: readonly string[], name: string): string {
  for (let k = 0; k < labels.length; k += 2) if (labels[k] === name) return labels[k + 1]!
  return ''
}

/** Every label but `__name__`, as point attributes (a series not seen before). */
function attributesOf(labels: readonly string[]): Attributes {
  const attributes = newAttributes()
  for (let k = 0; k < labels.length; k += 2) if (labels[k] !== '__name__') attributes[labels[k]!] = labels[k + 1]!
  return attributes
}
