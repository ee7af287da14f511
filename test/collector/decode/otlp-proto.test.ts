import protobuf from 'protobufjs'
import { describe, expect, it } from 'vitest'
import { MAX_ERRORS, type DecodeResult } from '../../../collector/src/decode/decode-result.ts'
import { decodeOtlpJson } from '../../../collector/src/decode/otlp-json.ts'
import { decodeOtlpProto } from '../../../collector/src/decode/otlp-proto.ts'
import { isGovernorError } from '../../../collector/src/errors.ts'
import { SeriesCache } from '../../../collector/src/model/series-cache.ts'

/*
 * Hand-built requests for what the JS SDK never sends (summaries, negative buckets, bad
 * points, unpacked fields, unknown fields), encoded by protobufjs from an inline copy of
 * the OTLP metrics schema. protobufjs's JSON form of the same message (lowerCamelCase,
 * 64-bit ints as strings, bytes as base64) is fed to the JSON decoder too.
 */

const MESSAGES: Record<string, string> = {
  AnyValue: `oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4;
    ArrayValue array_value = 5; KeyValueList kvlist_value = 6; bytes bytes_value = 7; }`,
  ArrayValue: 'repeated AnyValue values = 1;',
  KeyValueList: 'repeated KeyValue values = 1;',
  KeyValue: 'string key = 1; AnyValue value = 2;',
  Resource: 'repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2;',
  InstrumentationScope: 'string name = 1; string version = 2;',
  ExportMetricsServiceRequest: 'repeated ResourceMetrics resource_metrics = 1;',
  ResourceMetrics: 'Resource resource = 1; repeated ScopeMetrics scope_metrics = 2; string schema_url = 3;',
  ScopeMetrics: 'InstrumentationScope scope = 1; repeated Metric metrics = 2; string schema_url = 3;',
  Metric: `string name = 1; string description = 2; string unit = 3; oneof data { Gauge gauge = 5; Sum sum = 7;
    Histogram histogram = 9; ExponentialHistogram exponential_histogram = 10; Summary summary = 11; }`,
  Gauge: 'repeated NumberDataPoint data_points = 1;',
  Sum: 'repeated NumberDataPoint data_points = 1; int32 aggregation_temporality = 2; bool is_monotonic = 3;',
  Histogram: 'repeated HistogramDataPoint data_points = 1; int32 aggregation_temporality = 2;',
  ExponentialHistogram: 'repeated ExponentialHistogramDataPoint data_points = 1; int32 aggregation_temporality = 2;',
  Summary: 'repeated SummaryDataPoint data_points = 1;',
  Exemplar: `repeated KeyValue filtered_attributes = 7; fixed64 time_unix_nano = 2;
    oneof value { double as_double = 3; sfixed64 as_int = 6; } bytes span_id = 4; bytes trace_id = 5;`,
  NumberDataPoint: `repeated KeyValue attributes = 7; fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3;
    oneof value { double as_double = 4; sfixed64 as_int = 6; } repeated Exemplar exemplars = 5; uint32 flags = 8;`,
  HistogramDataPoint: `repeated KeyValue attributes = 9; fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3;
    fixed64 count = 4; optional double sum = 5; repeated fixed64 bucket_counts = 6 PACKED; repeated double explicit_bounds = 7 PACKED;
    repeated Exemplar exemplars = 8; uint32 flags = 10; optional double min = 11; optional double max = 12;`,
  ExponentialHistogramDataPoint: `repeated KeyValue attributes = 1; fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3;
    fixed64 count = 4; optional double sum = 5; sint32 scale = 6; fixed64 zero_count = 7; Buckets positive = 8;
    Buckets negative = 9; uint32 flags = 10; repeated Exemplar exemplars = 11; optional double min = 12;
    optional double max = 13; double zero_threshold = 14;`,
  Buckets: 'sint32 offset = 1; repeated uint64 bucket_counts = 2 PACKED;',
  SummaryDataPoint: `repeated KeyValue attributes = 7; fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3;
    fixed64 count = 4; double sum = 5; repeated ValueAtQuantile quantile_values = 6; uint32 flags = 8;`,
  ValueAtQuantile: 'double quantile = 1; double value = 2;',
}

