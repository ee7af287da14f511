import type { ExpBuckets } from '../model/batch.ts'
import type { SeriesCache } from '../model/series-cache.ts'
import type { Attributes, MetricType } from '../model/types.ts'
import { BatchBuilder, millisFromNanoHalves, newAttributes, temporalityOf, type DecodeResult } from './decode-result.ts'
import type { HeldExemplar } from './exemplars.ts'
import { attributesOf, keyValue } from './otlp-attributes.ts'
import { readExemplar } from './otlp-proto-exemplar.ts'
import { I64, LEN, ProtobufReader, VARINT } from './protobuf-reader.ts'

/*
 * Field numbers of opentelemetry/proto/collector/metrics/v1 and metrics/v1 (OTLP 1.x):
 *
 *   ExportMetricsServiceRequest  1 resource_metrics
 *   ResourceMetrics              1 resource  2 scope_metrics  3 schema_url
 *   Resource                     1 attributes  2 dropped_attributes_count
 *   ScopeMetrics                 1 scope  2 metrics  3 schema_url
 *   InstrumentationScope         1 name  2 version  3 attributes
 *   Metric                       1 name  2 description  3 unit
 *                                5 gauge  7 sum  9 histogram  10 exponential_histogram  11 summary
 *   Gauge, Summary               1 data_points
 *   Sum                          1 data_points  2 aggregation_temporality  3 is_monotonic
 *   (Exponential)Histogram       1 data_points  2 aggregation_temporality
 *   NumberDataPoint              7 attributes  2 start  3 time  4 as_double  6 as_int (sfixed64)
 *                                5 exemplars  8 flags
 *   HistogramDataPoint           9 attributes  2 start  3 time  4 count  5 sum  6 bucket_counts
 *                                7 explicit_bounds  8 exemplars  10 flags  11 min  12 max
 *   ExponentialHistogramDataPoint 1 attributes  2 start  3 time  4 count  5 sum  6 scale (sint32)
 *                                7 zero_count  8 positive  9 negative  10 flags  11 exemplars
 *                                12 min  13 max  14 zero_threshold
 *   Buckets                      1 offset (sint32)  2 bucket_counts (uint64)
 *   SummaryDataPoint             7 attributes  2 start  3 time  4 count  5 sum
 *                                6 quantile_values  8 flags
 *   ValueAtQuantile              1 quantile  2 value
 *   KeyValue                     1 key  2 value
 *   AnyValue                     1 string  2 bool  3 int  4 double  5 array  6 kvlist  7 bytes
 *   ArrayValue, KeyValueList     1 values
 *
 * A field may appear anywhere in its message (the JS SDK writes Sum's temporality after the
 * points), so messages whose context the points need are scanned twice: once for the
 * context, once for the points. Skipping a point in the first scan costs one length read.
 */

/** The metric data field numbers, indexed to the MetricType they carry. */
const DATA_TYPES: Record<number, MetricType> = {
  5: 'gauge',
  7: 'sum',
  9: 'histogram',
  10: 'exponential_histogram',
  11: 'summary',
}

/**
 * Decodes an OTLP/protobuf `ExportMetricsServiceRequest` into a batch.
 * Throws `GOV_ERR_OTLP_MALFORMED` when the body is not valid protobuf of that schema. A point
 * with a value its column cannot hold (flags past 255, a scale outside -10..20, unsorted
 * bounds...) is rejected alone (see point-limits.ts).
 */
export function decodeOtlpProto(body: Uint8Array, cache: SeriesCache, oldestMillis = 0): DecodeResult {
  const r = new ProtobufReader(body)
  const b = new BatchBuilder(cache, oldestMillis)
  const end = r.length
  while (r.pos < end) {
    const tag = r.tag()
    if (tag >>> 3 === 1) {
      r.expect(tag, LEN, 'ExportMetricsServiceRequest.resource_metrics')
      resourceMetrics(r, b, r.delimitedEnd())
    } else r.skip(tag)
  }
  return b.result()
}

