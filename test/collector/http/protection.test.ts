import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../../collector/src/app.ts'
import { gaugeRequest } from '../../helpers/otlp.ts'
import { testSettings } from '../../helpers/settings.ts'

// Security headers on every answer, and request rate limits on every route (per token,
// ingest apart from the API, in each route's error shape).

const TOKENS = {
  app: 'ingest-8c1d2e3f4a5b6c7d',
  prom: 'ingest-0d0e0f1a2b3c4d5e',
  ci: 'deploy-3f9a4b5c6d7e8f90',
  dev: 'read-1a2b3c4d5e6f7a8b9c',
}
const env = `app=ingest:${TOKENS.app},prom=ingest:${TOKENS.prom},ci=deploy:${TOKENS.ci},dev=read:${TOKENS.dev}`
const API_LIMIT = 5
const INGEST_LIMIT = 8

let app: FastifyInstance
let url: string
beforeAll(async () => {
  app = await buildApp(
    testSettings({ tokens: env, rateLimitApiPerMinute: API_LIMIT, rateLimitIngestPerMinute: INGEST_LIMIT }),
    { logger: false },
  )
  await app.listen({ host: '127.0.0.1', port: 0 })
  url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
})
afterAll(async () => {
  await app?.close()
})

const auth = (who: keyof typeof TOKENS) => ({ authorization: `Bearer ${TOKENS[who]}` })

function expectSecurityHeaders(headers: Record<string, unknown>, what: string): void {
  const csp = String(headers['content-security-policy'])
  expect(csp, what).toContain("default-src 'self'")
  expect(csp, what).toContain("frame-ancestors 'none'")
  expect(csp, what).toContain("object-src 'none'")
  expect(csp, what).toContain("script-src 'self'")
  expect(csp, what).not.toContain('upgrade-insecure-requests')
  expect(headers['x-content-type-options'], what).toBe('nosniff')
  expect(headers['x-frame-options'], what).toBe('SAMEORIGIN')
  expect(headers['referrer-policy'], what).toBe('no-referrer')
  expect(headers['cross-origin-resource-policy'], what).toBe('same-origin')
  expect(headers['strict-transport-security'], what).toBeUndefined()
  expect(headers['x-powered-by'], what).toBeUndefined()
}

describe('security headers', () => {
  it('are on answers, errors, refusals and 404s of every kind of route', async () => {
    const answers = {
      health: await app.inject({ method: 'GET', url: '/healthz' }),
      api: await app.inject({ method: 'GET', url: '/api/v1/deploys/last', headers: auth('ci') }),
      refused: await app.inject({ method: 'GET', url: '/api/v1/deploys/last' }),
      missing: await app.inject({ method: 'GET', url: '/nothing/here' }),
      otlp: await app.inject({
        method: 'POST',
        url: '/v1/metrics',
        headers: { ...auth('app'), 'content-type': 'application/json' },
        payload: '{"resourceMetrics": []}',
      }),
      otlpError: await app.inject({
        method: 'POST',
        url: '/v1/metrics',
        headers: { ...auth('app'), 'content-type': 'text/plain' },
        payload: 'x',
      }),
      remoteWrite: await app.inject({
        method: 'POST',
        url: '/api/v1/write',
        headers: { ...auth('prom'), 'content-type': 'application/x-protobuf' },
        payload: Buffer.from([0xff]),
      }),
    }
    expect(answers.refused.statusCode).toBe(401)
    expect(answers.missing.statusCode).toBe(404)
    expect(answers.otlpError.statusCode).toBe(415)
    expect(answers.remoteWrite.statusCode).toBe(400)
    for (const [what, res] of Object.entries(answers)) expectSecurityHeaders(res.headers, what)
  })

  it('are on the live knob stream too, which writes its own head', async () => {
    const ac = new AbortController()
    const res = await fetch(`${url}/api/v1/knobs/stream`, { headers: auth('dev'), signal: ac.signal })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/event-stream')
    expectSecurityHeaders(Object.fromEntries(res.headers), 'stream')
    ac.abort()
  })
})

