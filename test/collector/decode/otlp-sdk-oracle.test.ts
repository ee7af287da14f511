import { ValueType } from '@opentelemetry/api'
import { JsonMetricsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer'
import { resourceFromAttributes } from '@opentelemetry/resources'
import {
  AggregationTemporality,
  AggregationType,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics'
import { describe, expect, it } from 'vitest'
import type { DecodeResult } from '../../../collector/src/decode/decode-result.ts'
import { decodeOtlpJson } from '../../../collector/src/decode/otlp-json.ts'
import { decodeOtlpProto } from '../../../collector/src/decode/otlp-proto.ts'
import type { PointBatch } from '../../../collector/src/model/batch.ts'
import { SeriesCache } from '../../../collector/src/model/series-cache.ts'
import type { SeriesInfo } from '../../../collector/src/model/types.ts'

/**
 * The real OpenTelemetry JS SDK records, the real OTLP serializers encode, and both
 * decoders must give back what was recorded.
 */

class TestReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

function setup(temporality: AggregationTemporality) {
  const reader = new TestReader({ aggregationTemporalitySelector: () => temporality })
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'checkout', 'host.name': 'h1', pid: 1234 }),
    readers: [reader],
    views: [{ instrumentName: 'latency.exp', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
  })
  return { reader, meter: provider.getMeter('governor-test', '1.2.3') }
}

function encode(rm: ResourceMetrics): { proto: Uint8Array; json: unknown } {
  const proto = ProtobufMetricsSerializer.serializeRequest(rm)
  const jsonBytes = JsonMetricsSerializer.serializeRequest(rm)
  if (proto === undefined || jsonBytes === undefined) throw new Error('serializer returned nothing')
  return { proto, json: JSON.parse(new TextDecoder().decode(jsonBytes)) }
}

/** Both decoders on the same request, each with a cache of its own. */
function decodeBoth(rm: ResourceMetrics): { proto: DecodeResult; json: DecodeResult } {
  const { proto, json } = encode(rm)
  return { proto: decodeOtlpProto(proto, new SeriesCache()), json: decodeOtlpJson(json, new SeriesCache()) }
}

function seriesOf(batch: PointBatch, id: bigint): SeriesInfo {
  const s = batch.series.get(id)
  if (s === undefined) throw new Error(`series ${id} missing from batch.series`)
  return s
}

/** Samples as plain rows, keyed for lookup by metric name and point attributes. */
function samples(batch: PointBatch) {
  const c = batch.samples
  return c.ts.map((ts, i) => {
    const s = seriesOf(batch, c.seriesId[i]!)
    expect(c.metric[i]).toBe(s.metric)
    return { key: `${s.metric} ${JSON.stringify(s.attributes)}`, s, ts, start: c.start[i], value: c.value[i] }
  })
}

function find<T extends { key: string }>(rows: T[], metric: string, attrs: Record<string, string>): T {
  const row = rows.find((r) => r.key === `${metric} ${JSON.stringify(attrs)}`)
  if (row === undefined)
    throw new Error(`no row for ${metric} ${JSON.stringify(attrs)} in ${rows.map((r) => r.key).join(' | ')}`)
  return row
}

const hrMillis = (t: [number, number]): number => t[0] * 1000 + Math.floor(t[1] / 1e6)

