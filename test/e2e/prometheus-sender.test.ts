import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import protobuf from 'protobufjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startPrometheus, stop, type Server } from '../../bench/lib/peer-servers.ts'
import { startServer } from '../helpers/server.ts'
import { hasPeer } from '../setup/debian-peers.ts'

// A real Prometheus (Debian's 2.42, native histograms on) scrapes a target that exposes a native
// histogram, a classic one and a counter without `_total` in the protobuf exposition format,
// and remote-writes everything to Governor, metadata included (sent in requests of its own,
// after the first samples). What Governor stores is compared with what Prometheus says.

// io.prometheus.client's metrics.proto: the fields this target sets.
const MetricFamily = protobuf
  .parse(
    `syntax = "proto2"; package io.prometheus.client;
  message LabelPair { optional string name = 1; optional string value = 2; }
  enum MetricType { COUNTER = 0; GAUGE = 1; SUMMARY = 2; UNTYPED = 3; HISTOGRAM = 4; GAUGE_HISTOGRAM = 5; }
  message Counter { optional double value = 1; }
  message Bucket { optional uint64 cumulative_count = 1; optional double upper_bound = 2; }
  message BucketSpan { optional sint32 offset = 1; optional uint32 length = 2; }
  message Histogram {
    optional uint64 sample_count = 1; optional double sample_sum = 2; repeated Bucket bucket = 3;
    optional sint32 schema = 5; optional double zero_threshold = 6; optional uint64 zero_count = 7;
    repeated BucketSpan negative_span = 9; repeated sint64 negative_delta = 10;
    repeated BucketSpan positive_span = 12; repeated sint64 positive_delta = 13;
  }
  message Metric { repeated LabelPair label = 1; optional Counter counter = 3; optional Histogram histogram = 7; }
  message MetricFamily { optional string name = 1; optional string help = 2; optional MetricType type = 3; repeated Metric metric = 4; }`,
  )
  .root.lookupType('io.prometheus.client.MetricFamily')

/** The exposition, growing with each scrape so that every scrape is a new sample. */
function exposition(scrape: number): Buffer {
  const families = [
    {
      name: 'legacy_requests',
      help: 'Requests, counted by an exporter that predates _total.',
      type: 0,
      metric: [{ label: [{ name: 'path', value: '/a' }], counter: { value: 10 * scrape } }],
    },
    {
      name: 'classic_seconds',
      help: 'Latency in classic buckets.',
      type: 4,
      metric: [
        {
          histogram: {
            sampleCount: 4 * scrape,
            sampleSum: 1.5 * scrape,
            bucket: [
              { cumulativeCount: scrape, upperBound: 0.1 },
              { cumulativeCount: 3 * scrape, upperBound: 0.5 },
              { cumulativeCount: 4 * scrape, upperBound: Infinity },
            ],
          },
        },
      ],
    },
    {
      name: 'native_seconds',
      help: 'Latency in exponential buckets.',
      type: 4,
      metric: [
        {
          // Schema 0: buckets (2^(i-1), 2^i]. Counts per scrape: 1 in the zero bucket, 3 in
          // bucket 1, 2 in bucket 2, 1 in bucket 4.
          histogram: {
            sampleCount: 7 * scrape,
            sampleSum: 20 * scrape,
            schema: 0,
            zeroThreshold: 1e-9,
            zeroCount: scrape,
            positiveSpan: [
              { offset: 1, length: 2 },
              { offset: 1, length: 1 },
            ],
            positiveDelta: [3 * scrape, -scrape, -scrape],
          },
        },
      ],
    },
  ]
  return Buffer.concat(families.map((f) => MetricFamily.encodeDelimited(MetricFamily.fromObject(f)).finish()))
}

let governor: FastifyInstance
let governorUrl: string
let target: HttpServer
let prometheus: Server | undefined
let promDir: string
let scrapes = 0

async function governorHas(sql: string): Promise<boolean> {
  const rs = await governor.governor.store.client.query({ query: sql, format: 'JSONCompactEachRow' })
  return Number((await rs.json<[string]>())[0]?.[0] ?? 0) > 0
}

/** Polls until `check` holds (Prometheus scrapes every second and sends within about one more). */
async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`${what}: not seen after 600 polls\n${prometheus?.output() ?? ''}`)
}