describe('rate limits', () => {
  it("refuse the API past its limit per token with 429, Retry-After and the API's error shape", async () => {
    for (let i = 0; i < API_LIMIT - 1; i++)
      expect((await app.inject({ method: 'GET', url: '/api/v1/deploys', headers: auth('dev') })).statusCode).toBe(200)
    const over = await app.inject({ method: 'GET', url: '/api/v1/deploys', headers: auth('dev') })
    expect(over.statusCode).toBe(429)
    const retryAfter = Number(over.headers['retry-after'])
    expect(retryAfter).toBeGreaterThan(0)
    expect(retryAfter).toBeLessThanOrEqual(60)
    expect(over.json()).toEqual({
      error: {
        code: 'GOV_ERR_RATE_LIMITED',
        message: `more than ${API_LIMIT} requests a minute from token "dev" (GOVERNOR_RATE_LIMIT_API_PER_MINUTE): retry after ${retryAfter} s`,
      },
    })
    expectSecurityHeaders(over.headers, '429')
    // Another token has a window of its own.
    expect((await app.inject({ method: 'GET', url: '/api/v1/deploys', headers: auth('ci') })).statusCode).toBe(200)
  })

  it('give the receivers their own, higher limit, answered as OTLP asks (RESOURCE_EXHAUSTED)', async () => {
    const body = JSON.stringify(gaugeRequest('checkout', { 'rate.test': [{ ts: Date.now(), value: 1 }] }))
    const post = () =>
      app.inject({
        method: 'POST',
        url: '/v1/metrics',
        headers: { ...auth('app'), 'content-type': 'application/json' },
        payload: body,
      })
    // The request of the first test counted once.
    for (let i = 0; i < INGEST_LIMIT - 2; i++) expect((await post()).statusCode).toBe(200)
    expect((await app.inject({ method: 'GET', url: '/api/v1/knobs', headers: auth('app') })).statusCode).toBe(200) // the API is another window
    const over = await post()
    expect(over.statusCode).toBe(429)
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(1) // the limiter's, not the receiver's default of 1
    expect(over.json()).toMatchObject({ code: 8, error: 'GOV_ERR_RATE_LIMITED' })
    expect(over.json().message).toContain('(GOVERNOR_RATE_LIMIT_INGEST_PER_MINUTE)')
  })

  it('answer remote write in plain text', async () => {
    const post = () =>
      app.inject({
        method: 'POST',
        url: '/api/v1/write',
        headers: { ...auth('prom'), 'content-type': 'application/x-protobuf' },
        payload: Buffer.alloc(0),
      })
    for (let i = 0; i < INGEST_LIMIT - 1; i++) expect((await post()).statusCode).toBe(204)
    const over = await post()
    expect(over.statusCode).toBe(429)
    expect(over.headers['content-type']).toBe('text/plain; charset=utf-8')
    expect(over.body).toMatch(/^GOV_ERR_RATE_LIMITED: more than 8 requests a minute from token "prom"/)
  })

  it('count requests without a valid token against their address, before the token is checked', async () => {
    const statuses: number[] = []
    for (let i = 0; i < API_LIMIT + 2; i++) {
      statuses.push(
        (
          await app.inject({
            method: 'GET',
            url: '/api/v1/deploys',
            headers: { authorization: `Bearer guess-${i}-0000000000000000` },
          })
        ).statusCode,
      )
    }
    // The refused requests above share the address's window with the open routes.
    expect(statuses.slice(0, 2)).toEqual([401, 401])
    expect(statuses.at(-1)).toBe(429)
    const res = await app.inject({ method: 'GET', url: '/' })
    expect(res.statusCode).toBe(429)
    expect(res.json().error.message).toMatch(/from address 127\.0\.0\.1/)
    // Health checks are answered before the rate limits: a load balancer is never refused.
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200)
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200)
  })
})