function resourceMetrics(r: ProtobufReader, b: BatchBuilder, end: number): void {
  const start = r.pos
  // First scan: the resource, flattened once for all of its points.
  let resource: Attributes = newAttributes()
  while (r.pos < end) {
    const tag = r.tag()
    if (tag >>> 3 === 1) {
      r.expect(tag, LEN, 'ResourceMetrics.resource')
      resource = attributesOf(r, r.delimitedEnd(), 1, 'Resource')
    } else r.skip(tag)
  }
  r.endOf(end, 'ResourceMetrics')
  b.setResource(resource)
  r.pos = start
  while (r.pos < end) {
    const tag = r.tag()
    if (tag >>> 3 === 2) {
      r.expect(tag, LEN, 'ResourceMetrics.scope_metrics')
      scopeMetrics(r, b, r.delimitedEnd())
    } else r.skip(tag)
  }
}

function scopeMetrics(r: ProtobufReader, b: BatchBuilder, end: number): void {
  const start = r.pos
  let scope = ''
  while (r.pos < end) {
    const tag = r.tag()
    if (tag >>> 3 === 1) {
      r.expect(tag, LEN, 'ScopeMetrics.scope')
      scope = scopeName(r, r.delimitedEnd())
    } else r.skip(tag)
  }
  r.endOf(end, 'ScopeMetrics')
  b.setScope(scope)
  r.pos = start
  while (r.pos < end) {
    const tag = r.tag()
    if (tag >>> 3 === 2) {
      r.expect(tag, LEN, 'ScopeMetrics.metrics')
      metric(r, b, r.delimitedEnd())
    } else r.skip(tag)
  }
}

function scopeName(r: ProtobufReader, end: number): string {
  let name = ''
  while (r.pos < end) {
    const tag = r.tag()
    if (tag >>> 3 === 1) {
      r.expect(tag, LEN, 'InstrumentationScope.name')
      name = r.string()
    } else r.skip(tag)
  }
  r.endOf(end, 'InstrumentationScope')
  return name
}

function metric(r: ProtobufReader, b: BatchBuilder, end: number): void {
  let name = ''
  let description = ''
  let unit = ''
  let type: MetricType | undefined
  let dataStart = 0
  let dataEnd = 0
  while (r.pos < end) {
    const tag = r.tag()
    const field = tag >>> 3
    if (field === 1) {
      r.expect(tag, LEN, 'Metric.name')
      name = r.string()
    } else if (field === 2) {
      r.expect(tag, LEN, 'Metric.description')
      description = r.string()
    } else if (field === 3) {
      r.expect(tag, LEN, 'Metric.unit')
      unit = r.string()
    } else if (DATA_TYPES[field] !== undefined) {
      r.expect(tag, LEN, `Metric.${DATA_TYPES[field]}`)
      // A oneof: the last data field on the wire wins.
      type = DATA_TYPES[field]
      dataEnd = r.delimitedEnd()
      dataStart = r.pos
      r.pos = dataEnd
    } else r.skip(tag)
  }
  r.endOf(end, 'Metric')
  if (type === undefined) return
  r.pos = dataStart
  metricData(r, b, dataEnd, type, name, description, unit)
  r.pos = end
}

/** Gauge, Sum, Histogram, ExponentialHistogram or Summary: its metadata, then its points. */
function metricData(
  r: ProtobufReader,
  b: BatchBuilder,
  end: number,
  type: MetricType,
  name: string,
  description: string,
  unit: string,
): void {
  const start = r.pos
  const temporal = type === 'sum' || type === 'histogram' || type === 'exponential_histogram'
  let temporality = 0
  let monotonic = false
  let points = 0
  while (r.pos < end) {
    const tag = r.tag()
    const field = tag >>> 3
    if (field === 1) {
      r.expect(tag, LEN, `${type}.data_points`)
      r.pos = r.delimitedEnd()
      points++
    } else if (field === 2 && temporal) {
      r.expect(tag, VARINT, `${type}.aggregation_temporality`)
      temporality = r.int32()
    } else if (field === 3 && type === 'sum') {
      r.expect(tag, VARINT, 'sum.is_monotonic')
      monotonic = r.bool()
    } else r.skip(tag)
  }
  r.endOf(end, type)
  if (points === 0) return
  b.setMetric(name, description, unit, type, temporalityOf(temporality), monotonic)
  if (name === '') return b.rejectPoints('metric has an empty name', points)
  r.pos = start
  let index = 0
  while (r.pos < end) {
    const tag = r.tag()
    if (tag >>> 3 !== 1) {
      r.skip(tag)
      continue
    }
    const pointEnd = r.delimitedEnd()
    // Every value is checked by the BatchBuilder against its column, which names the point.
    b.atPoint(index++)
    if (type === 'gauge' || type === 'sum') numberPoint(r, b, pointEnd)
    else if (type === 'histogram') histogramPoint(r, b, pointEnd)
    else if (type === 'exponential_histogram') expHistogramPoint(r, b, pointEnd)
    else summaryPoint(r, b, pointEnd)
  }
}

