import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { Counter, Histogram, Registry } from 'prom-client'
import protobuf from 'protobufjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startPrometheus, stop, type Server } from '../../bench/lib/peer-servers.ts'
import { startServer } from '../helpers/server.ts'
import { hasPeer } from '../setup/debian-peers.ts'

// A real Prometheus (Debian's 2.42, native histograms on) scrapes two targets and
// remote-writes to Governor:
//   - a real client library (prom-client) with a classic histogram of latencies and a counter
//     named without `_total`, in the text exposition format;
//   - a native histogram (schema 3) of the same latencies, in the protobuf format (prom-client
//     has none), encoded here.
// Each scrape first observes 400 more latencies, log-normal (median 0.1 s), from a seeded
// generator. Governor's p99 is compared with Prometheus' histogram_quantile, and the counter,
// whose metadata Prometheus sends only every 10 s, is first stored on a guess, then re-typed.

const OBSERVATIONS_PER_SCRAPE = 400
/** The native histogram's schema: buckets grow by 2^(1/8), about 9 % each. */
const SCHEMA = 3
/** The rate window, and the step of Governor's own query API. */
const WINDOW_MILLIS = 10_000

// io.prometheus.client's metrics.proto: the fields a native histogram needs.
const MetricFamily = protobuf
  .parse(
    `syntax = "proto2"; package io.prometheus.client;
  enum MetricType { COUNTER = 0; GAUGE = 1; SUMMARY = 2; UNTYPED = 3; HISTOGRAM = 4; GAUGE_HISTOGRAM = 5; }
  message BucketSpan { optional sint32 offset = 1; optional uint32 length = 2; }
  message Histogram {
    optional uint64 sample_count = 1; optional double sample_sum = 2;
    optional sint32 schema = 5; optional double zero_threshold = 6; optional uint64 zero_count = 7;
    repeated BucketSpan positive_span = 12; repeated sint64 positive_delta = 13;
  }
  message Metric { optional Histogram histogram = 7; }
  message MetricFamily { optional string name = 1; optional string help = 2; optional MetricType type = 3; repeated Metric metric = 4; }`,
  )
  .root.lookupType('io.prometheus.client.MetricFamily')

/** A seeded generator of log-normal latencies (Box-Muller over a 32-bit LCG). */
function latencies(seed: number): () => number {
  let state = seed >>> 0
  const uniform = () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0
    return (state + 0.5) / 2 ** 32
  }
  return () => 0.1 * Math.exp(0.8 * Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform()))
}

/** A native histogram of positive observations, in Prometheus' bucket numbering: bucket i is (2^((i-1)/8), 2^(i/8)]. */
class NativeHistogram {
  readonly counts = new Map<number, number>()
  count = 0
  sum = 0

  observe(v: number): void {
    const i = Math.ceil(Math.log2(v) * 2 ** SCHEMA)
    this.counts.set(i, (this.counts.get(i) ?? 0) + 1)
    this.count++
    this.sum += v
  }

  /** The family in the delimited protobuf exposition: one span over every bucket, counts delta-encoded. */
  exposition(): Buffer {
    const indexes = [...this.counts.keys()]
    const lo = Math.min(...indexes)
    const hi = Math.max(...indexes)
    const deltas: number[] = []
    let previous = 0
    for (let i = lo; i <= hi; i++) {
      const c = this.counts.get(i) ?? 0
      deltas.push(c - previous)
      previous = c
    }
    const family = {
      name: 'native_latency_seconds',
      help: 'Latency in exponential buckets.',
      type: 4,
      metric: [
        {
          histogram: {
            sampleCount: this.count,
            sampleSum: this.sum,
            schema: SCHEMA,
            zeroThreshold: 2 ** -128,
            zeroCount: 0,
            positiveSpan: [{ offset: lo, length: hi - lo + 1 }],
            positiveDelta: deltas,
          },
        },
      ],
    }
    return Buffer.from(MetricFamily.encodeDelimited(MetricFamily.fromObject(family)).finish())
  }
}

let governor: FastifyInstance
let governorUrl: string
let prometheus: Server | undefined
let promDir: string
const targets: HttpServer[] = []