describe.skipIf(!hasPeer('prometheus'))('a real Prometheus remote-writing to Governor', { timeout: 240_000 }, () => {
  beforeAll(async () => {
    ;({ app: governor, url: governorUrl } = await startServer({ flushIntervalMillis: 50 }))
    target = createServer((_req, res) => {
      res.writeHead(200, {
        'content-type': 'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited',
      })
      res.end(exposition(++scrapes))
    })
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r))
    const targetAddress = `127.0.0.1:${(target.address() as AddressInfo).port}`
    promDir = mkdtempSync(join(tmpdir(), 'prometheus-sender-'))
    prometheus = await startPrometheus(
      promDir,
      () => `global:
  scrape_interval: 1s
scrape_configs:
  - job_name: shop
    static_configs:
      - targets: ['${targetAddress}']
remote_write:
  - url: ${governorUrl}/api/v1/write
    send_native_histograms: true
    metadata_config:
      send_interval: 1s
    queue_config:
      batch_send_deadline: 1s
`,
      { extraArgs: ['--enable-feature=native-histograms'] },
    )
  }, 120_000)

  afterAll(async () => {
    await stop(prometheus)
    await new Promise((r) => target?.close(r))
    await governor?.close()
    if (promDir !== undefined) rmSync(promDir, { recursive: true, force: true })
  })

  it('stores native histograms as exponential ones, with the buckets Prometheus scraped', async () => {
    const series = `SELECT series_id FROM governor.series WHERE metric = 'native_seconds'`
    await until('a native histogram in Governor', () =>
      governorHas(`SELECT count() FROM governor.exp_histograms WHERE series_id IN (${series})`),
    )
    await governor.governor.pipeline.sync()
    const rs = await governor.governor.store.client.query({
      query: `SELECT count, sum, scale, zero_count, positive_offset, positive_counts FROM governor.exp_histograms
WHERE series_id IN (${series}) ORDER BY ts`,
      format: 'JSONEachRow',
    })
    // 64-bit counts may come quoted or not: read as numbers.
    const rows = (await rs.json<Record<string, number | string | (number | string)[]>>()).map((row) =>
      Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Array.isArray(v) ? v.map(Number) : Number(v)])),
    )
    expect(rows.length).toBeGreaterThan(0)
    for (const row of rows) {
      // Scrape n: count 7n, sum 20n, zero count n, buckets 1, 2, 4 holding 3n, 2n, n (OpenTelemetry's 0, 1, 3).
      const n = row.zero_count as number
      expect(n).toBeGreaterThan(0)
      expect(row).toEqual({
        count: 7 * n,
        sum: 20 * n,
        scale: 0,
        zero_count: n,
        positive_offset: 0,
        positive_counts: [3 * n, 2 * n, 0, n],
      })
    }
  })

  it('keeps the metadata Prometheus sends after the samples, and the samples of a counter without _total', async () => {
    const metadata = async () =>
      ((await (await fetch(`${governorUrl}/prometheus/api/v1/metadata`)).json()) as { data: Record<string, unknown> })
        .data
    await until('metadata in Governor', async () => (await metadata()).native_seconds !== undefined)
    const data = await metadata()
    expect(data.legacy_requests).toEqual([
      { type: 'counter', help: 'Requests, counted by an exporter that predates _total.', unit: '' },
    ])
    expect(data.classic_seconds).toEqual([{ type: 'histogram', help: 'Latency in classic buckets.', unit: '' }])
    expect(data.native_seconds).toEqual([{ type: 'histogram', help: 'Latency in exponential buckets.', unit: '' }])
    // Samples of the counter keep coming after its metadata said "counter".
    const before = await countOf('legacy_requests')
    await until('more legacy_requests samples', async () => (await countOf('legacy_requests')) > before + 1)
  })
})

async function countOf(metric: string): Promise<number> {
  await governor.governor.pipeline.sync()
  const rs = await governor.governor.store.client.query({
    query: `SELECT count() FROM governor.samples WHERE series_id IN (SELECT series_id FROM governor.series WHERE metric = {m:String})`,
    query_params: { m: metric },
    format: 'JSONCompactEachRow',
  })
  return Number((await rs.json<[string]>())[0]![0])
}
