import protobuf from 'protobufjs'
import { describe, expect, it } from 'vitest'
import type { DecodeResult } from '../../../collector/src/decode/decode-result.ts'
import { RemoteWriteDecoding, decodeRemoteWrite } from '../../../collector/src/decode/remote-write.ts'
import { FAMILY_TYPE, MetricFamilies, seriesTyping } from '../../../collector/src/decode/remote-write-typing.ts'
import { isGovernorError } from '../../../collector/src/errors.ts'
import { CardinalityGuard } from '../../../collector/src/model/cardinality-guard.ts'
import { MetricTypes } from '../../../collector/src/model/metric-types.ts'
import { SeriesCache } from '../../../collector/src/model/series-cache.ts'
import type { PointBatch } from '../../../collector/src/model/batch.ts'
import type { SeriesInfo } from '../../../collector/src/model/types.ts'

/*
 * Requests encoded by protobufjs from an inline copy of prompb's remote.proto and
 * types.proto (the fields remote write 1.0 uses), plus a `future` copy whose every message
 * carries unknown fields of each wire type.
 */

const MESSAGES: Record<string, string> = {
  WriteRequest: 'repeated TimeSeries timeseries = 1; repeated MetricMetadata metadata = 3;',
  MetricMetadata: `enum MetricType { UNKNOWN = 0; COUNTER = 1; GAUGE = 2; HISTOGRAM = 3; GAUGEHISTOGRAM = 4; SUMMARY = 5; INFO = 6; STATESET = 7; }
    MetricType type = 1; string metric_family_name = 2; string help = 4; string unit = 5;`,
  TimeSeries:
    'repeated Label labels = 1; repeated Sample samples = 2; repeated Exemplar exemplars = 3; repeated Histogram histograms = 4;',
  Label: 'string name = 1; string value = 2;',
  Sample: 'double value = 1; int64 timestamp = 2;',
  Exemplar: 'repeated Label labels = 1; double value = 2; int64 timestamp = 3;',
  Histogram:
    'oneof count { uint64 count_int = 1; double count_float = 2; } double sum = 3; sint32 schema = 4; int64 timestamp = 15;',
}
const UNKNOWN = 'uint64 u_varint = 90; fixed64 u_i64 = 91; string u_len = 92; fixed32 u_i32 = 93; Label u_msg = 94;'

function schema(unknown: boolean): protobuf.Type {
  const body = Object.entries(MESSAGES).map(
    ([name, fields]) => `message ${name} { ${fields} ${unknown ? UNKNOWN : ''} }`,
  )
  return protobuf
    .parse(`syntax = "proto3"; package prometheus;\n${body.join('\n')}`)
    .root.lookupType('prometheus.WriteRequest')
}
const WriteRequest = schema(false)
const Future = schema(true)

function encode(request: object, type = WriteRequest): Uint8Array {
  return type.encode(type.fromObject(request)).finish()
}

function decode(
  request: object | Uint8Array,
  families = new MetricFamilies(),
  cache = new SeriesCache(),
): DecodeResult {
  return decodeRemoteWrite(request instanceof Uint8Array ? request : encode(request), cache, families)
}

type Labels = Record<string, string>
const T = 1_700_000_000_123
const labels = (l: Labels) => Object.entries(l).map(([name, value]) => ({ name, value }))
const ts = (l: Labels, samples: [number, number][]) => ({
  labels: labels(l),
  samples: samples.map(([value, timestamp]) => ({ value, timestamp })),
})

/** The series of every sample, in order. */
function seriesOf(r: DecodeResult): SeriesInfo[] {
  return r.batch.samples.series
}

function malformed(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    if (!isGovernorError(err)) throw err
    expect(err.code).toBe('GOV_ERR_RW_MALFORMED')
    expect(err.statusCode).toBe(400)
    return err.message
  }
  throw new Error('expected GOV_ERR_RW_MALFORMED')
}

