import protobuf from 'protobufjs'
import { describe, expect, it } from 'vitest'
import { RemoteWriteV2Decoding } from '../../../collector/src/decode/remote-write-v2.ts'
import { decodeRemoteWrite } from '../../../collector/src/decode/remote-write.ts'
import type { PointBatch } from '../../../collector/src/model/batch.ts'
import { SeriesCache } from '../../../collector/src/model/series-cache.ts'
import {
  encodeV2Request,
  nativeHistogram,
  type NativeHistogramMessage,
  type V2Series,
} from '../../helpers/remote-write-v2.ts'

// Remote write 1.0 with native histograms, from prompb's types.proto (the fields read here).
const V1 = protobuf
  .parse(
    `syntax = "proto3"; package prometheus;
  message WriteRequest { repeated TimeSeries timeseries = 1; }
  message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; repeated Histogram histograms = 4; }
  message Label { string name = 1; string value = 2; }
  message Sample { double value = 1; int64 timestamp = 2; }
  message BucketSpan { sint32 offset = 1; uint32 length = 2; }
  message Histogram {
    oneof count { uint64 count_int = 1; double count_float = 2; }
    double sum = 3; sint32 schema = 4; double zero_threshold = 5;
    oneof zero_count { uint64 zero_count_int = 6; double zero_count_float = 7; }
    repeated BucketSpan negative_spans = 8; repeated sint64 negative_deltas = 9; repeated double negative_counts = 10;
    repeated BucketSpan positive_spans = 11; repeated sint64 positive_deltas = 12; repeated double positive_counts = 13;
    int32 reset_hint = 14; int64 timestamp = 15;
  }`,
  )
  .root.lookupType('prometheus.WriteRequest')

const T = 1_700_000_000_000

/** `nativeHistogram(T)` as OpenTelemetry buckets: Prometheus' bucket i is OpenTelemetry's i - 1. */
const EXPECTED = {
  scale: 0,
  count: 8,
  sum: 33.5,
  zeroCount: 1,
  positive: { offset: 0, counts: [3, 2, 0, 1] },
  negative: { offset: 0, counts: [1] },
}

function histogramsOf(batch: PointBatch) {
  const h = batch.expHistograms
  return h.series.map((s, i) => ({
    metric: s.metric,
    type: s.type,
    attributes: { ...s.attributes },
    ts: h.ts[i],
    start: h.start[i],
    scale: h.scale[i],
    count: h.count[i],
    sum: h.sum[i],
    zeroCount: h.zeroCount[i],
    positive: h.positive[i],
    negative: h.negative[i],
  }))
}

function v2(series: V2Series[]) {
  const decoding = new RemoteWriteV2Decoding(encodeV2Request(series), new SeriesCache())
  return { batch: decoding.next(), decoding }
}

function v1(series: { labels: Record<string, string>; samples?: [number, number][]; histograms?: object[] }[]) {
  const timeseries = series.map((s) => ({
    labels: Object.entries(s.labels).map(([name, value]) => ({ name, value })),
    samples: (s.samples ?? []).map(([timestamp, value]) => ({ timestamp, value })),
    histograms: s.histograms ?? [],
  }))
  return decodeRemoteWrite(V1.encode(V1.fromObject({ timeseries })).finish(), new SeriesCache())
}

const one = (h: Partial<NativeHistogramMessage>) => ({ ...nativeHistogram(T), ...h })

describe('native histograms from remote write', () => {
  it('2.0: stored as an exponential histogram of the series name, spans made dense, starting at the created time', () => {
    const { batch, decoding } = v2([
      {
        labels: { __name__: 'rpc_duration_seconds', job: 'api', method: 'get' },
        histograms: [nativeHistogram(T)],
        metadata: { type: 'histogram', help: 'RPC latency.' },
        created: T - 60_000,
      },
    ])
    expect(decoding.rejected).toBe(0)
    expect(histogramsOf(batch)).toEqual([
      {
        metric: 'rpc_duration_seconds',
        type: 'exponential_histogram',
        attributes: { job: 'api', method: 'get' },
        ts: T,
        start: T - 60_000,
        ...EXPECTED,
      },
    ])
  })

  it('1.0: the same histogram gives the same buckets, and float series after it keep their own type', () => {
    const r = v1([
      { labels: { __name__: 'queue_depth', job: 'api', q: 'a' }, samples: [[T, 4]] },
      { labels: { __name__: 'rpc_duration_seconds', job: 'api' }, histograms: [nativeHistogram(T)] },
      { labels: { __name__: 'queue_depth', job: 'api', q: 'b' }, samples: [[T, 5]] },
    ])
    expect(r.rejected).toBe(0)
    expect(histogramsOf(r.batch)).toEqual([
      expect.objectContaining({ metric: 'rpc_duration_seconds', type: 'exponential_histogram', start: 0, ...EXPECTED }),
    ])
    expect(r.batch.samples.series.map((s) => [s.metric, s.type, s.attributes.q])).toEqual([
      ['queue_depth', 'gauge', 'a'],
      ['queue_depth', 'gauge', 'b'],
    ])
  })

  it('float histograms with whole counts are taken as integer ones', () => {
    const float = one({
      countInt: undefined,
      countFloat: 8,
      zeroCountInt: undefined,
      zeroCountFloat: 1,
      positiveDeltas: [],
      positiveCounts: [3, 2, 1],
      negativeDeltas: [],
      negativeCounts: [1],
    })
    const { batch, decoding } = v2([{ labels: { __name__: 'h', job: 'j' }, histograms: [float] }])
    expect(decoding.rejected).toBe(0)
    expect(histogramsOf(batch)).toEqual([expect.objectContaining(EXPECTED)])
  })

  it('refuses, counts and names what an exponential histogram cannot hold, and keeps the rest of the request', () => {
    const cases: [string, Partial<NativeHistogramMessage>, RegExp][] = [
      ['fractional', { positiveDeltas: [], positiveCounts: [3, 2.5, 1] }, /count 2\.5, expected a whole number/],
      ['custom', { schema: -53, customValues: [0.1, 1] }, /schema -53 is not stored/],
      ['gauge', { resetHint: 3 }, /gauge native histograms are not stored/],
      ['short', { positiveDeltas: [3, -1] }, /the spans cover 3 buckets and 2 counts were sent/],
      ['negative', { positiveDeltas: [3, -4, 1] }, /count -1, expected a whole number/],
      [
        'wide',
        {
          positiveSpans: [
            { offset: 1, length: 2 },
            { offset: 100_000, length: 1 },
          ],
        },
        /reach over 4096 buckets/,
      ],
    ]
    for (const [name, change, reason] of cases) {
      const { batch, decoding } = v2([
        { labels: { __name__: 'h', job: 'j', case: name }, histograms: [one(change)] },
        { labels: { __name__: 'h', job: 'j', case: 'good' }, histograms: [nativeHistogram(T)] },
      ])
      expect(decoding.rejected, name).toBe(1)
      expect(decoding.errors.join('\n'), name).toMatch(reason)
      expect(histogramsOf(batch).map((h) => h.attributes.case)).toEqual(['good'])
    }
  })
})