describe('decoding what the OpenTelemetry JS SDK exports', () => {
  it('gives back counters, up-down counters, gauges and histograms, cumulative', async () => {
    const { reader, meter } = setup(AggregationTemporality.CUMULATIVE)
    const requests = meter.createCounter('http.requests', { unit: '{request}', description: 'Requests served' })
    requests.add(3, { route: '/a', code: 200 })
    requests.add(4, { code: 200, route: '/a' })
    requests.add(10, { route: '/b', code: 500, ok: false, tags: ['x', 'y'], ratio: 0.5 })
    meter.createCounter('bytes.sent', { valueType: ValueType.INT }).add(2 ** 40 + 1)
    const depth = meter.createUpDownCounter('queue.depth', { valueType: ValueType.INT })
    depth.add(5)
    depth.add(-8)
    const temp = meter.createGauge('temperature', { unit: 'Cel' })
    temp.record(21.5, { room: 'a' })
    temp.record(22.25, { room: 'a' })
    const latency = meter.createHistogram('latency', { unit: 'ms' })
    for (const v of [3, 7, 12, 800]) latency.record(v, { route: '/a' })

    const { resourceMetrics, errors } = await reader.collect()
    expect(errors).toEqual([])
    const { proto, json } = decodeBoth(resourceMetrics)

    for (const result of [proto, json]) {
      expect(result.rejected).toBe(0)
      expect(result.errors).toEqual([])
      const rows = samples(result.batch)
      expect(rows).toHaveLength(5)

      const a = find(rows, 'http.requests', { route: '/a', code: '200' })
      expect(a.value).toBe(7)
      expect(a.s).toMatchObject({
        type: 'sum',
        temporality: 'cumulative',
        monotonic: true,
        unit: '{request}',
        description: 'Requests served',
        service: 'checkout',
        scope: 'governor-test',
        resource: { 'service.name': 'checkout', 'host.name': 'h1', pid: '1234' },
      })
      const b = find(rows, 'http.requests', { route: '/b', code: '500', ok: 'false', tags: '["x","y"]', ratio: '0.5' })
      expect(b.value).toBe(10)
      expect(find(rows, 'bytes.sent', {}).value).toBe(2 ** 40 + 1)
      const q = find(rows, 'queue.depth', {})
      expect(q.value).toBe(-3)
      expect(q.s).toMatchObject({ type: 'sum', monotonic: false, temporality: 'cumulative' })
      const t = find(rows, 'temperature', { room: 'a' })
      expect(t.value).toBe(22.25)
      expect(t.s).toMatchObject({ type: 'gauge', temporality: 'unspecified', monotonic: false, unit: 'Cel' })

      const h = result.batch.histograms
      expect(h.length).toBe(1)
      const hs = seriesOf(result.batch, h.seriesId[0]!)
      expect(hs).toMatchObject({
        metric: 'latency',
        type: 'histogram',
        temporality: 'cumulative',
        attributes: { route: '/a' },
      })
      expect([h.count[0], h.sum[0], h.min[0], h.max[0]]).toEqual([4, 822, 3, 800])
      expect(h.bounds[0]).toEqual([0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000])
      expect(h.counts[0]).toEqual([0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0])
    }

    // Timestamps: exactly the SDK's end/start times in milliseconds.
    const sdkPoint = resourceMetrics.scopeMetrics[0]!.metrics.find((m) => m.descriptor.name === 'http.requests')!
      .dataPoints[0]!
    for (const result of [proto, json]) {
      const a = find(samples(result.batch), 'http.requests', { route: '/a', code: '200' })
      expect(a.ts).toBe(hrMillis(sdkPoint.endTime))
      expect(a.start).toBe(hrMillis(sdkPoint.startTime))
    }

    // Both protocols name the same series the same way.
    expect([...proto.batch.series.keys()].sort()).toEqual([...json.batch.series.keys()].sort())
    expect(proto.batch.series.size).toBe(6)
  })

  it('gives back delta sums as deltas', async () => {
    const { reader, meter } = setup(AggregationTemporality.DELTA)
    const c = meter.createCounter('jobs')
    c.add(3)
    await reader.collect()
    c.add(4)
    const { resourceMetrics } = await reader.collect()
    for (const result of Object.values(decodeBoth(resourceMetrics))) {
      const row = find(samples(result.batch), 'jobs', {})
      expect(row.value).toBe(4)
      expect(row.s.temporality).toBe('delta')
      expect(row.s.monotonic).toBe(true)
      expect(row.start).toBeGreaterThan(0)
    }
  })

  it('gives back exponential histograms', async () => {
    const { reader, meter } = setup(AggregationTemporality.DELTA)
    const h = meter.createHistogram('latency.exp', { unit: 's' })
    for (const v of [0, 1, 2, 4, 100, 100]) h.record(v, { route: '/x' })
    const { resourceMetrics } = await reader.collect()
    const sdk = resourceMetrics.scopeMetrics[0]!.metrics[0]!
    const sdkValue = sdk.dataPoints[0]!.value as {
      count: number
      sum: number
      min: number
      max: number
      scale: number
      zeroCount: number
      positive: { offset: number; bucketCounts: number[] }
      negative: { offset: number; bucketCounts: number[] }
    }
    expect(sdkValue.zeroCount).toBe(1)
    expect(sdkValue.positive.bucketCounts.length).toBeGreaterThan(1)

    for (const result of Object.values(decodeBoth(resourceMetrics))) {
      const e = result.batch.expHistograms
      expect(e.length).toBe(1)
      expect(seriesOf(result.batch, e.seriesId[0]!)).toMatchObject({
        metric: 'latency.exp',
        type: 'exponential_histogram',
        temporality: 'delta',
        unit: 's',
        attributes: { route: '/x' },
      })
      expect([e.count[0], e.sum[0], e.min[0], e.max[0]]).toEqual([6, 207, 0, 100])
      expect(e.scale[0]).toBe(sdkValue.scale)
      expect(e.zeroCount[0]).toBe(1)
      expect(e.zeroThreshold[0]).toBe(0)
      expect(e.positive[0]).toEqual({ offset: sdkValue.positive.offset, counts: sdkValue.positive.bucketCounts })
      expect(e.negative[0]).toEqual({ offset: sdkValue.negative.offset, counts: sdkValue.negative.bucketCounts })
    }
  })

  it('resolves the same series id for attributes recorded in a different order', async () => {
    const { reader, meter } = setup(AggregationTemporality.CUMULATIVE)
    meter.createCounter('a').add(1, { x: '1', y: '2' })
    const first = (await reader.collect()).resourceMetrics
    const other = setup(AggregationTemporality.CUMULATIVE)
    other.meter.createCounter('a').add(1, { y: '2', x: '1' })
    const second = (await other.reader.collect()).resourceMetrics
    const cache = new SeriesCache()
    const id1 = decodeOtlpProto(encode(first).proto, cache).batch.samples.seriesId[0]
    const id2 = decodeOtlpProto(encode(second).proto, new SeriesCache()).batch.samples.seriesId[0]
    const id3 = decodeOtlpJson(encode(second).json, cache).batch.samples.seriesId[0]
    expect(id1).toBeDefined()
    expect(id2).toBe(id1)
    expect(id3).toBe(id1)
  })
})
