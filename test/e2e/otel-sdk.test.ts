import { OTLPMetricExporter as JsonExporter } from '@opentelemetry/exporter-metrics-otlp-http'
import { OTLPMetricExporter as ProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto'
import { resourceFromAttributes } from '@opentelemetry/resources'
import {
  AggregationTemporality,
  AggregationType,
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer } from '../helpers/server.ts'

// The real OpenTelemetry JS SDK exports to a listening collector, over OTLP protobuf and
// OTLP JSON, with cumulative and delta temporality; every instrument type must come back
// with the exact values recorded.

let app: FastifyInstance
let url: string

beforeAll(async () => {
  ;({ app, url } = await startServer())
})
afterAll(async () => {
  await app?.close()
})

async function query(params: Record<string, string>): Promise<{
  metric: { type: string; unit: string }
  series: { labels: Record<string, string>; points: number[][] }[]
}> {
  const res = await fetch(`${url}/api/v1/query?${new URLSearchParams(params)}`)
  expect(res.status, await res.clone().text()).toBe(200)
  return res.json() as never
}

async function sql<T>(query: string): Promise<T[]> {
  const rs = await app.governor.store.client.query({ query, format: 'JSONEachRow' })
  return rs.json<T>()
}

function provider(service: string, exporter: PushMetricExporter) {
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })
  const mp = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': service, 'deployment.environment': 'test' }),
    readers: [reader],
    views: [{ instrumentName: 'jobs.duration.exp', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
  })
  return mp
}

for (const [protocol, Exporter] of [
  ['protobuf', ProtoExporter],
  ['json', JsonExporter],
] as const) {
  for (const temporality of ['cumulative', 'delta'] as const) {
    describe(`OTel SDK over OTLP/${protocol}, ${temporality}`, () => {
      const service = `svc-${protocol}-${temporality}`
      it('stores every instrument type with exact values', async () => {
        const exporter = new Exporter({
          url: `${url}/v1/metrics`,
          temporalityPreference:
            temporality === 'delta' ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE,
        })
        const mp = provider(service, exporter)
        const meter = mp.getMeter('e2e', '1.0.0')
        const requests = meter.createCounter('http.requests', { unit: '{request}', description: 'requests served' })
        const inflight = meter.createUpDownCounter('http.inflight')
        const temp = meter.createGauge('room.temperature', { unit: 'Cel' })
        const latency = meter.createHistogram('http.duration', {
          unit: 'ms',
          advice: { explicitBucketBoundaries: [10, 50, 100] },
        })
        const jobs = meter.createHistogram('jobs.duration.exp', { unit: 's' })
        let queue = 7
        meter.createObservableGauge('queue.depth').addCallback((r) => r.observe(queue, { queue: 'emails' }))

        requests.add(3, { route: '/a', status: '200' })
        requests.add(4, { status: '200', route: '/a' })
        requests.add(1, { route: '/b', status: '500' })
        inflight.add(5)
        inflight.add(-2)
        temp.record(21.5, { room: 'lab' })
        for (const v of [5, 7, 20, 60, 150]) latency.record(v)
        for (const v of [0.5, 1, 2, 4]) jobs.record(v)
        await mp.forceFlush()

        requests.add(10, { route: '/a', status: '200' })
        queue = 9
        await mp.forceFlush()

        const counter = await query({ metric: 'http.requests', service, match: 'route=/a', from: 'now-1h' })
        expect(counter.metric).toMatchObject({ type: 'sum', unit: '{request}' })
        expect(counter.series).toHaveLength(1)
        expect(counter.series[0]!.labels).toMatchObject({
          route: '/a',
          status: '200',
          'service.name': service,
          'deployment.environment': 'test',
        })
        const values = counter.series[0]!.points.map((p) => p[1])
        // Cumulative: the running totals. Delta: what was added in each interval.
        expect(values).toEqual(temporality === 'cumulative' ? [7, 17] : [7, 10])

        const b = await query({ metric: 'http.requests', service, match: 'route=/b' })
        expect(b.series[0]!.points.map((p) => p[1])).toEqual(temporality === 'cumulative' ? [1, 1] : [1])

        const updown = await query({ metric: 'http.inflight', service })
        expect(updown.series[0]!.points[0]![1]).toBe(3)

        const gauge = await query({ metric: 'room.temperature', service })
        expect(gauge.metric).toMatchObject({ type: 'gauge', unit: 'Cel' })
        expect(gauge.series[0]!.labels.room).toBe('lab')
        expect(gauge.series[0]!.points[0]![1]).toBe(21.5)

        const observable = await query({ metric: 'queue.depth', service })
        expect(observable.series[0]!.points.map((p) => p[1])).toEqual([7, 9])

        const hist = await query({ metric: 'http.duration', service })
        expect(hist.metric.type).toBe('histogram')
        expect(hist.series[0]!.points[0]!.slice(1)).toEqual([5, 242])
        const [row] = await sql<{ bounds: number[]; counts: string[]; min: number; max: number }>(
          `SELECT bounds, counts, min, max FROM governor.histograms WHERE series_id IN (SELECT series_id FROM governor.series WHERE metric = 'http.duration' AND service = '${service}') ORDER BY ts LIMIT 1`,
        )
        expect(row).toEqual({ bounds: [10, 50, 100], counts: ['2', '1', '1', '1'], min: 5, max: 150 })

        const exp = await query({ metric: 'jobs.duration.exp', service })
        expect(exp.metric.type).toBe('exponential_histogram')
        expect(exp.series[0]!.points[0]!.slice(1)).toEqual([4, 7.5])
        const [e] = await sql<{ total: string; zero_count: string }>(
          `SELECT arraySum(positive_counts) + arraySum(negative_counts) + zero_count AS total, zero_count FROM governor.exp_histograms WHERE series_id IN (SELECT series_id FROM governor.series WHERE metric = 'jobs.duration.exp' AND service = '${service}') ORDER BY ts LIMIT 1`,
        )
        expect(e).toEqual({ total: '4', zero_count: '0' })

        const [s] = await sql<{ temporality: string; monotonic: boolean; scope: string; description: string }>(
          `SELECT temporality, monotonic, scope, description FROM governor.series FINAL WHERE metric = 'http.requests' AND service = '${service}' LIMIT 1`,
        )
        expect(s).toEqual({ temporality, monotonic: true, scope: 'e2e', description: 'requests served' })
        await mp.shutdown()
      })
    })
  }
}

describe('metadata endpoints', () => {
  it('lists the metrics and the label sets of one', async () => {
    const res = await fetch(`${url}/api/v1/metrics`)
    const { metrics } = (await res.json()) as { metrics: { name: string; type: string; services: string[] }[] }
    const requests = metrics.find((m) => m.name === 'http.requests')
    expect(requests?.type).toBe('sum')
    expect(requests?.services).toEqual([
      'svc-json-cumulative',
      'svc-json-delta',
      'svc-protobuf-cumulative',
      'svc-protobuf-delta',
    ])
    const series = (await (await fetch(`${url}/api/v1/series?metric=http.requests&service=svc-json-delta`)).json()) as {
      series: { labels: Record<string, string> }[]
    }
    expect(series.series.map((s) => s.labels.route).sort()).toEqual(['/a', '/b'])
  })

  it('answers 404 with a message for an unknown metric', async () => {
    const res = await fetch(`${url}/api/v1/query?metric=no.such.metric`)
    expect(res.status).toBe(404)
    expect(await res.json()).toEqual({
      error: { code: 'GOV_ERR_QUERY_UNKNOWN_METRIC', message: expect.stringContaining('no.such.metric') },
    })
  })
})
