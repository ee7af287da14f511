import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { gaugeRequest } from '../helpers/otlp.ts'
import { startServer } from '../helpers/server.ts'

// Bug: under an ingest overload /readyz did not answer within 2 s. It asked the store for a
// ping inline, and the engine answers a ping only after the commit in progress; it also sat
// behind the rate limiter and the access check. Now /healthz and /readyz are answered in the
// first hook, from state in memory (the store is pinged in the background).
//
// Here ingest is saturated: without a write-ahead log each request waits for its commit, the
// flush interval holds the commit back, and the limiter (two at a time) sheds the rest. The
// store's ping is held too: it never answers until the test lets it.

let app: FastifyInstance
let url: string
beforeAll(async () => {
  // No wait bound: what saturates ingest here is the held commit, whatever the machine's load.
  ;({ app, url } = await startServer({
    walDir: 'off',
    flushIntervalMillis: 60_000,
    maxIngestConcurrency: 2,
    ingestMaxWaitMillis: 0,
    rateLimitApiPerMinute: 1,
  }))
})
afterAll(async () => {
  await app?.close()
})

let ts = Date.now() - 60_000
const ingest = () =>
  fetch(`${url}/v1/metrics`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(gaugeRequest('saturated', { 'saturated.gauge': [{ ts: ts++, value: 1 }] })),
  })

describe('health while ingest is saturated', () => {
  it('answers /healthz and /readyz while every ingest slot waits on a held commit, without waiting on the store or the rate limit', async () => {
    // The store's ping, held: a readiness that asked for it would not answer.
    let pings = 0
    let releasePings!: () => void
    const held = new Promise<boolean>((resolve) => {
      releasePings = () => resolve(true)
    })
    const ping = app.governor.store.ping.bind(app.governor.store)
    app.governor.store.ping = () => {
      pings++
      return held
    }
    try {
      const waiting = [ingest(), ingest()]
      let settled = false
      void Promise.all(waiting).then(() => {
        settled = true
      })
      while (app.governor.pipeline.pendingPoints < 2 && !settled) await new Promise((r) => setTimeout(r, 5))
      expect(settled).toBe(false) // both wait for the commit
      const shed = await ingest()
      expect(shed.status).toBe(503) // saturated: the limiter sheds
      await shed.arrayBuffer()

      const pingsBefore = pings
      // More calls than the API rate limit (1 a minute) allows: health is not behind it.
      for (let i = 0; i < 5; i++) {
        const ready = await fetch(`${url}/readyz`)
        expect(ready.status).toBe(200)
        expect(await ready.json()).toEqual({ status: 'ready', store: 'up', pipelineFill: expect.any(Number) })
        const live = await fetch(`${url}/healthz`)
        expect(live.status).toBe(200)
        expect(await live.json()).toEqual({ status: 'ok' })
      }
      expect(pings - pingsBefore).toBeLessThanOrEqual(1) // the background ping, at most: none inline
      expect(app.governor.pipeline.pendingPoints).toBe(2) // the commit is still held

      // The API, by contrast, is rate limited as before.
      expect((await fetch(`${url}/api/v1/whoami`)).status).not.toBe(429)
      expect((await fetch(`${url}/api/v1/whoami`)).status).toBe(429)

      await app.governor.pipeline.sync()
      for (const res of await Promise.all(waiting)) expect(res.status).toBe(200)
    } finally {
      releasePings()
      app.governor.store.ping = ping
    }
  })
})