/** Unknown fields of every wire type, added to every message of the `future` schema. */
const UNKNOWN = 'uint64 u_varint = 90; fixed64 u_i64 = 91; string u_len = 92; fixed32 u_i32 = 93; KeyValue u_msg = 94;'

function schema(opts: { packed: boolean; unknown: boolean }): protobuf.Type {
  const body = Object.entries(MESSAGES).map(([name, fields]) => {
    const f = fields.replaceAll(' PACKED', opts.packed ? '' : ' [packed = false]')
    return `message ${name} { ${f} ${opts.unknown ? UNKNOWN : ''} }`
  })
  return protobuf
    .parse(`syntax = "proto3"; package t;\n${body.join('\n')}`)
    .root.lookupType('t.ExportMetricsServiceRequest')
}

const Packed = schema({ packed: true, unknown: false })
const Unpacked = schema({ packed: false, unknown: false })
const Future = schema({ packed: true, unknown: true })

/** Encodes a plain-object request (64-bit values as decimal strings, bytes as base64). */
function encode(type: protobuf.Type, request: object): Uint8Array {
  return type.encode(type.fromObject(request)).finish()
}

/** protobufjs's JSON form of the request: the OTLP JSON mapping for this schema. */
function toJson(type: protobuf.Type, request: object): unknown {
  return type.toObject(type.fromObject(request), { longs: String, bytes: String, json: true })
}

function both(request: object, type = Packed): { proto: DecodeResult; json: DecodeResult } {
  return {
    proto: decodeOtlpProto(encode(type, request), new SeriesCache()),
    json: decodeOtlpJson(toJson(type, request), new SeriesCache()),
  }
}

function malformed(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    if (!isGovernorError(err)) throw err
    expect(err.code).toBe('GOV_ERR_OTLP_MALFORMED')
    expect(err.statusCode).toBe(400)
    return err.message
  }
  throw new Error('expected GOV_ERR_OTLP_MALFORMED')
}

const T = '1700000000123456789' // 2023-11-14T22:13:20.123Z
const T_MS = 1_700_000_000_123
const str = (key: string, v: string) => ({ key, value: { stringValue: v } })
const request = (metrics: object[], resource: object[] = [str('service.name', 'svc')]) => ({
  resourceMetrics: [
    { resource: { attributes: resource }, scopeMetrics: [{ scope: { name: 'sc', version: '1' }, metrics }] },
  ],
})
const gauge = (name: string, points: object[]) => ({ name, gauge: { dataPoints: points } })