describe('decodeRemoteWrite', () => {
  it('maps __name__ to the metric, other labels to attributes, and keeps every sample exactly', () => {
    const r = decode({
      timeseries: [
        ts({ __name__: 'room_temperature', job: 'sensors', room: 'kitchen', floor: '1' }, [
          [21.5, T],
          [-0.25, T + 15_000],
          [1e300, T + 30_000],
        ]),
      ],
    })
    expect(r.rejected).toBe(0)
    const s = r.batch.samples
    expect(s.ts).toEqual([T, T + 15_000, T + 30_000])
    expect(s.value).toEqual([21.5, -0.25, 1e300])
    expect(s.start).toEqual([0, 0, 0])
    expect(s.flags).toEqual([0, 0, 0])
    const series = seriesOf(r)[0]!
    expect(series).toMatchObject({
      metric: 'room_temperature',
      type: 'gauge',
      temporality: 'unspecified',
      monotonic: false,
      service: 'sensors',
      scope: '',
    })
    expect({ ...series.attributes }).toEqual({ job: 'sensors', room: 'kitchen', floor: '1' })
    expect({ ...series.resource }).toEqual({ 'service.name': 'sensors' })
    expect(r.batch.series.size).toBe(1)
  })

  it('takes the service from service_name, else service, else job, else unknown_service, and keeps the label', () => {
    const r = decode({
      timeseries: [
        ts({ __name__: 'a', job: 'j', service: 's', service_name: 'sn' }, [[1, T]]),
        ts({ __name__: 'a', job: 'j', service: 's' }, [[1, T]]),
        ts({ __name__: 'a', job: 'j' }, [[1, T]]),
        ts({ __name__: 'a', service_name: '', job: 'j2' }, [[1, T]]),
        ts({ __name__: 'a', instance: 'x' }, [[1, T]]),
      ],
    })
    const services = seriesOf(r).map((s) => s.service)
    expect(services).toEqual(['sn', 's', 'j', 'j2', 'unknown_service'])
    expect(seriesOf(r).map((s) => s.resource['service.name'])).toEqual(services)
    expect(seriesOf(r)[0]!.attributes).toMatchObject({ job: 'j', service: 's', service_name: 'sn' })
    expect(new Set(seriesOf(r).map((s) => s.id)).size).toBe(5)
  })

  it('treats a label value sent explicitly empty as absent (protobufjs would omit it)', () => {
    const field = (n: number, v: string) => [(n << 3) | 2, Buffer.byteLength(v), ...Buffer.from(v)]
    const label = (n: string, v: string) => {
      const body = [...field(1, n), ...field(2, v)]
      return [0x0a, body.length, ...body]
    }
    const sample = [0x12, 11, 0x09, ...Buffer.from(new Float64Array([1]).buffer), 0x10, 0x05]
    const series = (...labels: number[][]) => {
      const body = [...labels.flat(), ...sample]
      return [0x0a, body.length, ...body]
    }
    const r = decode(
      new Uint8Array([
        ...series(label('__name__', 'a'), label('job', 'j3'), label('service_name', '')),
        ...series(label('__name__', ''), label('job', 'j3')),
      ]),
    )
    expect(seriesOf(r).map((s) => s.service)).toEqual(['j3'])
    expect(r.rejected).toBe(1)
    expect(r.errors.join()).toMatch(/__name__/)
  })

  it('types series without metadata by name: _total, _count, _sum, _bucket are cumulative monotonic sums', () => {
    const names = [
      'http_requests_total',
      'rpc_seconds_count',
      'rpc_seconds_sum',
      'rpc_seconds_bucket',
      'memory_bytes',
      'total_size',
    ]
    const r = decode({ timeseries: names.map((n) => ts({ __name__: n, job: 'j' }, [[1, T]])) })
    expect(seriesOf(r).map((s) => [s.metric, s.type, s.temporality, s.monotonic])).toEqual([
      ['http_requests_total', 'sum', 'cumulative', true],
      ['rpc_seconds_count', 'sum', 'cumulative', true],
      ['rpc_seconds_sum', 'sum', 'cumulative', true],
      ['rpc_seconds_bucket', 'sum', 'cumulative', true],
      ['memory_bytes', 'gauge', 'unspecified', false],
      ['total_size', 'gauge', 'unspecified', false],
    ])
  })

  it('keeps storing a metric whose metadata, come late, contradicts the gauge or sum it was first stored as', () => {
    // Stored on a guess (a counter without _total, a gauge named _count) before its metadata came.
    const cache = new SeriesCache(
      1000,
      undefined,
      MetricTypes.of([
        ['legacy_hits', 'gauge'],
        ['pool_count', 'sum'],
      ]),
    )
    const metadata = [
      { type: 'COUNTER', metricFamilyName: 'legacy_hits', help: 'Hits.', unit: '' },
      { type: 'GAUGE', metricFamilyName: 'pool_count', help: 'Pools.', unit: '' },
    ]
    const timeseries = [
      ts({ __name__: 'legacy_hits', job: 'j' }, [[7, T]]),
      ts({ __name__: 'pool_count', job: 'j' }, [[2, T]]),
    ]
    const r = decode({ metadata, timeseries }, new MetricFamilies(), cache)
    expect(r.rejected).toBe(0)
    expect(seriesOf(r).map((s) => [s.metric, s.type])).toEqual([
      ['legacy_hits', 'gauge'],
      ['pool_count', 'sum'],
    ])
    expect(r.batch.samples.value).toEqual([7, 2])
  })

  it('types series from the metadata of their family, sent before or after them, with help and unit', () => {
    const metadata = [
      { type: 'COUNTER', metricFamilyName: 'jobs_done', help: 'Jobs done.', unit: '' },
      { type: 'GAUGE', metricFamilyName: 'queue_total', help: 'A gauge despite its name.', unit: 'jobs' },
      { type: 'HISTOGRAM', metricFamilyName: 'latency_seconds', help: 'Latency.', unit: 'seconds' },
      { type: 'SUMMARY', metricFamilyName: 'rpc', help: 'RPC.', unit: 'seconds' },
      { type: 'INFO', metricFamilyName: 'build', help: 'Build.', unit: '' },
      { type: 'STATESET', metricFamilyName: 'state', help: '', unit: '' },
      { type: 'COUNTER', metricFamilyName: 'legacy_hits', help: 'Text-format counter without _total.', unit: '' },
    ]
    const names = [
      'jobs_done_total',
      'queue_total',
      'latency_seconds_bucket',
      'latency_seconds_count',
      'latency_seconds_sum',
      'rpc',
      'rpc_count',
      'rpc_sum',
      'build_info',
      'state',
      'legacy_hits',
    ]
    const timeseries = names.map((n) => ts({ __name__: n, job: 'j' }, [[1, T]]))
    // Concatenated messages merge their repeated fields: metadata before, then after, the series.
    const [m, t] = [encode({ metadata }), encode({ timeseries })]
    for (const bytes of [Buffer.concat([m, t]), Buffer.concat([t, m])]) {
      const r = decode(bytes)
      expect(seriesOf(r).map((s) => [s.metric, s.type, s.monotonic, s.unit, s.description])).toEqual([
        ['jobs_done_total', 'sum', true, '', 'Jobs done.'],
        ['queue_total', 'gauge', false, 'jobs', 'A gauge despite its name.'],
        ['latency_seconds_bucket', 'sum', true, 'seconds', 'Latency.'],
        ['latency_seconds_count', 'sum', true, 'seconds', 'Latency.'],
        ['latency_seconds_sum', 'sum', true, 'seconds', 'Latency.'],
        ['rpc', 'gauge', false, 'seconds', 'RPC.'], // quantile series go down: gauges
        ['rpc_count', 'sum', true, 'seconds', 'RPC.'],
        ['rpc_sum', 'sum', true, 'seconds', 'RPC.'],
        ['build_info', 'gauge', false, '', 'Build.'],
        ['state', 'gauge', false, '', ''],
        ['legacy_hits', 'sum', true, '', 'Text-format counter without _total.'],
      ])
    }
  })

  it('remembers metadata across requests, as Prometheus sends it in requests of its own', () => {
    const families = new MetricFamilies()
    const cache = new SeriesCache()
    const before = decode({ timeseries: [ts({ __name__: 'hits', job: 'j' }, [[1, T]])] }, families, cache)
    expect(seriesOf(before)[0]!.type).toBe('gauge')
    const meta = decode(
      { metadata: [{ type: 'COUNTER', metricFamilyName: 'hits', help: 'Hits.', unit: '' }] },
      families,
      cache,
    )
    expect(meta.batch.pointCount).toBe(0)
    expect(families.get('hits')).toEqual({ type: FAMILY_TYPE.COUNTER, help: 'Hits.', unit: '' })
    const after = decode({ timeseries: [ts({ __name__: 'hits', job: 'j' }, [[2, T + 1]])] }, families, cache)
    expect(seriesOf(after)[0]).toMatchObject({
      type: 'sum',
      temporality: 'cumulative',
      monotonic: true,
      description: 'Hits.',
    })
    expect(seriesOf(after)[0]!.id).toBe(seriesOf(before)[0]!.id)
  })

  it('keeps metric families bounded, dropping the oldest half', () => {
    const families = new MetricFamilies(4)
    for (const n of ['a', 'b', 'c', 'd', 'e']) families.set(n, { type: FAMILY_TYPE.COUNTER, help: '', unit: '' })
    expect(families.size).toBe(3)
    expect(families.get('a')).toBeUndefined()
    expect(seriesTyping('e', families).type).toBe('sum')
  })

  it('stores a stale marker as a point flagged "no recorded value", other NaNs as values', () => {
    const STALE_STAND_IN = 123456.789
    const bytes = encode({
      timeseries: [
        ts({ __name__: 'up', job: 'j' }, [
          [1, T],
          [STALE_STAND_IN, T + 1],
          [NaN, T + 2],
        ]),
      ],
    })
    // Patch the stand-in's 8 bytes to the stale NaN (0x7ff0000000000002), which a JS double cannot carry.
    const stand = Buffer.alloc(8)
    stand.writeDoubleLE(STALE_STAND_IN)
    const at = Buffer.from(bytes).indexOf(stand)
    expect(at).toBeGreaterThan(0)
    Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).set([0x02, 0, 0, 0, 0, 0, 0xf0, 0x7f], at)
    const r = decode(bytes)
    const s = r.batch.samples
    expect(s.ts).toEqual([T, T + 1, T + 2])
    expect(s.flags).toEqual([0, 1, 0])
    expect(s.value[0]).toBe(1)
    expect(s.value[1]).toBeNaN()
    expect(s.value[2]).toBeNaN()
  })

  it('drops and counts samples without a name or a time and custom-bucket native histograms, and keeps the rest', () => {
    const r = decode({
      timeseries: [
        ts({ job: 'j', other: 'x' }, [
          [1, T],
          [2, T + 1],
        ]),
        ts({ __name__: '', job: 'j' }, [[1, T]]),
        ts({ __name__: 'ok', job: 'j' }, [
          [1, 0],
          [5, T],
        ]),
        {
          labels: labels({ __name__: 'native', job: 'j' }),
          histograms: [{ countInt: 3, sum: 1, schema: -53, timestamp: T }],
        },
        { labels: labels({ __name__: 'exemplars_only', job: 'j' }), exemplars: [{ value: 1, timestamp: T }] },
      ],
    })
    expect(r.rejected).toBe(5)
    expect(r.errors.join('\n')).toMatch(/__name__/)
    expect(r.errors.join('\n')).toMatch(/no time/)
    expect(r.errors.join('\n')).toMatch(/native histogram/)
    expect(r.batch.samples.value).toEqual([5])
    // A TimeSeries of exemplars alone (as Prometheus sends them) stores them on its series.
    expect(seriesOf(r).map((s) => s.metric)).toEqual(['ok'])
    expect(r.batch.exemplars.series.map((s) => s.metric)).toEqual(['exemplars_only'])
  })

  it('stores exemplars on their series, sent beside the samples or alone, and drops those over 128 label characters', () => {
    const cache = new SeriesCache()
    const trace = { name: 'trace_id', value: 'abc123' }
    const r = decode(
      {
        timeseries: [
          {
            ...ts({ __name__: 'reqs_total', job: 'j' }, [[1, T]]),
            exemplars: [{ labels: [trace], value: 3, timestamp: T - 5 }],
          },
          {
            labels: labels({ __name__: 'reqs_total', job: 'j' }),
            exemplars: [
              { labels: [{ name: 'k', value: 'é'.repeat(127) }], value: 4, timestamp: T - 4 },
              { labels: [{ name: 'k', value: 'é'.repeat(128) }], value: 5, timestamp: T - 3 },
              { labels: [], value: 6, timestamp: 0 },
            ],
          },
        ],
      },
      new MetricFamilies(),
      cache,
    )
    expect(r.batch.samples.value).toEqual([1])
    expect(r.rejected).toBe(0)
    expect(r.exemplarsDropped).toBe(2)
    const e = r.batch.exemplars
    expect(e.value).toEqual([3, 4])
    expect(e.ts).toEqual([T - 5, T - 4])
    expect(e.labels.map((l) => ({ ...l }))).toEqual([{ trace_id: 'abc123' }, { k: 'é'.repeat(127) }])
    // Both on the one series of the samples.
    expect(new Set(e.series.map((s) => s.id))).toEqual(new Set([r.batch.samples.series[0]!.id]))
  })

  it('drops and counts samples whose timestamp a double cannot carry exactly, and keeps the rest', () => {
    // int64 2^63 - 1 reads as the double 2^63, one past the Int64 column: written as digits
    // it wrapped to a negative time. Past ±2^53 - 1 ms no timestamp is exact, so none is taken.
    const encoded = WriteRequest.fromObject({
      timeseries: [
        {
          labels: labels({ __name__: 'edge', job: 'j' }),
          samples: [
            { value: 1, timestamp: T },
            { value: 2, timestamp: '9223372036854775807' },
            { value: 3, timestamp: '-9223372036854775808' },
            { value: 4, timestamp: String(2 ** 53) },
            { value: 5, timestamp: T + 1 },
          ],
        },
      ],
    })
    const bad = decode(WriteRequest.encode(encoded).finish())
    expect(bad.rejected).toBe(3)
    expect(bad.batch.samples.value).toEqual([1, 5])
    expect(bad.errors).toEqual([
      'metric "edge": data point: time is 9223372036854776000, expected whole milliseconds within ±9007199254740991',
      'metric "edge": data point: time is -9223372036854776000, expected whole milliseconds within ±9007199254740991',
      'metric "edge": data point: time is 9007199254740992, expected whole milliseconds within ±9007199254740991',
    ])
  })
  it('keeps each sample with its own series when services and metrics interleave', () => {
    const order: [string, string, string][] = [
      ['m1', 'a', '1'],
      ['m2', 'b', '2'],
      ['m1', 'b', '3'],
      ['m2', 'a', '4'],
      ['m1', 'a', '5'],
      ['m2', 'b', '6'],
    ]
    const cache = new SeriesCache()
    for (let round = 0; round < 2; round++) {
      // the second round goes through knownSeries
      const r = decode(
        { timeseries: order.map(([m, job, k]) => ts({ __name__: m, job, k }, [[Number(k), T + round]])) },
        new MetricFamilies(),
        cache,
      )
      const got = r.batch.samples.series.map((s, i) => [
        s.metric,
        s.service,
        s.attributes['k'],
        r.batch.samples.value[i],
      ])
      expect(got.sort()).toEqual(order.map(([m, job, k]) => [m, job, k, Number(k)]).sort())
      expect(r.batch.series.size).toBe(6)
    }
  })

  it('resolves a known series by its label bytes, and label order does not change its identity', () => {
    const cache = new SeriesCache()
    const families = new MetricFamilies()
    const first = decode(
      {
        timeseries: [
          ts({ __name__: 'm', job: 'j', a: '1' }, [[1, T]]),
          ts({ __name__: 'm', job: 'j', a: '2' }, [[1, T]]),
        ],
      },
      families,
      cache,
    )
    const again = decode({ timeseries: [ts({ __name__: 'm', job: 'j', a: '1' }, [[2, T + 1]])] }, families, cache)
    expect(seriesOf(again)[0]).toBe(seriesOf(first)[0]) // the same object: found by its bytes
    const reordered = decode({ timeseries: [ts({ a: '1', job: 'j', __name__: 'm' }, [[3, T + 2]])] }, families, cache)
    expect(seriesOf(reordered)[0]!.id).toBe(seriesOf(first)[0]!.id)
    // Same labels under another service or metric name are other series.
    const other = decode(
      {
        timeseries: [
          ts({ __name__: 'm2', job: 'j', a: '1' }, [[1, T]]),
          ts({ __name__: 'm', job: 'k', a: '1' }, [[1, T]]),
        ],
      },
      families,
      cache,
    )
    expect(seriesOf(other).map((s) => [s.metric, s.service])).toEqual([
      ['m2', 'j'],
      ['m', 'k'],
    ])
  })

  it('reads labels interleaved with samples, and skips unknown fields of every wire type', () => {
    const request = { timeseries: [ts({ __name__: 'm', job: 'j', a: '1' }, [[7, T]])] }
    const plain = decode(request)
    const unknown = { u_varint: 5, u_i64: '7', u_len: 'x', u_i32: 9, u_msg: { name: 'n', value: 'v' } }
    const future = {
      ...unknown,
      timeseries: [
        {
          ...unknown,
          labels: labels({ __name__: 'm', job: 'j', a: '1' }).map((l) => ({ ...l, ...unknown })),
          samples: [{ value: 7, timestamp: T, ...unknown }],
        },
      ],
      metadata: [{ type: 'COUNTER', metricFamilyName: 'other', ...unknown }],
    }
    const r = decode(encode(future, Future))
    expect(r.batch.samples.value).toEqual([7])
    expect({ ...seriesOf(r)[0]!.attributes }).toEqual({ ...seriesOf(plain)[0]!.attributes })
    expect(seriesOf(r)[0]!.id).toBe(seriesOf(plain)[0]!.id)

    // TimeSeries { label, sample, label, label }: labels not contiguous.
    const label = (n: string, v: string) => [
      0x0a,
      2 + n.length + 2 + v.length,
      0x0a,
      n.length,
      ...Buffer.from(n),
      0x12,
      v.length,
      ...Buffer.from(v),
    ]
    const sample = [0x12, 11, 0x09, ...Buffer.from(new Float64Array([7]).buffer), 0x10, 0x02]
    const body = [...label('__name__', 'm'), ...sample, ...label('job', 'j'), ...label('a', '1')]
    const interleaved = decode(new Uint8Array([0x0a, body.length, ...body]))
    expect(interleaved.batch.samples.value).toEqual([7])
    expect(interleaved.batch.samples.ts).toEqual([2])
    expect(seriesOf(interleaved)[0]!.id).toBe(seriesOf(plain)[0]!.id)
  })

  it('reads the field numbers of prompb: hand-encoded bytes equal protobufjs bytes', () => {
    // WriteRequest.timeseries=1 { labels=1 { name=1, value=2 }, samples=2 { value=1 (I64), timestamp=2 (varint) } },
    // WriteRequest.metadata=3 { type=1, metric_family_name=2, help=4, unit=5 }
    const hand = new Uint8Array([
      0x0a,
      0x16,
      0x0a,
      0x07,
      0x0a,
      0x01,
      0x5f,
      0x12,
      0x02,
      0x61,
      0x62, // label _=ab
      0x12,
      0x09,
      0x09,
      0,
      0,
      0,
      0,
      0,
      0,
      0xf0,
      0x3f, // sample value 1.0, no timestamp
      0x12,
      0x00,
      0x1a,
      0x0b,
      0x08,
      0x01,
      0x12,
      0x01,
      0x63,
      0x22,
      0x01,
      0x68,
      0x2a,
      0x01,
      0x75,
    ])
    const viaLib = encode({
      timeseries: [{ labels: [{ name: '_', value: 'ab' }], samples: [{ value: 1 }, {}] }],
      metadata: [{ type: 'COUNTER', metricFamilyName: 'c', help: 'h', unit: 'u' }],
    })
    expect(Buffer.from(viaLib).equals(Buffer.from(hand))).toBe(true)
    const families = new MetricFamilies()
    const r = decode(hand, families)
    expect(families.get('c')).toEqual({ type: FAMILY_TYPE.COUNTER, help: 'h', unit: 'u' })
    expect(r.rejected).toBe(2) // no __name__
  })

  it('refuses malformed bodies with GOV_ERR_RW_MALFORMED naming the place', () => {
    const good = encode({ timeseries: [ts({ __name__: 'm', job: 'j' }, [[1, T]])] })
    expect(malformed(() => decode(good.subarray(0, good.length - 3)))).toMatch(/byte \d+/)
    expect(malformed(() => decode(new Uint8Array([0x0a, 0xff, 0xff, 0x01, 0x02])))).toMatch(/runs past the end/)
    expect(malformed(() => decode(new Uint8Array([0x08, 0x01])))).toMatch(/WriteRequest\.timeseries has wire type 0/)
    expect(malformed(() => decode(new Uint8Array([0x0a, 0x02, 0x10, 0x01])))).toMatch(
      /TimeSeries\.samples has wire type 0/,
    )
    expect(malformed(() => decode(new Uint8Array([0x0a, 0x04, 0x0a, 0x02, 0x08, 0x01])))).toMatch(/Label\.name/)
    const named = [0x0a, 0x0d, 0x0a, 0x08, ...Buffer.from('__name__'), 0x12, 0x01, 0x6d]
    expect(malformed(() => decode(new Uint8Array([0x0a, 19, ...named, 0x12, 0x02, 0x08, 0x01])))).toMatch(
      /Sample\.value/,
    )
    expect(malformed(() => decode(new Uint8Array([0x1a, 0x02, 0x08, 0xff])))).toMatch(/varint/)
    expect(malformed(() => decode(Buffer.from('this is not protobuf')))).toMatch(/invalid protobuf/)
  })

  it('decodes an empty request to an empty batch', () => {
    const r = decode(new Uint8Array(0))
    expect([r.batch.pointCount, r.rejected]).toEqual([0, 0])
  })
})