function numberPoint(r: ProtobufReader, b: BatchBuilder, end: number): void {
  const pointStart = r.pos
  // Attributes are skipped on the first pass and only their byte range kept: a series seen
  // before is found by those bytes (BatchBuilder.knownSeries) without decoding them.
  let attrStart = -1
  let attrEnd = -1
  let contiguous = true
  let ts = 0
  let start = 0
  let flags = 0
  let value: number | undefined
  let exemplars: HeldExemplar[] | undefined
  while (r.pos < end) {
    const at = r.pos
    const tag = r.tag()
    switch (tag >>> 3) {
      case 7:
        r.expect(tag, LEN, 'NumberDataPoint.attributes')
        if (attrStart < 0) attrStart = at
        else if (at !== attrEnd) contiguous = false
        r.pos = r.delimitedEnd()
        attrEnd = r.pos
        break
      case 2:
        r.expect(tag, I64, 'NumberDataPoint.start_time_unix_nano')
        start = nanosToMillis(r)
        break
      case 3:
        r.expect(tag, I64, 'NumberDataPoint.time_unix_nano')
        ts = nanosToMillis(r)
        break
      case 4:
        r.expect(tag, I64, 'NumberDataPoint.as_double')
        value = r.double()
        break
      case 6:
        r.expect(tag, I64, 'NumberDataPoint.as_int')
        value = r.sfixed64()
        break
      case 8:
        r.expect(tag, VARINT, 'NumberDataPoint.flags')
        flags = r.uint32()
        break
      case 5:
        r.expect(tag, LEN, 'NumberDataPoint.exemplars')
        exemplars = readExemplar(r, r.delimitedEnd(), exemplars)
        break
      default:
        r.skip(tag)
    }
  }
  r.endOf(end, 'NumberDataPoint')
  const encoded = !contiguous ? undefined : attrStart < 0 ? '' : r.bytesKey(attrStart, attrEnd)
  let series = encoded === undefined ? undefined : b.knownSeries(encoded)
  if (series === undefined) {
    const attributes = newAttributes()
    r.pos = pointStart
    while (r.pos < end) {
      const tag = r.tag()
      if (tag >>> 3 === 7) keyValue(r, r.delimitedEnd(), attributes)
      else r.skip(tag)
    }
    series = b.resolveSeries(attributes, encoded)
    if (series === undefined) return
  }
  if (exemplars === undefined) return b.sampleOf(series, ts, start, flags, value)
  b.holdExemplars(exemplars)
  b.sampleOf(series, ts, start, flags, value)
  b.holdExemplars(undefined)
}