describe('decodeOtlpProto (and decodeOtlpJson on the same request)', () => {
  it('decodes summaries and defaults service to unknown_service', () => {
    const req = request(
      [
        {
          name: 'rpc.duration',
          unit: 's',
          description: 'RPC time',
          summary: {
            dataPoints: [
              {
                attributes: [str('method', 'Get')],
                startTimeUnixNano: '1700000000000000000',
                timeUnixNano: T,
                flags: 1,
                count: '12',
                sum: 3.5,
                quantileValues: [
                  { quantile: 0.5, value: 0.25 },
                  { quantile: 0.99, value: 1.5 },
                ],
              },
            ],
          },
        },
      ],
      [],
    )
    for (const r of Object.values(both(req))) {
      expect(r.rejected).toBe(0)
      const s = r.batch.summaries
      expect(s.length).toBe(1)
      expect([s.ts[0], s.start[0], s.flags[0], s.count[0], s.sum[0]]).toEqual([T_MS, 1_700_000_000_000, 1, 12, 3.5])
      expect(s.quantiles[0]).toEqual([0.5, 0.99])
      expect(s.values[0]).toEqual([0.25, 1.5])
      expect(r.batch.series.get(s.seriesId[0]!)).toMatchObject({
        metric: 'rpc.duration',
        type: 'summary',
        temporality: 'unspecified',
        monotonic: false,
        unit: 's',
        description: 'RPC time',
        service: 'unknown_service',
        scope: 'sc',
        resource: {},
        attributes: { method: 'Get' },
      })
    }
  })

  it('converts nanoseconds to milliseconds exactly, where a double would round up', () => {
    // 1700000000123999999 as a double is 1700000000124000000: a naive floor gives ...124.
    const req = request([
      gauge('g', [{ timeUnixNano: '1700000000123999999', startTimeUnixNano: '18446744073709551615', asDouble: 1 }]),
    ])
    for (const r of Object.values(both(req))) {
      expect(r.batch.samples.ts[0]).toBe(1_700_000_000_123)
      expect(r.batch.samples.start[0]).toBe(18_446_744_073_709)
    }
  })

  it('decodes exponential histograms with negative buckets, scale and zero threshold', () => {
    const point = {
      timeUnixNano: T,
      count: '9',
      sum: -4.5,
      scale: -3,
      zeroCount: '2',
      zeroThreshold: 1e-9,
      positive: { offset: -2, bucketCounts: ['1', '2'] },
      negative: { offset: 5, bucketCounts: ['3', '0', '1'] },
      min: -8,
    }
    const req = request([{ name: 'e', exponentialHistogram: { aggregationTemporality: 2, dataPoints: [point] } }])
    for (const type of [Packed, Unpacked]) {
      for (const r of Object.values(both(req, type))) {
        const e = r.batch.expHistograms
        expect([e.count[0], e.sum[0], e.scale[0], e.zeroCount[0], e.zeroThreshold[0], e.min[0]]).toEqual([
          9, -4.5, -3, 2, 1e-9, -8,
        ])
        expect(e.max[0]).toBeNaN()
        expect(e.positive[0]).toEqual({ offset: -2, counts: [1, 2] })
        expect(e.negative[0]).toEqual({ offset: 5, counts: [3, 0, 1] })
        expect(r.batch.series.get(e.seriesId[0]!)?.temporality).toBe('cumulative')
      }
    }
  })

  it('decodes packed and unpacked histogram buckets alike, and NaN for absent sum/min/max', () => {
    const req = request([
      {
        name: 'h',
        histogram: {
          aggregationTemporality: 1,
          dataPoints: [
            {
              timeUnixNano: T,
              count: '6',
              sum: 10,
              min: 0.5,
              max: 9,
              explicitBounds: [1, 5],
              bucketCounts: ['1', '2', '3'],
            },
            { timeUnixNano: T, count: '4', attributes: [str('k', 'v')] },
          ],
        },
      },
    ])
    const encodings = [encode(Packed, req), encode(Unpacked, req)]
    expect(Buffer.compare(encodings[0]!, encodings[1]!)).not.toBe(0)
    for (const bytes of encodings) {
      const { batch, rejected } = decodeOtlpProto(bytes, new SeriesCache())
      expect(rejected).toBe(0)
      const h = batch.histograms
      expect([h.count[0], h.sum[0], h.min[0], h.max[0]]).toEqual([6, 10, 0.5, 9])
      expect(h.bounds[0]).toEqual([1, 5])
      expect(h.counts[0]).toEqual([1, 2, 3])
      expect([h.count[1], h.sum[1], h.min[1], h.max[1]]).toEqual([4, NaN, NaN, NaN])
      expect(h.bounds[1]).toEqual([])
      expect(batch.series.get(h.seriesId[0]!)?.temporality).toBe('delta')
    }
  })

  it('flattens every AnyValue kind to the same strings in both encodings', () => {
    const attrs = [
      str('s', 'héllo'),
      { key: 'b', value: { boolValue: false } },
      { key: 'i', value: { intValue: '-9223372036854775808' } },
      { key: 'big', value: { intValue: '9007199254740993' } },
      { key: 'd', value: { doubleValue: 2.5 } },
      { key: 'bytes', value: { bytesValue: 'AQID/w==' } },
      { key: 'empty', value: {} },
      {
        key: 'arr',
        value: {
          arrayValue: {
            values: [
              { stringValue: 'x"y' },
              { intValue: '7' },
              { doubleValue: 0.5 },
              { boolValue: true },
              { bytesValue: 'AQ==' },
              {},
              { arrayValue: { values: [{ intValue: '1' }] } },
            ],
          },
        },
      },
      {
        key: 'map',
        value: { kvlistValue: { values: [str('a', '1'), { key: 'n', value: { kvlistValue: { values: [] } } }] } },
      },
      { key: '__proto__', value: { stringValue: 'safe' } },
    ]
    const req = request(
      [gauge('g', [{ timeUnixNano: T, asInt: '1', attributes: attrs }])],
      [...attrs, str('service.name', 'api')],
    )
    const expected = {
      s: 'héllo',
      b: 'false',
      i: '-9223372036854775808',
      big: '9007199254740993',
      d: '2.5',
      bytes: 'AQID/w==',
      empty: '',
      arr: '["x\\"y",7,0.5,true,"AQ==",null,[1]]',
      map: '{"a":"1","n":{}}',
      ['__proto__']: 'safe',
    }
    const { proto, json } = both(req)
    for (const r of [proto, json]) {
      const s = r.batch.series.get(r.batch.samples.seriesId[0]!)!
      expect({ ...s.attributes }).toEqual(expected)
      expect(Object.keys(s.attributes)).toContain('__proto__')
      expect(s.service).toBe('api')
      expect({ ...s.resource }).toEqual({ ...expected, 'service.name': 'api' })
    }
    expect(proto.batch.samples.seriesId[0]).toBe(json.batch.samples.seriesId[0])
  })

  it('maps the same attributes in a different order to the same series', () => {
    const a = request(
      [gauge('g', [{ timeUnixNano: T, asDouble: 1, attributes: [str('x', '1'), str('y', '2')] }])],
      [str('service.name', 's'), str('host', 'h')],
    )
    const b = request(
      [gauge('g', [{ timeUnixNano: T, asDouble: 1, attributes: [str('y', '2'), str('x', '1')] }])],
      [str('host', 'h'), str('service.name', 's')],
    )
    const cache = new SeriesCache()
    const ida = decodeOtlpProto(encode(Packed, a), cache).batch.samples.seriesId[0]
    expect(decodeOtlpProto(encode(Packed, b), cache).batch.samples.seriesId[0]).toBe(ida)
    expect(decodeOtlpProto(encode(Packed, b), new SeriesCache()).batch.samples.seriesId[0]).toBe(ida)
  })

  it('skips unknown fields of every wire type in every message', () => {
    const u = { uVarint: '18446744073709551615', uI64: '5', uLen: 'future', uI32: 7, uMsg: str('k', 'v') }
    const req = {
      ...u,
      resourceMetrics: [
        {
          ...u,
          resource: { ...u, attributes: [{ ...u, key: 'service.name', value: { ...u, stringValue: 'svc' } }] },
          scopeMetrics: [
            {
              ...u,
              scope: { ...u, name: 'sc' },
              metrics: [
                {
                  ...u,
                  name: 's',
                  sum: {
                    ...u,
                    aggregationTemporality: 2,
                    isMonotonic: true,
                    dataPoints: [
                      {
                        ...u,
                        timeUnixNano: T,
                        asInt: '-5',
                        exemplars: [{ ...u, timeUnixNano: T, asDouble: 1, spanId: 'AQID' }],
                      },
                    ],
                  },
                },
                {
                  ...u,
                  name: 'h',
                  histogram: {
                    ...u,
                    dataPoints: [{ ...u, timeUnixNano: T, count: '1', explicitBounds: [1], bucketCounts: ['0', '1'] }],
                  },
                },
                {
                  ...u,
                  name: 'q',
                  summary: {
                    ...u,
                    dataPoints: [{ ...u, timeUnixNano: T, quantileValues: [{ ...u, quantile: 1, value: 2 }] }],
                  },
                },
                {
                  ...u,
                  name: 'e',
                  exponentialHistogram: {
                    ...u,
                    dataPoints: [{ ...u, timeUnixNano: T, positive: { ...u, bucketCounts: ['4'] } }],
                  },
                },
              ],
            },
          ],
        },
      ],
    }
    const { batch, rejected } = decodeOtlpProto(encode(Future, req), new SeriesCache())
    expect(rejected).toBe(0)
    expect(batch.samples.value).toEqual([-5])
    expect(batch.series.get(batch.samples.seriesId[0]!)).toMatchObject({ service: 'svc', scope: 'sc', monotonic: true })
    expect(batch.histograms.counts[0]).toEqual([0, 1])
    expect(batch.summaries.values[0]).toEqual([2])
    expect(batch.expHistograms.positive[0]).toEqual({ offset: 0, counts: [4] })
    const json = decodeOtlpJson(toJson(Future, req), new SeriesCache())
    expect(json.batch.pointCount).toBe(4)
  })

  it('rejects points that cannot be stored and keeps the rest', () => {
    const req = request([
      gauge('', [
        { timeUnixNano: T, asDouble: 1 },
        { timeUnixNano: T, asDouble: 2 },
      ]),
      gauge('g', [
        { timeUnixNano: T, asDouble: 1 },
        { asDouble: 2 },
        { timeUnixNano: '0', asDouble: 3 },
        { timeUnixNano: T },
      ]),
      {
        name: 'h',
        histogram: {
          dataPoints: [
            { timeUnixNano: T, explicitBounds: [1, 2], bucketCounts: ['1', '1'] },
            { timeUnixNano: T, explicitBounds: [], bucketCounts: ['1', '2'] },
            { timeUnixNano: T, count: '3', sum: 6 },
            { timeUnixNano: T, explicitBounds: [1], bucketCounts: ['1', '2'] },
          ],
        },
      },
      { name: 'nodata', unit: '1' },
    ])
    for (const r of Object.values(both(req))) {
      expect(r.rejected).toBe(2 + 3 + 2)
      expect(r.batch.samples.value).toEqual([1])
      expect(r.batch.histograms.count).toEqual([3, 0])
      expect(r.batch.histograms.counts[1]).toEqual([1, 2])
      expect(r.errors).toHaveLength(MAX_ERRORS)
      expect(r.errors).toContain('metric has an empty name')
      expect(r.errors).toContain('metric "g": data point has no time_unix_nano (missing or 0)')
      expect(r.errors).toContain('metric "g": number data point has neither asInt nor asDouble')
      expect(r.errors).toContain(
        'metric "h": histogram data point has 2 bucket counts for 2 explicit bounds (expected bounds + 1)',
      )
      expect(r.errors).toContain(
        'metric "h": histogram data point has 2 bucket counts for 0 explicit bounds (expected bounds + 1)',
      )
      expect([...r.batch.series.values()].map((s) => s.metric).sort()).toEqual(['g', 'h'])
    }
  })

  it('keeps at most MAX_ERRORS distinct reasons but counts every rejection', () => {
    const metrics = Array.from({ length: 8 }, (_, i) => gauge(`m${i}`, [{ asDouble: 1 }, { asDouble: 2 }]))
    const { proto } = both(request(metrics))
    expect(proto.rejected).toBe(16)
    expect(proto.errors).toEqual(
      [0, 1, 2, 3, 4].map((i) => `metric "m${i}": data point has no time_unix_nano (missing or 0)`),
    )
  })

  it('reads a metric whose data comes before its name', () => {
    const Gauge = Packed.root.lookupType('t.Gauge')
    const data = Gauge.encode(Gauge.fromObject({ dataPoints: [{ timeUnixNano: T, asDouble: 4 }] })).finish()
    const metricBytes = protobuf.Writer.create()
      .uint32((5 << 3) | 2)
      .bytes(data)
      .uint32((1 << 3) | 2)
      .string('late.name')
      .finish()
    const scope = protobuf.Writer.create()
      .uint32((2 << 3) | 2)
      .bytes(metricBytes)
      .finish()
    const rm = protobuf.Writer.create()
      .uint32((2 << 3) | 2)
      .bytes(scope)
      .finish()
    const body = protobuf.Writer.create()
      .uint32((1 << 3) | 2)
      .bytes(rm)
      .finish()
    const { batch } = decodeOtlpProto(body, new SeriesCache())
    expect(batch.samples.metric).toEqual(['late.name'])
    expect(batch.samples.value).toEqual([4])
  })

  it('throws GOV_ERR_OTLP_MALFORMED for a known field with the wrong wire type', () => {
    const point = protobuf.Writer.create()
      .uint32((3 << 3) | 0)
      .uint32(5)
      .finish() // time_unix_nano as a varint
    const g = protobuf.Writer.create()
      .uint32((1 << 3) | 2)
      .bytes(point)
      .finish()
    const m = protobuf.Writer.create()
      .uint32((1 << 3) | 2)
      .string('g')
      .uint32((5 << 3) | 2)
      .bytes(g)
      .finish()
    const s = protobuf.Writer.create()
      .uint32((2 << 3) | 2)
      .bytes(m)
      .finish()
    const rm = protobuf.Writer.create()
      .uint32((2 << 3) | 2)
      .bytes(s)
      .finish()
    const body = protobuf.Writer.create()
      .uint32((1 << 3) | 2)
      .bytes(rm)
      .finish()
    expect(malformed(() => decodeOtlpProto(body, new SeriesCache()))).toMatch(
      /at byte \d+: NumberDataPoint.time_unix_nano has wire type 0, expected 1/,
    )
    expect(malformed(() => decodeOtlpProto(new Uint8Array([0x09, 1, 2, 3, 4, 5, 6, 7, 8]), new SeriesCache()))).toMatch(
      /ExportMetricsServiceRequest.resource_metrics has wire type 1/,
    )
  })

  it('throws GOV_ERR_OTLP_MALFORMED for truncated and garbage bodies, and never another error', () => {
    const req = request([
      {
        name: 'c',
        sum: { aggregationTemporality: 2, dataPoints: [{ timeUnixNano: T, asInt: '3', attributes: [str('a', 'b')] }] },
      },
      { name: 'h', histogram: { dataPoints: [{ timeUnixNano: T, explicitBounds: [1], bucketCounts: ['1', '2'] }] } },
    ])
    const body = encode(Packed, req)
    expect(malformed(() => decodeOtlpProto(body.subarray(0, body.length - 1), new SeriesCache()))).toMatch(
      /at byte \d+/,
    )
    expect(malformed(() => decodeOtlpProto(new Uint8Array([0xff, 0xff, 0xff, 0xff]), new SeriesCache()))).toMatch(
      /varint/,
    )
    expect(
      malformed(() => decodeOtlpProto(new TextEncoder().encode('{"resourceMetrics":[]}'), new SeriesCache())),
    ).toMatch(/at byte/)

    // Every truncation and many single-byte corruptions: a result or a malformed error.
    let seed = 42
    const rand = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31
    const variants: Uint8Array[] = []
    for (let n = 0; n < body.length; n++) variants.push(body.subarray(0, n))
    for (let i = 0; i < 500; i++) {
      const copy = body.slice()
      copy[Math.floor(rand() * copy.length)] = Math.floor(rand() * 256)
      variants.push(copy)
    }
    let thrown = 0
    for (const v of variants) {
      try {
        decodeOtlpProto(v, new SeriesCache())
      } catch (err) {
        expect(isGovernorError(err) && err.code === 'GOV_ERR_OTLP_MALFORMED').toBe(true)
        thrown++
      }
    }
    expect(thrown).toBeGreaterThan(body.length / 2)
  })

  it('decodes an empty body as an empty batch', () => {
    const r = decodeOtlpProto(new Uint8Array(0), new SeriesCache())
    expect(r.batch.pointCount).toBe(0)
    expect(r.rejected).toBe(0)
  })

  describe('exemplars', () => {
    const TRACE = '0af7651916cd43dd8448eb211c80319c'
    const SPAN = 'b7ad6b7169203331'
    const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64')
    const exemplarsOf = (r: DecodeResult) =>
      r.batch.exemplars.series.map((s, i) => ({
        metric: s.metric,
        ts: r.batch.exemplars.ts[i],
        value: r.batch.exemplars.value[i],
        labels: { ...r.batch.exemplars.labels[i] },
      }))

    it('keeps the exemplars of sums, histograms and exponential histograms on their series, trace and span ids as hex labels', () => {
      const withIds = { traceId: b64(TRACE), spanId: b64(SPAN) }
      const req = request([
        {
          name: 'reqs',
          sum: {
            aggregationTemporality: 2,
            isMonotonic: true,
            dataPoints: [
              {
                timeUnixNano: T,
                asInt: '3',
                exemplars: [
                  {
                    timeUnixNano: '1700000000100000000',
                    asInt: '7',
                    filteredAttributes: [str('user', 'u1')],
                    ...withIds,
                  },
                  { timeUnixNano: '1700000000101000000', asDouble: 0.5 },
                ],
              },
            ],
          },
        },
        {
          name: 'lat',
          histogram: {
            aggregationTemporality: 2,
            dataPoints: [
              {
                timeUnixNano: T,
                count: '1',
                explicitBounds: [1],
                bucketCounts: ['1', '0'],
                exemplars: [{ asDouble: 0.25, ...withIds }],
              },
            ],
          },
        },
        {
          name: 'exp',
          exponentialHistogram: {
            aggregationTemporality: 2,
            dataPoints: [{ timeUnixNano: T, count: '1', exemplars: [{ timeUnixNano: T, asDouble: 2 }] }],
          },
        },
      ])
      const proto = decodeOtlpProto(encode(Packed, req), new SeriesCache())
      expect(proto.batch.pointCount).toBe(3)
      expect(exemplarsOf(proto)).toEqual([
        { metric: 'reqs', ts: 1_700_000_000_100, value: 7, labels: { user: 'u1', trace_id: TRACE, span_id: SPAN } },
        { metric: 'reqs', ts: 1_700_000_000_101, value: 0.5, labels: {} },
        // No time of its own: the point's.
        { metric: 'lat', ts: T_MS, value: 0.25, labels: { trace_id: TRACE, span_id: SPAN } },
        { metric: 'exp', ts: T_MS, value: 2, labels: {} },
      ])
      // OTLP JSON carries the ids as hex.
      const json = toJson(Packed, req) as {
        resourceMetrics: {
          scopeMetrics: {
            metrics: {
              sum?: { dataPoints: { exemplars: Record<string, unknown>[] }[] }
              histogram?: { dataPoints: { exemplars: Record<string, unknown>[] }[] }
            }[]
          }[]
        }[]
      }
      for (const m of json.resourceMetrics[0]!.scopeMetrics[0]!.metrics) {
        for (const p of (m.sum ?? m.histogram)?.dataPoints ?? []) {
          for (const e of p.exemplars) {
            if (e.traceId !== undefined) Object.assign(e, { traceId: TRACE.toUpperCase(), spanId: SPAN })
          }
        }
      }
      expect(exemplarsOf(decodeOtlpJson(json, new SeriesCache()))).toEqual(exemplarsOf(proto))
    })

    it('leaves out absent and all-zero ids, drops exemplars over 128 label characters but never their point', () => {
      const long = 'x'.repeat(120)
      const { proto, json } = both(
        request([
          {
            name: 'g',
            gauge: {
              dataPoints: [
                {
                  timeUnixNano: T,
                  asDouble: 1,
                  exemplars: [
                    {
                      timeUnixNano: T,
                      asDouble: 1,
                      traceId: b64('00'.repeat(16)),
                      filteredAttributes: [str('k', long)],
                    },
                    // 1 + 120 + 8 characters: one over the limit.
                    { timeUnixNano: T, asDouble: 2, filteredAttributes: [str('k', long), str('abcdefgh', '')] },
                  ],
                },
              ],
            },
          },
        ]),
      )
      for (const r of [proto, json]) {
        expect(r.batch.samples.value).toEqual([1])
        expect(r.rejected).toBe(0)
        expect(r.exemplarsDropped).toBe(1)
        expect(exemplarsOf(r)).toEqual([{ metric: 'g', ts: T_MS, value: 1, labels: { k: long } }])
      }
    })

    it('drops the exemplars of a point that is rejected', () => {
      const { proto, json } = both(
        request([
          { name: 'g', gauge: { dataPoints: [{ asDouble: 1, exemplars: [{ timeUnixNano: T, asDouble: 1 }] }] } },
        ]),
      )
      for (const r of [proto, json]) {
        expect(r.rejected).toBe(1)
        expect(r.batch.exemplars.length).toBe(0)
      }
    })
  })
})