describe('RemoteWriteDecoding (a request decoded in slices)', () => {
  /** 200 series of two services and three metrics, interleaved as senders send them, one with no name. */
  const request = {
    timeseries: [
      ...Array.from({ length: 200 }, (_, n) =>
        ts({ __name__: `m${n % 3}`, job: `j${n % 2}`, n: String(n) }, [
          [n, T + n],
          [n + 0.5, T + n + 1],
        ]),
      ),
      ts({ job: 'j0', n: 'nameless' }, [[1, T]]),
    ],
  }
  const rowsOf = (batches: PointBatch[]) =>
    batches.flatMap((b) =>
      b.samples.series.map((s, i) => [s.metric, s.service, s.attributes.n, b.samples.ts[i], b.samples.value[i]]),
    )

  it('gives every sample in exactly one slice, in the order and with the series of a decode in one go', () => {
    const whole = decodeRemoteWrite(encode(request), new SeriesCache())
    const cache = new SeriesCache()
    const decoding = new RemoteWriteDecoding(encode(request), cache)
    const slices: PointBatch[] = []
    let asked = 0
    while (!decoding.done) slices.push(decoding.next(() => ++asked > 0))
    expect(slices.length).toBeGreaterThan(3) // stopped at every look at the clock
    expect(rowsOf(slices)).toEqual(rowsOf([whole.batch]))
    expect(slices.flatMap((b) => b.samples.series.map((s) => s.id))).toEqual(
      whole.batch.samples.series.map((s) => s.id),
    )
    // Each slice names the series of its own points, and only those.
    for (const b of slices) expect(new Set(b.series.keys())).toEqual(new Set(b.samples.series.map((s) => s.id)))
    expect([decoding.rejected, decoding.errors]).toEqual([whole.rejected, whole.errors])
    expect(decoding.rejected).toBe(1)
  })

  it('decodes everything in one slice when stop never says so, and a request of no series is done at once', () => {
    const decoding = new RemoteWriteDecoding(encode(request), new SeriesCache())
    expect(decoding.done).toBe(false)
    expect(decoding.next(() => false).pointCount).toBe(400)
    expect(decoding.done).toBe(true)
    const empty = new RemoteWriteDecoding(new Uint8Array(0), new SeriesCache())
    expect(empty.next(() => true).pointCount).toBe(0)
    expect(empty.done).toBe(true)
  })

  it('refuses a body that is not a WriteRequest at once, and a sample malformed further on in the slice that reaches it', () => {
    expect(malformed(() => new RemoteWriteDecoding(new Uint8Array([0x08, 0x01]), new SeriesCache()))).toMatch(
      /WriteRequest\.timeseries has wire type 0/,
    )
    // The last series' sample has a value of wire type varint: delimiting the series does not see it.
    const named = [0x0a, 0x0d, 0x0a, 0x08, ...Buffer.from('__name__'), 0x12, 0x01, 0x6d]
    const bad = new Uint8Array([...encode(request), 0x0a, 19, ...named, 0x12, 0x02, 0x08, 0x01])
    const decoding = new RemoteWriteDecoding(bad, new SeriesCache())
    expect(decoding.next(() => true).pointCount).toBeGreaterThan(0)
    expect(
      malformed(() => {
        while (!decoding.done) decoding.next(() => false)
      }),
    ).toMatch(/Sample\.value/)
  })

  it('refuses the rest of a metric whose name another request stored under another type between two slices', () => {
    // The series limit refuses every new series; a series the store knows passes. The first
    // slice of "flip" (sent as a counter) is all new series: refused, so its type is not
    // learned; then another request stores "flip" as a gauge; the last series of the first
    // request is one the store knows.
    const flip = (family: number, ns: number[]) => ({
      metadata: [{ type: family, metricFamilyName: 'flip' }],
      timeseries: ns.map((n) => ts({ __name__: 'flip', job: 'j', n: String(n) }, [[n, T]])),
    })
    const ids = seriesOf(decode(flip(FAMILY_TYPE.COUNTER, [39]))).map((s) => s.id)
    const cache = new SeriesCache(
      1000,
      new CardinalityGuard({ maxPerMetric: 0, maxPerService: 0, isKnown: (id) => ids.includes(id), now: () => 0 }),
    )
    const first = new RemoteWriteDecoding(
      encode(
        flip(
          FAMILY_TYPE.COUNTER,
          Array.from({ length: 40 }, (_, n) => n),
        ),
      ),
      cache,
      new MetricFamilies(),
    )
    expect(first.next(() => true).pointCount).toBe(0)
    expect(first.done).toBe(false)
    const other = decode(flip(FAMILY_TYPE.GAUGE, [39]), new MetricFamilies(), cache)
    expect(seriesOf(other).map((s) => s.type)).toEqual(['gauge'])
    expect(first.next().pointCount).toBe(0) // not a counter point stored under a gauge's name
    expect(first.errors).toContain(
      'metric "flip": type sum contradicts the stored type gauge: points of another type are refused (send them under another name)',
    )
    expect(cache.types.get('flip')).toBe('gauge')
  })

  it('gives a series the id it has always had (ids are stored: a change would split every series in two)', () => {
    // Pinned values: the first 8 bytes of SHA-256 of the metric name and of the series key.
    const r = decode({
      timeseries: [
        ts({ __name__: 'http_requests_total', job: 'api', instance: 'a:9090', path: '/x"\u00e9\\\n' }, [[1, T]]),
        ts({ __name__: 'm', 10: 'ten', 9: 'nine', b: '1', a: '2' }, [[1, T]]),
      ],
    })
    expect(seriesOf(r).map((s) => s.id)).toEqual([2192903172011523187n, 7117551220389472305n])
  })
})