function histogramPoint(r: ProtobufReader, b: BatchBuilder, end: number): void {
  const attributes = newAttributes()
  let ts = 0,
    start = 0,
    flags = 0,
    count = 0
  let sum = NaN,
    min = NaN,
    max = NaN
  const bounds: number[] = []
  const counts: number[] = []
  let exemplars: HeldExemplar[] | undefined
  while (r.pos < end) {
    const tag = r.tag()
    switch (tag >>> 3) {
      case 9:
        r.expect(tag, LEN, 'HistogramDataPoint.attributes')
        keyValue(r, r.delimitedEnd(), attributes)
        break
      case 2:
        r.expect(tag, I64, 'HistogramDataPoint.start_time_unix_nano')
        start = nanosToMillis(r)
        break
      case 3:
        r.expect(tag, I64, 'HistogramDataPoint.time_unix_nano')
        ts = nanosToMillis(r)
        break
      case 4:
        r.expect(tag, I64, 'HistogramDataPoint.count')
        count = r.fixed64()
        break
      case 5:
        r.expect(tag, I64, 'HistogramDataPoint.sum')
        sum = r.double()
        break
      case 6:
        repeated64(r, tag, counts, false, 'HistogramDataPoint.bucket_counts')
        break
      case 7:
        repeated64(r, tag, bounds, true, 'HistogramDataPoint.explicit_bounds')
        break
      case 10:
        r.expect(tag, VARINT, 'HistogramDataPoint.flags')
        flags = r.uint32()
        break
      case 11:
        r.expect(tag, I64, 'HistogramDataPoint.min')
        min = r.double()
        break
      case 12:
        r.expect(tag, I64, 'HistogramDataPoint.max')
        max = r.double()
        break
      case 8:
        r.expect(tag, LEN, 'HistogramDataPoint.exemplars')
        exemplars = readExemplar(r, r.delimitedEnd(), exemplars)
        break
      default:
        r.skip(tag)
    }
  }
  r.endOf(end, 'HistogramDataPoint')
  b.holdExemplars(exemplars)
  b.histogram(attributes, ts, start, flags, count, sum, min, max, bounds, counts)
  b.holdExemplars(undefined)
}

function expHistogramPoint(r: ProtobufReader, b: BatchBuilder, end: number): void {
  const attributes = newAttributes()
  let ts = 0,
    start = 0,
    flags = 0,
    count = 0,
    scale = 0,
    zeroCount = 0,
    zeroThreshold = 0
  let sum = NaN,
    min = NaN,
    max = NaN
  let positive: ExpBuckets | undefined
  let negative: ExpBuckets | undefined
  let exemplars: HeldExemplar[] | undefined
  while (r.pos < end) {
    const tag = r.tag()
    switch (tag >>> 3) {
      case 1:
        r.expect(tag, LEN, 'ExponentialHistogramDataPoint.attributes')
        keyValue(r, r.delimitedEnd(), attributes)
        break
      case 2:
        r.expect(tag, I64, 'ExponentialHistogramDataPoint.start_time_unix_nano')
        start = nanosToMillis(r)
        break
      case 3:
        r.expect(tag, I64, 'ExponentialHistogramDataPoint.time_unix_nano')
        ts = nanosToMillis(r)
        break
      case 4:
        r.expect(tag, I64, 'ExponentialHistogramDataPoint.count')
        count = r.fixed64()
        break
      case 5:
        r.expect(tag, I64, 'ExponentialHistogramDataPoint.sum')
        sum = r.double()
        break
      case 6:
        r.expect(tag, VARINT, 'ExponentialHistogramDataPoint.scale')
        scale = r.sint32()
        break
      case 7:
        r.expect(tag, I64, 'ExponentialHistogramDataPoint.zero_count')
        zeroCount = r.fixed64()
        break
      case 8:
        r.expect(tag, LEN, 'ExponentialHistogramDataPoint.positive')
        positive = buckets(r, r.delimitedEnd())
        break
      case 9:
        r.expect(tag, LEN, 'ExponentialHistogramDataPoint.negative')
        negative = buckets(r, r.delimitedEnd())
        break
      case 10:
        r.expect(tag, VARINT, 'ExponentialHistogramDataPoint.flags')
        flags = r.uint32()
        break
      case 12:
        r.expect(tag, I64, 'ExponentialHistogramDataPoint.min')
        min = r.double()
        break
      case 13:
        r.expect(tag, I64, 'ExponentialHistogramDataPoint.max')
        max = r.double()
        break
      case 14:
        r.expect(tag, I64, 'ExponentialHistogramDataPoint.zero_threshold')
        zeroThreshold = r.double()
        break
      case 11:
        r.expect(tag, LEN, 'ExponentialHistogramDataPoint.exemplars')
        exemplars = readExemplar(r, r.delimitedEnd(), exemplars)
        break
      default:
        r.skip(tag)
    }
  }
  r.endOf(end, 'ExponentialHistogramDataPoint')
  b.holdExemplars(exemplars)
  b.expHistogram(
    attributes,
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
    positive ?? { offset: 0, counts: [] },
    negative ?? { offset: 0, counts: [] },
  )
  b.holdExemplars(undefined)
}

