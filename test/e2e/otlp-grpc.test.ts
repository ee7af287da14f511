import { once } from 'node:events'
import { mkdtempSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js'
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc'
import { resourceFromAttributes } from '@opentelemetry/resources'
import {
  AggregationTemporality,
  MeterProvider,
  MetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { gaugeRequest } from '../helpers/otlp.ts'
import { encodeOtlpRequest } from '../helpers/otlp-proto.ts'
import { encodeSignalRequest, logsRequest, tracesRequest } from '../helpers/otlp-signals.ts'
import { decodeExportResponse, decodeStatus } from '../helpers/rpc-status.ts'
import { freePort, runGovernor, startServer } from '../helpers/server.ts'

// OTLP/gRPC on its own port, through the OpenTelemetry JS gRPC exporter and a plain grpc-js
// client: the same decoding, roles, limits and backpressure as OTLP/HTTP. The write-ahead log
// acknowledges at once and the long flush interval keeps points pending until a read commits
// them, so with GOVERNOR_MAX_PENDING_POINTS=1 a second request before a read finds the
// pipeline full.

const TOKENS = { app: 'ingest-7a6b5c4d3e2f1a0b', dev: 'read-0b1a2f3e4d5c6b7a8c' }
const MAX_BODY = 64 * 1024

let app: FastifyInstance
let url: string
let grpcPort: number
let client: Client
beforeAll(async () => {
  grpcPort = await freePort()
  ;({ app, url } = await startServer({
    tokens: `app=ingest:${TOKENS.app},dev=read:${TOKENS.dev}`,
    grpcPort,
    maxPendingPoints: 1,
    flushIntervalMillis: 60_000,
    maxInflightIngestBodyBytes: 1024,
    maxBodyBytes: MAX_BODY,
    maxIngestConcurrency: 1,
  }))
  client = new Client(`127.0.0.1:${grpcPort}`, credentials.createInsecure())
})
afterAll(async () => {
  client?.close()
  await app?.close()
})

const PATHS = {
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
}

function withToken(token: string | null): Metadata {
  const metadata = new Metadata()
  if (token !== null) metadata.set('authorization', `Bearer ${token}`)
  return metadata
}

/** One unary call with the message as bytes (and a token unless null): its answer, or its error. */
function call(
  path: string,
  body: Buffer,
  token: string | null = TOKENS.app,
  via = client,
): Promise<{ answer?: Buffer; error?: ServiceError }> {
  const bytes = (b: Buffer) => b
  return new Promise((resolve) => {
    via.makeUnaryRequest(path, bytes, bytes, body, withToken(token), (error, answer) =>
      resolve(error !== null ? { error } : { answer: answer! }),
    )
  })
}

/** The RetryInfo of an error, from the google.rpc.Status of its grpc-status-details-bin trailer. */
function retryAfter(error: ServiceError): number | undefined {
  const [details] = error.metadata.get('grpc-status-details-bin')
  if (details === undefined) return undefined
  const status = decodeStatus(details as Buffer)
  expect(status.code).toBe(error.code)
  return status.retryAfterSeconds
}

async function query(metric: string, service: string): Promise<number[][]> {
  const res = await fetch(`${url}/api/v1/query?metric=${metric}&service=${service}&from=now-1h`, {
    headers: { authorization: `Bearer ${TOKENS.dev}` },
  })
  if (res.status === 404) return [] // a metric never stored
  expect(res.status).toBe(200)
  const body = (await res.json()) as { series: { points: number[][] }[] }
  return body.series.flatMap((s) => s.points)
}

/** A reader that only collects: the test hands what it collected to the exporter itself. */
class CollectingReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

async function exportWith(exporter: PushMetricExporter, service: string, record: (mp: MeterProvider) => void) {
  const reader = new CollectingReader({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE })
  const mp = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': service }), readers: [reader] })
  record(mp)
  const { resourceMetrics } = await reader.collect()
  const result = await new Promise<{ code: number; error?: Error }>((resolve) =>
    exporter.export(resourceMetrics, resolve),
  )
  await mp.shutdown()
  return result
}

describe('OTLP/gRPC', () => {
  it('stores what the OpenTelemetry gRPC metric exporter sends', async () => {
    const exporter = new OTLPMetricExporter({ url: `http://127.0.0.1:${grpcPort}`, metadata: withToken(TOKENS.app) })
    const result = await exportWith(exporter, 'grpc-app', (mp) => {
      const meter = mp.getMeter('grpc-e2e')
      meter.createCounter('grpc.requests').add(5, { route: '/a' })
      meter.createGauge('grpc.temperature').record(21.5)
    })
    await exporter.shutdown()
    expect(result).toMatchObject({ code: 0 })
    expect((await query('grpc.requests', 'grpc-app')).map((p) => p[1])).toEqual([5])
    expect((await query('grpc.temperature', 'grpc-app')).map((p) => p[1])).toEqual([21.5])
    const metrics = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKENS.dev}` } })).text()
    expect(metrics).toContain('governor_points_accepted_total{receiver="otlp_grpc"} 2')
  })

  it('refuses a wrong token with UNAUTHENTICATED, a token without the ingest role with PERMISSION_DENIED', async () => {
    const exporter = new OTLPMetricExporter({
      url: `http://127.0.0.1:${grpcPort}`,
      metadata: withToken('ingest-not-a-token-at-all'),
    })
    const result = await exportWith(exporter, 'grpc-intruder', (mp) =>
      mp.getMeter('x').createCounter('grpc.intruder').add(1),
    )
    await exporter.shutdown()
    expect(result.code).toBe(1)
    expect(result.error).toMatchObject({ code: 16, details: expect.stringContaining('the bearer token is not valid') })

    const body = encodeOtlpRequest(gaugeRequest('grpc-intruder', { 'grpc.intruder': [{ ts: Date.now(), value: 1 }] }))
    expect((await call(PATHS.metrics, body, null)).error).toMatchObject({
      code: 16,
      details: expect.stringContaining('send the metadata authorization: Bearer <token>'),
    })
    expect((await call(PATHS.metrics, body, TOKENS.dev)).error).toMatchObject({
      code: 7,
      details: expect.stringContaining('needs the ingest role'),
    })
    expect(await query('grpc.intruder', 'grpc-intruder')).toEqual([])
  })

  it('answers a full pipeline with UNAVAILABLE and a RetryInfo, and keeps what it took', async () => {
    const ts = Date.now() - 1000
    const first = await call(
      PATHS.metrics,
      encodeOtlpRequest(gaugeRequest('grpc-bp', { 'grpc.bp': [{ ts, value: 1 }] })),
    )
    expect(first.error).toBeUndefined()
    expect(app.governor.pipeline.pendingPoints).toBe(1) // acknowledged, not yet committed
    const second = await call(
      PATHS.metrics,
      encodeOtlpRequest(gaugeRequest('grpc-bp', { 'grpc.bp': [{ ts: ts + 1, value: 2 }] })),
    )
    expect(second.error).toMatchObject({ code: 14, details: expect.stringContaining('GOV_ERR_PIPELINE_FULL') })
    expect(retryAfter(second.error!)).toBe(1)
    expect(await query('grpc.bp', 'grpc-bp')).toEqual([[ts, 1]])
  })

  it("shares the receivers' admission and adaptive limiter with OTLP/HTTP", async () => {
    // An HTTP request that sent its head only holds 900 of the 1024 bytes, and the limiter's one slot.
    const socket = connect(Number(new URL(url).port), '127.0.0.1')
    await once(socket, 'connect')
    socket.write(
      `POST /v1/metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKENS.app}\r\nContent-Type: application/x-protobuf\r\nContent-Length: 900\r\n\r\n`,
    )
    const inflight = async () =>
      (await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKENS.dev}` } })).text()).match(
        /^governor_ingest_body_bytes_inflight (\d+)$/m,
      )?.[1]
    try {
      while ((await inflight()) !== '900') await new Promise((r) => setTimeout(r, 10))
      const refused = await call(PATHS.traces, encodeSignalRequest('traces', tracesRequest(['grpc-a', 'grpc-b'], 2, 2)))
      expect(refused.error).toMatchObject({
        code: 14,
        details: expect.stringContaining('(GOVERNOR_MAX_INFLIGHT_INGEST_BODY_BYTES)'),
      })
      expect(retryAfter(refused.error!)).toBe(1)
      const shed = await call(PATHS.logs, Buffer.alloc(0)) // fits the bytes left
      expect(shed.error).toMatchObject({
        code: 14,
        details: expect.stringContaining('over capacity (1 in flight, limit 1): shed unprocessed'),
      })
      expect(retryAfter(shed.error!)).toBe(1)
    } finally {
      socket.destroy()
    }
    while ((await inflight()) !== '0') await new Promise((r) => setTimeout(r, 10))
  })

  it('takes traces and logs, rejecting every item with a message that says why, and counts them', async () => {
    for (const [signal, request] of [
      ['traces', tracesRequest(['grpc-a'], 2, 3)],
      ['logs', logsRequest(['grpc-a'], 1, 4)],
    ] as const) {
      const { answer, error } = await call(PATHS[signal], encodeSignalRequest(signal, request))
      expect(error).toBeUndefined()
      const rejected = signal === 'traces' ? 6 : 4
      expect(decodeExportResponse(answer!)).toEqual({
        rejected,
        message: expect.stringMatching(new RegExp(`^Governor keeps metrics only: the ${rejected} `)),
      })
    }
    const metrics = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKENS.dev}` } })).text()
    expect(metrics).toContain('governor_otlp_items_not_kept_total{receiver="otlp_grpc",signal="traces"} 6')
    expect(metrics).toContain('governor_otlp_items_not_kept_total{receiver="otlp_grpc",signal="logs"} 4')
  })

  it('decompresses gzip messages, and refuses a message over GOVERNOR_MAX_BODY_BYTES, as sent or decompressed, with RESOURCE_EXHAUSTED, not retryable', async () => {
    const gzipClient = new Client(`127.0.0.1:${grpcPort}`, credentials.createInsecure(), {
      'grpc.default_compression_algorithm': 2,
    })
    try {
      const ok = await call(
        PATHS.logs,
        encodeSignalRequest('logs', logsRequest(['grpc-gzip'], 1, 2)),
        TOKENS.app,
        gzipClient,
      )
      expect(ok.error).toBeUndefined()
      const padded = encodeSignalRequest('logs', {
        resourceLogs: [{ resource: { attributes: [{ key: 'pad', value: { stringValue: 'x'.repeat(MAX_BODY) } }] } }],
      })
      const bomb = await call(PATHS.logs, padded, TOKENS.app, gzipClient)
      expect(bomb.error).toMatchObject({ code: 8 })
      expect(retryAfter(bomb.error!)).toBeUndefined()
    } finally {
      gzipClient.close()
    }
    const big = await call(PATHS.metrics, Buffer.alloc(MAX_BODY + 1))
    expect(big.error).toMatchObject({ code: 8 })
    expect(retryAfter(big.error!)).toBeUndefined()
  })

  it("refuses a message that is not protobuf of the service's request with INVALID_ARGUMENT", async () => {
    const { error } = await call(PATHS.metrics, Buffer.from([0x0a, 0x09, 0x12]))
    expect(error).toMatchObject({
      code: 3,
      details: expect.stringMatching(/^GOV_ERR_OTLP_MALFORMED: invalid protobuf at byte 1: /),
    })
    expect(retryAfter(error!)).toBeUndefined()
  })

  it('stops a start whose gRPC port is taken, naming the setting', async () => {
    const r = await runGovernor(['start'], {
      GOVERNOR_PORT: String(await freePort()),
      GOVERNOR_GRPC_PORT: String(grpcPort),
      GOVERNOR_DATA_DIR: mkdtempSync(join(tmpdir(), 'governor-grpc-busy-')),
    })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(
      new RegExp(
        `^governor: could not start: GOV_ERR_GRPC_LISTEN: could not listen for OTLP/gRPC on 127\\.0\\.0\\.1:${grpcPort} \\(GOVERNOR_GRPC_PORT on GOVERNOR_HOST\\): .*; stop what holds the port, choose another one, or set GOVERNOR_GRPC_PORT=0 to turn OTLP/gRPC off\\n$`,
      ),
    )
  })
})
