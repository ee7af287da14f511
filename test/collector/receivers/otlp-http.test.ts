import { once } from 'node:events'
import { connect } from 'node:net'
import { gzipSync } from 'node:zlib'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../../collector/src/app.ts'
import { gaugeRequest } from '../../helpers/otlp.ts'
import { encodeOtlpRequest } from '../../helpers/otlp-proto.ts'
import { encodeSignalRequest, logsRequest, tracesRequest } from '../../helpers/otlp-signals.ts'
import { decodeExportResponse, decodeStatus } from '../../helpers/rpc-status.ts'
import { testSettings } from '../../helpers/settings.ts'
import { FIXTURE_FILE, zstdRawFrame, zstdRleFrame } from '../../helpers/zstd-frames.ts'

// OTLP/HTTP beyond metrics: traces and logs are taken and answered with a partial success that
// keeps none of them; bodies in gzip or zstd; every error of a protobuf request, the refusals of
// the throttles before the handler included, is a google.rpc.Status.

const TOKENS = { app: 'ingest-5d6e7f8091a2b3c4', flood: 'ingest-0f1e2d3c4b5a6978', dev: 'read-9a8b7c6d5e4f3a2b1c' }
const INGEST_LIMIT = 40
const MAX_BODY = 16 * 1024
const MAX_INFLIGHT = 2048

let app: FastifyInstance
let port: number
beforeAll(async () => {
  app = await buildApp(
    testSettings({
      tokens: `app=ingest:${TOKENS.app},flood=ingest:${TOKENS.flood},dev=read:${TOKENS.dev}`,
      maxIngestConcurrency: 1,
      maxInflightIngestBodyBytes: MAX_INFLIGHT,
      maxBodyBytes: MAX_BODY,
      rateLimitIngestPerMinute: INGEST_LIMIT,
    }),
    { logger: false },
  )
  await app.listen({ host: '127.0.0.1', port: 0 })
  port = (app.server.address() as { port: number }).port
})
afterAll(async () => {
  await app?.close()
})

const PROTOBUF = 'application/x-protobuf'
const JSON_TYPE = 'application/json'

function post(
  path: string,
  payload: Buffer | string,
  headers: Record<string, string>,
  who: keyof typeof TOKENS | 'none' = 'app',
) {
  const auth: Record<string, string> = who === 'none' ? {} : { authorization: `Bearer ${TOKENS[who]}` }
  return app.inject({ method: 'POST', url: path, payload, headers: { ...auth, ...headers } })
}

