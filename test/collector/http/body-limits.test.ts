import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../../collector/src/app.ts'
import { testSettings } from '../../helpers/settings.ts'

// A body limit on every route: the API's small one, the receivers' large one.

describe('body limits', () => {
  let small: FastifyInstance
  beforeAll(async () => {
    small = await buildApp(
      testSettings({
        maxApiBodyBytes: 2048,
        maxBodyBytes: 8192,
        rateLimitApiPerMinute: 0,
        rateLimitIngestPerMinute: 0,
      }),
      { logger: false },
    )
  })
  afterAll(async () => {
    await small?.close()
  })

  it('every route with a body has one: GOVERNOR_MAX_API_BODY_BYTES for the API, GOVERNOR_MAX_BODY_BYTES for the receivers', async () => {
    const routes = small.governor.access.routes.filter((r) => ['POST', 'PUT', 'DELETE', 'PATCH'].includes(r.method))
    expect(routes.length).toBeGreaterThan(10)
    const ingest = new Set(['/v1/metrics', '/v1/traces', '/v1/logs', '/api/v1/write'])
    const pad = (n: number) => JSON.stringify({ pad: 'x'.repeat(n) })
    for (const r of routes) {
      const path = r.url.replace(/:[a-z_]+/g, 'x')
      const send = (body: string) =>
        small.inject({
          method: r.method as 'POST',
          url: path,
          headers: { 'content-type': 'application/json' },
          payload: body,
        })
      const over = await send(pad(ingest.has(r.url) ? 9000 : 3000))
      expect(over.statusCode, `${r.method} ${r.url}`).toBe(413)
      if (ingest.has(r.url)) {
        expect((await send(pad(3000))).statusCode, `${r.method} ${r.url} takes more than the API limit`).not.toBe(413)
      } else if (r.url.startsWith('/prometheus/')) {
        // The Prometheus HTTP API answers in Prometheus' error shape.
        expect(over.json(), `${r.method} ${r.url}`).toEqual({
          status: 'error',
          errorType: 'bad_data',
          error: 'the body is over 2048 bytes (GOVERNOR_MAX_API_BODY_BYTES)',
        })
      } else {
        expect(over.json().error.code, `${r.method} ${r.url}`).toBe('GOV_ERR_BODY_TOO_LARGE')
        expect(over.json().error.message).toBe(
          'the body is over 2048 bytes (GOVERNOR_MAX_API_BODY_BYTES, or GOVERNOR_MAX_BODY_BYTES for the receivers)',
        )
      }
    }
  })

  it('0 turns a rate limit off', async () => {
    for (let i = 0; i < 20; i++) expect((await small.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200)
  })
})