async function listen(handler: (res: import('node:http').ServerResponse) => Promise<void>): Promise<string> {
  const server = createServer((_req, res) => void handler(res))
  targets.push(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return `127.0.0.1:${(server.address() as AddressInfo).port}`
}

async function sql<T>(query: string): Promise<T[]> {
  const rs = await governor.governor.store.client.query({ query, format: 'JSONCompactEachRow' })
  return rs.json<T>()
}

/** Polls until `get` gives a value `check` accepts (Prometheus scrapes every second and sends within about one more). */
async function until<T>(what: string, get: () => Promise<T>, check: (v: T) => boolean): Promise<T> {
  for (let i = 0; i < 900; i++) {
    const v = await get()
    if (check(v)) return v
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`${what}: not seen after 900 polls\n${prometheus?.output() ?? ''}`)
}

/** The one value of an instant query's answer. */
async function instant(base: string, query: string, timeSeconds: number): Promise<number> {
  const res = await fetch(`${base}/api/v1/query?${new URLSearchParams({ query, time: String(timeSeconds) })}`)
  const body = (await res.json()) as { status: string; data: { result: { value: [number, string] }[] } }
  expect(body.status, JSON.stringify(body)).toBe('success')
  expect(body.data.result, `${base}: ${query}`).toHaveLength(1)
  return Number(body.data.result[0]!.value[1])
}

/** Times (epoch ms) of the first and last points Governor holds of `metric` in `table`. */
async function span(metric: string, table: string): Promise<[number, number]> {
  await governor.governor.pipeline.sync()
  const [row] = await sql<[string, string]>(
    `SELECT min(ts), max(ts) FROM governor.${table} WHERE series_id IN (SELECT series_id FROM governor.series WHERE metric = '${metric}')`,
  )
  return [Number(row![0]), Number(row![1])]
}

describe.skipIf(!hasPeer('prometheus'))('a real Prometheus and a real client library', { timeout: 240_000 }, () => {
  beforeAll(async () => {
    ;({ app: governor, url: governorUrl } = await startServer({ flushIntervalMillis: 50 }))
    const registry = new Registry()
    const classic = new Histogram({
      name: 'classic_latency_seconds',
      help: 'Latency in classic buckets.',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    })
    const legacy = new Counter({
      name: 'legacy_requests',
      help: 'Requests, counted without _total.',
      registers: [registry],
    })
    const nextClassic = latencies(1)
    const classicTarget = await listen(async (res) => {
      for (let i = 0; i < OBSERVATIONS_PER_SCRAPE; i++) classic.observe(nextClassic())
      legacy.inc(10)
      const text = await registry.metrics()
      res.writeHead(200, { 'content-type': registry.contentType }).end(text)
    })
    const native = new NativeHistogram()
    const nextNative = latencies(2)
    const nativeTarget = await listen(async (res) => {
      for (let i = 0; i < OBSERVATIONS_PER_SCRAPE; i++) native.observe(nextNative())
      res
        .writeHead(200, {
          'content-type':
            'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited',
        })
        .end(native.exposition())
    })
    promDir = mkdtempSync(join(tmpdir(), 'prometheus-client-'))
    prometheus = await startPrometheus(
      promDir,
      () => `global:
  scrape_interval: 1s
scrape_configs:
  - job_name: shop
    static_configs:
      - targets: ['${classicTarget}', '${nativeTarget}']
remote_write:
  - url: ${governorUrl}/api/v1/write
    send_native_histograms: true
    metadata_config:
      send_interval: 10s
    queue_config:
      batch_send_deadline: 1s
`,
      { extraArgs: ['--enable-feature=native-histograms'] },
    )
  }, 120_000)

  afterAll(async () => {
    await stop(prometheus)
    for (const t of targets) await new Promise((r) => t.close(r))
    await governor?.close()
    if (promDir !== undefined) rmSync(promDir, { recursive: true, force: true })
  })

  it('a counter stored on a guess before its metadata came is re-typed when it comes, and the change recorded', async () => {
    // Samples come within about 2 s, metadata after 10 s: the first rows carry the guess.
    const first = await until(
      'legacy_requests in Governor',
      () => sql<[string]>(`SELECT type FROM governor.series FINAL WHERE metric = 'legacy_requests'`),
      (rows) => rows.length > 0,
    )
    expect(first, 'the metadata came before the samples: make metadata_config.send_interval longer').toEqual([
      ['gauge'],
    ])
    const events = await until(
      'the re-typing in the change log',
      () => governor.governor.changeLog.list({ kind: 'metric_retyped', limit: 10 }),
      (e) => e.length > 0,
    )
    expect(events.map((e) => [e.service, e.title])).toEqual([
      ['shop', 'legacy_requests re-typed from gauge to counter'],
    ])
    expect(
      await sql(`SELECT type, temporality, monotonic FROM governor.series FINAL WHERE metric = 'legacy_requests'`),
    ).toEqual([['sum', 'cumulative', true]])
    // Samples keep coming, stored as the counter's; Governor's own API reads a counter.
    const [, last] = await span('legacy_requests', 'samples')
    await until(
      'more legacy_requests samples',
      () => span('legacy_requests', 'samples'),
      ([, l]) => l > last,
    )
    const res = await fetch(
      `${governorUrl}/api/v1/query?metric=legacy_requests&agg=rate&step=10s&from=${last - 60_000}&to=${last}`,
    )
    expect(res.status, await res.clone().text()).toBe(200)
    expect(((await res.json()) as { metric: { type: string } }).metric.type).toBe('sum')
  })

  // Both sides read the same samples over the same window: Governor's own API takes a step
  // bucket [b, b + 10 s), which is Prometheus' rate(x[10s]) at b + 10 s − 1 ms (see
  // step-increase.ts), and its PromQL the very window Prometheus does. Both interpolate
  // linearly inside the bucket the rank falls in (Prometheus 2.42 does for native histograms
  // too) and scale every bucket alike (the window starts 20 s and more after the counts
  // did, so no bucket near the p99 meets the zero-clamp of the extrapolation): the answers
  // may differ by float rounding only, so 1e-9 relative. A wrong bucket would be off by 9 %
  // at least (a native bucket's width), a wrong interpolation or window by far more than
  // 1e-9 (400 random observations a second move the p99 by ~1 % from window to window).
  it('gives the p99 of classic and native histograms Prometheus’ histogram_quantile gives', async () => {
    const [firstNative, lastNative] = await until(
      '35 s of native histograms in Governor',
      () => span('native_latency_seconds', 'exp_histograms'),
      ([f, l]) => f > 0 && l - f >= 35_000,
    )
    const [firstClassic] = await span('classic_latency_seconds_bucket', 'samples')
    // A whole window, every point of which Governor holds (remote write sends in order).
    const b = Math.floor((lastNative - 1000 - WINDOW_MILLIS) / WINDOW_MILLIS) * WINDOW_MILLIS
    expect(b - Math.max(firstNative, firstClassic)).toBeGreaterThanOrEqual(14_000)
    await until(
      'the classic histogram through the window in Governor',
      () => span('classic_latency_seconds_bucket', 'samples'),
      ([, l]) => l >= b + WINDOW_MILLIS,
    )
    const t = (b + WINDOW_MILLIS - 1) / 1000

    const classicQuery = 'histogram_quantile(0.99, rate(classic_latency_seconds_bucket[10s]))'
    const classicWant = await instant(prometheus!.url, classicQuery, t)
    const classicGot = await instant(`${governorUrl}/prometheus`, classicQuery, t)
    // Log-normal, median 0.1 s, sigma 0.8: the p99 is near 0.64 s, inside the (0.5, 1] bucket.
    expect(classicWant).toBeGreaterThan(0.5)
    expect(classicWant).toBeLessThan(1)
    expect(Math.abs(classicGot / classicWant - 1), `${classicGot} vs ${classicWant}`).toBeLessThan(1e-9)

    const nativeWant = await instant(prometheus!.url, 'histogram_quantile(0.99, rate(native_latency_seconds[10s]))', t)
    const res = await fetch(
      `${governorUrl}/api/v1/query?metric=native_latency_seconds&agg=p99&step=10s&from=${b}&to=${b + WINDOW_MILLIS}`,
    )
    expect(res.status, await res.clone().text()).toBe(200)
    const body = (await res.json()) as { series: { points: [number, number][] }[] }
    expect(body.series).toHaveLength(1)
    const point = body.series[0]!.points.find(([ts]) => ts === b)
    expect(point, JSON.stringify(body.series[0]!.points)).toBeDefined()
    const nativeGot = point![1]
    process.stdout.write(
      `p99 over [${b}, ${b + WINDOW_MILLIS}): classic ${classicWant} (Prometheus) ${classicGot} (Governor PromQL); native ${nativeWant} (Prometheus) ${nativeGot} (Governor's query API)\n`,
    )
    expect(nativeWant).toBeGreaterThan(0.4)
    expect(nativeWant).toBeLessThan(1)
    expect(Math.abs(nativeGot / nativeWant - 1), `${nativeGot} vs ${nativeWant}`).toBeLessThan(1e-9)
  })
})
