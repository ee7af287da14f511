import type { ExpBuckets } from '../model/batch.ts'
import type { Attributes } from '../model/types.ts'
import type { BatchBuilder } from './decode-result.ts'
import { I64, LEN, VARINT, type ProtobufReader } from './protobuf-reader.ts'
import { staleFlags } from './stale-marker.ts'

/*
 * Prometheus' native histogram, `Histogram` in types.proto, numbered alike in remote write 1.0
 * and 2.0:
 *
 *   1 count_int (uint64)  2 count_float (double)  3 sum  4 schema (sint32)  5 zero_threshold
 *   6 zero_count_int  7 zero_count_float  8 negative_spans  9 negative_deltas (sint64)
 *   10 negative_counts (double)  11 positive_spans  12 positive_deltas  13 positive_counts
 *   14 reset_hint  15 timestamp (int64 ms)  16 custom_values (2.0)
 *   BucketSpan  1 offset (sint32)  2 length (uint32)
 *
 * It is an OpenTelemetry exponential histogram by another name: schema is scale, and the
 * bucket Prometheus numbers i, (base^(i-1), base^i], is the one OpenTelemetry numbers i - 1,
 * (base^(i-1), base^i]. Buckets come as spans (runs of consecutive indices; each span's offset
 * is the gap after the one before, the first one's the index itself) and counts as deltas
 * from the bucket before (integer histograms) or as absolute numbers (float histograms).
 */

/** ResetHint GAUGE: a gauge histogram, whose counts go up and down. */
const RESET_HINT_GAUGE = 3
/** Schemas of exponential buckets; -53 is custom buckets (NHCB), which are not exponential. */
const MIN_SCHEMA = -4
const MAX_SCHEMA = 8
/** Most buckets a histogram may span from its lowest to its highest index, gaps included. */
export const MAX_SPANNED_BUCKETS = 4096

/** A native histogram as an exponential histogram point, or why it cannot be one. */
export type NativeHistogram =
  | {
      ts: number
      flags: number
      count: number
      sum: number
      scale: number
      zeroThreshold: number
      zeroCount: number
      positive: ExpBuckets
      negative: ExpBuckets
    }
  | { refused: string }

/** Reads the Histogram message that ends at `end`. Malformed protobuf throws (see ProtobufReader). */
export function readNativeHistogram(r: ProtobufReader, end: number): NativeHistogram {
  let count = 0
  let countIsFloat = false
  let sum = 0
  let flags = 0
  let schema = 0
  let zeroThreshold = 0
  let zeroCount = 0
  let resetHint = 0
  let ts = 0
  let customValues = false
  const positive = new SpanBuckets()
  const negative = new SpanBuckets()
  while (r.pos < end) {
    const tag = r.tag()
    switch (tag >>> 3) {
      case 1:
        r.expect(tag, VARINT, 'Histogram.count_int')
        count = r.uint64()
        break
      case 2:
        r.expect(tag, I64, 'Histogram.count_float')
        count = r.double()
        countIsFloat = true
        break
      case 3: {
        r.expect(tag, I64, 'Histogram.sum')
        const at = r.pos
        sum = r.double()
        flags = 0
        if (sum !== sum) flags = staleFlags(r, at)
        break
      }
      case 4:
        r.expect(tag, VARINT, 'Histogram.schema')
        schema = r.sint32()
        break
      case 5:
        r.expect(tag, I64, 'Histogram.zero_threshold')
        zeroThreshold = r.double()
        break
      case 6:
        r.expect(tag, VARINT, 'Histogram.zero_count_int')
        zeroCount = r.uint64()
        break
      case 7:
        r.expect(tag, I64, 'Histogram.zero_count_float')
        zeroCount = r.double()
        break
      case 8:
        r.expect(tag, LEN, 'Histogram.negative_spans')
        negative.span(r, r.delimitedEnd())
        break
      case 9:
        negative.deltas(r, tag, 'Histogram.negative_deltas')
        break
      case 10:
        negative.counts(r, tag, 'Histogram.negative_counts')
        break
      case 11:
        r.expect(tag, LEN, 'Histogram.positive_spans')
        positive.span(r, r.delimitedEnd())
        break
      case 12:
        positive.deltas(r, tag, 'Histogram.positive_deltas')
        break
      case 13:
        positive.counts(r, tag, 'Histogram.positive_counts')
        break
      case 14:
        r.expect(tag, VARINT, 'Histogram.reset_hint')
        resetHint = r.uint32()
        break
      case 15:
        r.expect(tag, VARINT, 'Histogram.timestamp')
        ts = r.int64()
        break
      case 16:
        customValues = true
        r.skip(tag)
        break
      default:
        r.skip(tag)
    }
  }
  r.endOf(end, 'Histogram')
  if (customValues || schema < MIN_SCHEMA || schema > MAX_SCHEMA)
    return {
      refused: `native histogram schema ${schema} is not stored (exponential schemas ${MIN_SCHEMA} to ${MAX_SCHEMA} only)`,
    }
  if (resetHint === RESET_HINT_GAUGE) return { refused: 'gauge native histograms are not stored' }
  const pos = positive.dense()
  const neg = negative.dense()
  if (typeof pos === 'string') return { refused: `positive buckets: ${pos}` }
  if (typeof neg === 'string') return { refused: `negative buckets: ${neg}` }
  if (countIsFloat && !Number.isInteger(count))
    return { refused: `native histogram count ${count} is not a whole number` }
  return { ts, flags, count, sum, scale: schema, zeroThreshold, zeroCount, positive: pos, negative: neg }
}

