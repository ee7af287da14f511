import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { gaugeRequest } from '../../helpers/otlp.ts'
import { startServer } from '../../helpers/server.ts'

// The collector's own receivers sit behind the adaptive limiter. With at most one request at a
// time and no write-ahead log, a request waits for its commit (held by a long flush interval),
// so a second one arriving meanwhile is over the limit: shed with 503 and Retry-After, at once.
let app: FastifyInstance
let url: string
beforeAll(async () => {
  ;({ app, url } = await startServer({ maxIngestConcurrency: 1, walDir: 'off', flushIntervalMillis: 1500 }))
})
afterAll(async () => {
  await app?.close()
})

const post = (name: string) =>
  fetch(`${url}/v1/metrics`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(gaugeRequest('limited', { [name]: [{ ts: Date.now() - 1000, value: 1 }] })),
  })

describe('the ingest limiter', () => {
  it('sheds the request over the limit with 503 and Retry-After, serves the one within it, and counts the shed', async () => {
    const first = post('limited.first')
    while (app.governor.pipeline.pendingPoints === 0) await new Promise((r) => setTimeout(r, 5))
    const started = performance.now()
    const second = await post('limited.second')
    expect(performance.now() - started).toBeLessThan(500) // refused at once, not after the commit
    expect(second.status).toBe(503)
    expect(second.headers.get('retry-after')).toBe('1')
    expect(((await second.json()) as { code: string }).code).toBe('THROTTLE_ERR_SHED')
    expect((await first).status).toBe(200)
    const metrics = await (await fetch(`${url}/metrics`)).text()
    expect(metrics).toMatch(/^governor_ingest_shed_requests_total 1$/m)
    expect(metrics).toMatch(/^governor_ingest_concurrency_limit 1$/m)
    expect(metrics).toMatch(/^governor_ingest_inflight_requests 0$/m)
    // Once the first is answered the limit has room again.
    expect((await post('limited.third')).status).toBe(200)
  })
})
