import { GovernorError, isGovernorError } from '../errors.ts'
import type { PointBatch } from '../model/batch.ts'
import type { SeriesCache } from '../model/series-cache.ts'
import { BatchBuilder, type DecodeResult } from './decode-result.ts'
import { LEN, ProtobufReader, VARINT } from './protobuf-reader.ts'
import { MetricFamilies } from './remote-write-typing.ts'
import { TimeSeriesReader } from './time-series-reader.ts'

/*
 * Field numbers of prometheus/prompb remote.proto and types.proto (remote write 1.0):
 *
 *   WriteRequest     1 timeseries  (2 reserved)  3 metadata
 *   TimeSeries       1 labels  2 samples  3 exemplars  4 histograms (native)
 *   Label            1 name  2 value
 *   Exemplar         1 labels  2 value (double)  3 timestamp (int64 ms)
 *   Sample           1 value (double)  2 timestamp (int64 ms)
 *   MetricMetadata   1 type (enum)  2 metric_family_name  4 help  5 unit
 *
 * A request is read in one pass that takes in the metadata and delimits each TimeSeries,
 * then its series are stored grouped by service and metric (see TimeSeriesReader). Label
 * values are decoded only for a series not seen before: a known one is found by its raw
 * label bytes (BatchBuilder.knownSeries).
 */

/**
 * Decodes a Prometheus remote write 1.0 `WriteRequest` (already decompressed) into a batch.
 * Its metadata is first added to `families`, then every series is typed from them (see
 * `seriesTyping`). Native histograms are stored as exponential histograms of the series' name
 * (see native-histogram.ts). Samples that cannot be stored (no metric name, timestamp 0 or
 * past ±2^53 - 1 ms, see point-limits.ts; a custom-bucket or gauge native histogram) are
 * counted in `rejected`, not thrown. Stale markers are kept as points flagged "no recorded
 * value" (flags bit 0), which queries skip.
 * Throws `GOV_ERR_RW_MALFORMED` when the body is not valid protobuf of that schema.
 */
export function decodeRemoteWrite(
  body: Uint8Array,
  cache: SeriesCache,
  families = new MetricFamilies(),
  oldestMillis = 0,
): DecodeResult {
  const decoding = new RemoteWriteDecoding(body, cache, families, oldestMillis)
  const batch = decoding.next()
  return { batch, rejected: decoding.rejected, errors: decoding.errors, exemplarsDropped: decoding.exemplarsDropped }
}

/**
 * `decodeRemoteWrite` in slices: a request of thousands of new series takes tens of
 * milliseconds to decode, too long to hold the event loop in one go (see http/turns.ts), so
 * the receiver decodes a slice per turn:
 *
 *   new RemoteWriteDecoding(body, …)   reads the metadata and delimits every series (cheap);
 *                                      a body that is not a WriteRequest throws here
 *   next(stop)                          decodes series until stop() says so; the points of
 *                                      those series, as a batch of their own
 *   … until done
 *
 * Every sample lands in exactly one slice's batch, in the order `decodeRemoteWrite` gives.
 * Nothing is written anywhere: what the caller does with the slices decides when the request
 * counts as taken (the receiver logs them as one record once all are decoded). A body found
 * malformed in a later slice throws `GOV_ERR_RW_MALFORMED` there.
 */
export class RemoteWriteDecoding {
  readonly #b: BatchBuilder
  readonly #series: TimeSeriesReader
  /** Families whose metadata this request brought new or changed (see `stated`). */
  readonly #stated: string[] = []
  #done = false

  constructor(body: Uint8Array, cache: SeriesCache, families = new MetricFamilies(), oldestMillis = 0) {
    const r = new ProtobufReader(body)
    this.#b = new BatchBuilder(cache, oldestMillis)
    this.#series = new TimeSeriesReader(r, body, this.#b, families)
    const end = r.length
    // One pass reads the metadata (it may come after the series it describes) and delimits
    // the series; they are then stored grouped by service and metric.
    try {
      while (r.pos < end) {
        const tag = r.tag()
        const field = tag >>> 3
        if (field === 1) {
          r.expect(tag, LEN, 'WriteRequest.timeseries')
          this.#series.scan(r.delimitedEnd())
        } else if (field === 3) {
          r.expect(tag, LEN, 'WriteRequest.metadata')
          metadata(r, r.delimitedEnd(), families, this.#stated)
        } else r.skip(tag)
      }
    } catch (err) {
      throw remoteWriteError(err)
    }
  }

  /** Whether every series has been decoded. */
  get done(): boolean {
    return this.#done
  }

  /** The families whose metadata this request brought new or changed: worth recording. */
  get stated(): readonly string[] {
    return this.#stated
  }

  /** Samples dropped so far (see `decodeRemoteWrite`). */
  get rejected(): number {
    return this.#b.result().rejected
  }

  /** Exemplars dropped so far (labels over Prometheus' limit, no time). */
  get exemplarsDropped(): number {
    return this.#b.result().exemplarsDropped
  }

  /** Up to MAX_ERRORS distinct reasons for the samples dropped so far. */
  get errors(): string[] {
    return this.#b.result().errors
  }

  /**
   * Decodes the next series, until `stop()` returns true (it is asked every few dozen series)
   * or none is left, and returns their points. Without `stop`, decodes all that are left.
   */
  next(stop?: () => boolean): PointBatch {
    try {
      this.#done = this.#series.store(stop)
    } catch (err) {
      throw remoteWriteError(err)
    }
    return this.#b.cut()
  }
}

/** The shared reader speaks OTLP; its message (byte offset and field) holds for both. */
export function remoteWriteError(err: unknown): unknown {
  if (isGovernorError(err) && err.code === 'GOV_ERR_OTLP_MALFORMED') {
    return new GovernorError('GOV_ERR_RW_MALFORMED', err.message, { cause: err })
  }
  return err
}

function metadata(r: ProtobufReader, end: number, families: MetricFamilies, stated: string[]): void {
  let type = 0
  let name = ''
  let help = ''
  let unit = ''
  while (r.pos < end) {
    const tag = r.tag()
    switch (tag >>> 3) {
      case 1:
        r.expect(tag, VARINT, 'MetricMetadata.type')
        type = r.int32()
        break
      case 2:
        r.expect(tag, LEN, 'MetricMetadata.metric_family_name')
        name = r.string()
        break
      case 4:
        r.expect(tag, LEN, 'MetricMetadata.help')
        help = r.string()
        break
      case 5:
        r.expect(tag, LEN, 'MetricMetadata.unit')
        unit = r.string()
        break
      default:
        r.skip(tag)
    }
  }
  r.endOf(end, 'MetricMetadata')
  if (name !== '' && families.set(name, { type, help, unit })) stated.push(name)
}