/** One side's spans and counts, turned into OpenTelemetry's dense buckets by `dense`. */
class SpanBuckets {
  readonly #offsets: number[] = []
  readonly #lengths: number[] = []
  readonly #values: number[] = []
  #deltas = false

  span(r: ProtobufReader, end: number): void {
    let offset = 0
    let length = 0
    while (r.pos < end) {
      const tag = r.tag()
      const field = tag >>> 3
      if (field === 1) {
        r.expect(tag, VARINT, 'BucketSpan.offset')
        offset = r.sint32()
      } else if (field === 2) {
        r.expect(tag, VARINT, 'BucketSpan.length')
        length = r.uint32()
      } else r.skip(tag)
    }
    r.endOf(end, 'BucketSpan')
    this.#offsets.push(offset)
    this.#lengths.push(length)
  }

  /** sint64 deltas, packed or one by one. */
  deltas(r: ProtobufReader, tag: number, field: string): void {
    this.#deltas = true
    if ((tag & 7) === LEN) {
      const end = r.delimitedEnd()
      while (r.pos < end) this.#values.push(sint64(r))
      r.endOf(end, field)
    } else {
      r.expect(tag, VARINT, field)
      this.#values.push(sint64(r))
    }
  }

  /** Absolute double counts, packed or one by one. */
  counts(r: ProtobufReader, tag: number, field: string): void {
    if ((tag & 7) === LEN) {
      const end = r.delimitedEnd()
      while (r.pos < end) this.#values.push(r.double())
      r.endOf(end, field)
    } else {
      r.expect(tag, I64, field)
      this.#values.push(r.double())
    }
  }

  /** OpenTelemetry's buckets: the offset of the first, and every count from there (gaps as 0); or why not. */
  dense(): ExpBuckets | string {
    const spanned = this.#lengths.reduce((n, l) => n + l, 0)
    if (spanned !== this.#values.length)
      return `the spans cover ${spanned} buckets and ${this.#values.length} counts were sent`
    if (spanned === 0) return { offset: 0, counts: [] }
    // Prometheus' index of every bucket, and its count.
    const indices: number[] = []
    let index = 0
    for (let s = 0; s < this.#offsets.length; s++) {
      index += this.#offsets[s]!
      for (let k = 0; k < this.#lengths[s]!; k++) indices.push(index++)
    }
    const first = indices[0]!
    const width = indices[indices.length - 1]! - first + 1
    if (width > MAX_SPANNED_BUCKETS || indices.some((i, k) => k > 0 && i <= indices[k - 1]!))
      return `the spans reach over ${Math.min(width, MAX_SPANNED_BUCKETS)} buckets or go backwards (at most ${MAX_SPANNED_BUCKETS}, in order)`
    const counts = new Array<number>(width).fill(0)
    let running = 0
    for (let k = 0; k < indices.length; k++) {
      const value = this.#deltas ? (running += this.#values[k]!) : this.#values[k]!
      if (!Number.isInteger(value) || value < 0)
        return `bucket ${indices[k]} has count ${value}, expected a whole number ≥ 0`
      counts[indices[k]! - first] = value
    }
    return { offset: first - 1, counts }
  }
}

/** A zig-zag encoded sint64 as a number (exact up to 2^53). */
function sint64(r: ProtobufReader): number {
  const n = r.uint64()
  return n % 2 === 0 ? n / 2 : -(n + 1) / 2
}

/** Adds a native histogram of the builder's current metric (an exponential histogram) as a point of the series `attributes`, or counts why not. */
export function addNativeHistogram(b: BatchBuilder, attributes: Attributes, start: number, h: NativeHistogram): void {
  if ('refused' in h) return b.rejectPoints(h.refused)
  b.expHistogram(
    attributes,
    h.ts,
    start,
    h.flags,
    h.count,
    h.sum,
    NaN,
    NaN,
    h.scale,
    h.zeroCount,
    h.zeroThreshold,
    h.positive,
    h.negative,
  )
}