function buckets(r: ProtobufReader, end: number): ExpBuckets {
  let offset = 0
  const counts: number[] = []
  while (r.pos < end) {
    const tag = r.tag()
    const field = tag >>> 3
    if (field === 1) {
      r.expect(tag, VARINT, 'Buckets.offset')
      offset = r.sint32()
    } else if (field === 2 && (tag & 7) === LEN) {
      // Packed uint64 varints (the default encoding of proto3 repeated scalars).
      const packedEnd = r.delimitedEnd()
      while (r.pos < packedEnd) counts.push(r.uint64())
      r.endOf(packedEnd, 'Buckets.bucket_counts')
    } else if (field === 2) {
      r.expect(tag, VARINT, 'Buckets.bucket_counts')
      counts.push(r.uint64())
    } else r.skip(tag)
  }
  r.endOf(end, 'Buckets')
  return { offset, counts }
}

function summaryPoint(r: ProtobufReader, b: BatchBuilder, end: number): void {
  const attributes = newAttributes()
  let ts = 0,
    start = 0,
    flags = 0,
    count = 0,
    sum = 0
  const quantiles: number[] = []
  const values: number[] = []
  while (r.pos < end) {
    const tag = r.tag()
    switch (tag >>> 3) {
      case 7:
        r.expect(tag, LEN, 'SummaryDataPoint.attributes')
        keyValue(r, r.delimitedEnd(), attributes)
        break
      case 2:
        r.expect(tag, I64, 'SummaryDataPoint.start_time_unix_nano')
        start = nanosToMillis(r)
        break
      case 3:
        r.expect(tag, I64, 'SummaryDataPoint.time_unix_nano')
        ts = nanosToMillis(r)
        break
      case 4:
        r.expect(tag, I64, 'SummaryDataPoint.count')
        count = r.fixed64()
        break
      case 5:
        r.expect(tag, I64, 'SummaryDataPoint.sum')
        sum = r.double()
        break
      case 6:
        r.expect(tag, LEN, 'SummaryDataPoint.quantile_values')
        quantile(r, r.delimitedEnd(), quantiles, values)
        break
      case 8:
        r.expect(tag, VARINT, 'SummaryDataPoint.flags')
        flags = r.uint32()
        break
      default:
        r.skip(tag)
    }
  }
  r.endOf(end, 'SummaryDataPoint')
  b.summary(attributes, ts, start, flags, count, sum, quantiles, values)
}

function quantile(r: ProtobufReader, end: number, quantiles: number[], values: number[]): void {
  let q = 0
  let v = 0
  while (r.pos < end) {
    const tag = r.tag()
    const field = tag >>> 3
    if (field === 1) {
      r.expect(tag, I64, 'ValueAtQuantile.quantile')
      q = r.double()
    } else if (field === 2) {
      r.expect(tag, I64, 'ValueAtQuantile.value')
      v = r.double()
    } else r.skip(tag)
  }
  r.endOf(end, 'ValueAtQuantile')
  quantiles.push(q)
  values.push(v)
}

/** A fixed64 nanosecond timestamp as integer milliseconds, exact (see millisFromNanoHalves). */
function nanosToMillis(r: ProtobufReader): number {
  r.fixed64()
  return millisFromNanoHalves(r.lo, r.hi)
}

/** One element (unpacked, wire type I64) or a packed run (LEN) of fixed64 or double values. */
function repeated64(r: ProtobufReader, tag: number, out: number[], double: boolean, field: string): void {
  if ((tag & 7) === I64) {
    out.push(double ? r.double() : r.fixed64())
    return
  }
  r.expect(tag, LEN, field)
  const at = r.pos
  const end = r.delimitedEnd()
  if ((end - r.pos) % 8 !== 0) r.fail(`packed ${field} has ${end - r.pos} bytes, not a multiple of 8`, at)
  while (r.pos < end) out.push(double ? r.double() : r.fixed64())
}