async function selfMetrics(): Promise<string> {
  return (await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKENS.dev}` } })).body
}

async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 10))
}

describe('traces and logs over OTLP/HTTP', () => {
  const requests = { traces: tracesRequest(['checkout', 'billing'], 2, 3), logs: logsRequest(['checkout'], 3, 4) }
  const counts = { traces: 12, logs: 12 }

  it.each(['traces', 'logs'] as const)(
    'takes /v1/%s in protobuf, answering a partial success that keeps none and says why',
    async (signal) => {
      const proto = encodeSignalRequest(signal, requests[signal])
      for (const [encoding, body] of [
        ['identity', proto],
        ['gzip', gzipSync(proto)],
        ['zstd', zstdRawFrame(proto)],
      ] as const) {
        const res = await post(`/v1/${signal}`, body, { 'content-type': PROTOBUF, 'content-encoding': encoding })
        expect(res.statusCode, encoding).toBe(200)
        expect(res.headers['content-type']).toBe(PROTOBUF)
        const answer = decodeExportResponse(res.rawPayload)
        expect(answer.rejected).toBe(counts[signal])
        expect(answer.message).toBe(
          `Governor keeps metrics only: the 12 ${signal === 'traces' ? 'spans' : 'log records'} of this request were received and not kept; send ${signal} to a ${signal === 'traces' ? 'tracing' : 'logging'} backend`,
        )
      }
      expect(await selfMetrics()).toContain(
        `governor_otlp_items_not_kept_total{receiver="otlp",signal="${signal}"} ${3 * counts[signal]}`,
      )
    },
  )

  it.each(['traces', 'logs'] as const)(
    'takes /v1/%s in JSON, answering in JSON with the field OTLP names for it',
    async (signal) => {
      const res = await post(`/v1/${signal}`, JSON.stringify(requests[signal]), { 'content-type': JSON_TYPE })
      expect(res.statusCode).toBe(200)
      const field = signal === 'traces' ? 'rejectedSpans' : 'rejectedLogRecords'
      expect(res.json()).toEqual({
        partialSuccess: { [field]: '12', errorMessage: expect.stringMatching(/^Governor keeps metrics only: the 12 /) },
      })
    },
  )

  it('decompresses zstd that the zstd command wrote', async () => {
    const res = await post('/v1/traces', FIXTURE_FILE, { 'content-type': JSON_TYPE, 'content-encoding': 'zstd' })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json().partialSuccess.rejectedSpans).toBe('40')
  })

  it('needs a token with the ingest role, as /v1/metrics does', async () => {
    const body = encodeSignalRequest('logs', requests.logs)
    const none = await post('/v1/logs', body, { 'content-type': PROTOBUF }, 'none')
    expect(none.statusCode).toBe(401)
    expect(decodeStatus(none.rawPayload)).toMatchObject({
      code: 16,
      message: expect.stringContaining('needs a token with the ingest role'),
    })
    const reader = await post('/v1/logs', body, { 'content-type': PROTOBUF }, 'dev')
    expect(reader.statusCode).toBe(403)
    expect(decodeStatus(reader.rawPayload).code).toBe(7)
  })
})

describe('zstd metrics', () => {
  it('stores the points of a zstd body', async () => {
    const ts = Date.now() - 1000
    const body = zstdRawFrame(encodeOtlpRequest(gaugeRequest('zstd-app', { 'zstd.gauge': [{ ts, value: 42 }] })))
    const res = await post('/v1/metrics', body, { 'content-type': PROTOBUF, 'content-encoding': 'zstd' })
    expect(res.statusCode).toBe(200)
    expect(res.rawPayload.length).toBe(0) // everything taken
    const q = await app.inject({
      method: 'GET',
      url: '/api/v1/query?metric=zstd.gauge&service=zstd-app&from=now-1h',
      headers: { authorization: `Bearer ${TOKENS.dev}` },
    })
    expect(q.json().series[0].points).toEqual([[ts, 42]])
  })
})

describe('errors of protobuf requests are google.rpc.Status, of JSON requests JSON', () => {
  it('answers a body over the limit, as sent or decompressed, with 413 and RESOURCE_EXHAUSTED, not retryable', async () => {
    const big = Buffer.alloc(MAX_BODY + 1, 1)
    const sent = await post('/v1/metrics', big, { 'content-type': PROTOBUF })
    expect(sent.statusCode).toBe(413)
    expect(sent.headers['content-type']).toBe(PROTOBUF)
    expect(decodeStatus(sent.rawPayload)).toEqual({
      code: 8,
      message: `the body is over ${MAX_BODY} bytes (GOVERNOR_MAX_BODY_BYTES)`,
      retryAfterSeconds: undefined,
      details: 0,
    })
    expect(sent.headers['retry-after']).toBeUndefined()

    const bomb = await post('/v1/traces', zstdRleFrame(0, 10 * MAX_BODY), {
      'content-type': PROTOBUF,
      'content-encoding': 'zstd',
    })
    expect(bomb.statusCode).toBe(413)
    expect(decodeStatus(bomb.rawPayload)).toMatchObject({
      code: 8,
      message: `the zstd body decompresses to more than ${MAX_BODY} bytes (GOVERNOR_MAX_BODY_BYTES)`,
    })
    const gzipBomb = await post('/v1/metrics', gzipSync(Buffer.alloc(10 * MAX_BODY)), {
      'content-type': PROTOBUF,
      'content-encoding': 'gzip',
    })
    expect(gzipBomb.statusCode).toBe(413)
    expect(decodeStatus(gzipBomb.rawPayload).code).toBe(8)

    const json = await post('/v1/logs', big, { 'content-type': JSON_TYPE })
    expect(json.statusCode).toBe(413)
    expect(json.json()).toEqual({
      code: 8,
      message: `the body is over ${MAX_BODY} bytes (GOVERNOR_MAX_BODY_BYTES)`,
      error: 'GOV_ERR_BODY_TOO_LARGE',
    })
  })

  it('answers bodies it cannot read with INVALID_ARGUMENT', async () => {
    const brotli = await post('/v1/metrics', Buffer.from('x'), { 'content-type': PROTOBUF, 'content-encoding': 'br' })
    expect(brotli.statusCode).toBe(415)
    expect(decodeStatus(brotli.rawPayload)).toMatchObject({
      code: 3,
      message: 'unsupported Content-Encoding "br": send gzip, zstd or none',
    })
    const broken = await post('/v1/traces', Buffer.from([0x0a, 0x09, 0x12]), { 'content-type': PROTOBUF })
    expect(broken.statusCode).toBe(400)
    expect(decodeStatus(broken.rawPayload)).toMatchObject({
      code: 3,
      message: expect.stringMatching(/^invalid protobuf at byte 1: /),
    })
  })

  it("answers the rate limiter's 429 with RESOURCE_EXHAUSTED and a RetryInfo of its Retry-After", async () => {
    const body = encodeSignalRequest('traces', tracesRequest(['flood'], 1, 1))
    for (let i = 0; i < INGEST_LIMIT; i++)
      expect((await post('/v1/traces', body, { 'content-type': PROTOBUF }, 'flood')).statusCode).toBe(200)
    const over = await post('/v1/traces', body, { 'content-type': PROTOBUF }, 'flood')
    expect(over.statusCode).toBe(429)
    const status = decodeStatus(over.rawPayload)
    expect(status).toMatchObject({ code: 8, message: expect.stringContaining('GOVERNOR_RATE_LIMIT_INGEST_PER_MINUTE') })
    expect(status.retryAfterSeconds).toBe(Number(over.headers['retry-after']))
    expect(status.retryAfterSeconds).toBeGreaterThan(1)
  })

  it("answers admission's and the adaptive limiter's 503 with UNAVAILABLE and a RetryInfo", async () => {
    // A request that sent its head only holds 1900 bytes of the ceiling and the limiter's one slot.
    const socket = connect(port, '127.0.0.1')
    await once(socket, 'connect')
    socket.write(
      `POST /v1/metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKENS.app}\r\nContent-Type: ${PROTOBUF}\r\nContent-Length: 1900\r\n\r\n`,
    )
    try {
      await until(
        async () =>
          /^governor_ingest_inflight_requests 1$/m.test(await selfMetrics()) &&
          /^governor_ingest_body_bytes_inflight 1900$/m.test(await selfMetrics()),
      )

      const over = await post('/v1/metrics', Buffer.alloc(500), { 'content-type': PROTOBUF })
      expect(over.statusCode).toBe(503)
      expect(over.headers['retry-after']).toBe('1')
      expect(decodeStatus(over.rawPayload)).toMatchObject({
        code: 14,
        message: expect.stringContaining('(GOVERNOR_MAX_INFLIGHT_INGEST_BODY_BYTES)'),
        retryAfterSeconds: 1,
      })

      const small = encodeSignalRequest('logs', logsRequest(['a'], 1, 1))
      const shed = await post('/v1/logs', small, { 'content-type': PROTOBUF })
      expect(shed.statusCode).toBe(503)
      expect(shed.headers['retry-after']).toBe('1')
      expect(shed.headers['content-type']).toBe(PROTOBUF)
      expect(decodeStatus(shed.rawPayload)).toMatchObject({
        code: 14,
        message: expect.stringMatching(/^over capacity \(1 in flight, limit 1\): shed/),
        retryAfterSeconds: 1,
      })

      const shedJson = await post('/v1/logs', '{}', { 'content-type': JSON_TYPE })
      expect(shedJson.statusCode).toBe(503)
      expect(shedJson.json()).toMatchObject({
        code: 'THROTTLE_ERR_SHED',
        message: expect.stringMatching(/^over capacity/),
      })
    } finally {
      socket.destroy()
    }
    await until(async () => /^governor_ingest_inflight_requests 0$/m.test(await selfMetrics()))
    expect(
      (await post('/v1/logs', encodeSignalRequest('logs', logsRequest(['a'], 1, 1)), { 'content-type': PROTOBUF }))
        .statusCode,
    ).toBe(200)
  })
})
