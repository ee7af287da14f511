import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { WRITE_FAILURE_HOLD_MILLIS } from '../../collector/src/api/health.ts'
import { gaugeRequest } from '../helpers/otlp.ts'
import { startServer } from '../helpers/server.ts'

// Bug: /readyz asked only `SELECT 1` of the store, so a store that answered but refused every
// write (disk full: NOT_ENOUGH_SPACE) read as ready while ingest answered 503 to everything.
// Readiness now follows the last write too. The refusal here is the engine's own: the points
// table is detached (inserts fail with UNKNOWN_TABLE) and attached again, with no restart.
// Ingest keeps acknowledging meanwhile: the write-ahead log holds the points until a commit
// succeeds.

let app: FastifyInstance
beforeAll(async () => {
  ;({ app } = await startServer({ flushIntervalMillis: 0 }))
})
afterAll(async () => {
  vi.useRealTimers()
  await app?.close()
})

let ts = Date.now() - 60_000
const ingest = () =>
  app.inject({
    method: 'POST',
    url: '/v1/metrics',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify(gaugeRequest('ready', { 'ready.gauge': [{ ts: ts++, value: 1 }] })),
  })
const readyz = async () => {
  const res = await app.inject({ method: 'GET', url: '/readyz' })
  return { status: res.statusCode, store: (res.json() as { store: string }).store }
}
const sql = (query: string) => app.governor.store.client.command({ query })

/** Waits until readiness reads `status` (commits that failed are retried every second). */
async function readyzBecomes(status: number): Promise<{ status: number; store: string }> {
  const deadline = Date.now() + 5_000
  for (;;) {
    const r = await readyz()
    if (r.status === status || Date.now() > deadline) return r
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

const storedCount = async () => {
  const rs = await app.governor.store.client.query({
    query:
      "SELECT count() FROM governor.samples WHERE series_id IN (SELECT series_id FROM governor.series WHERE metric = 'ready.gauge')",
    format: 'JSONCompactEachRow',
  })
  return Number((await rs.json<[string]>())[0]![0])
}

describe('readiness while the store refuses writes', () => {
  it('turns not ready on a failed commit and ready again once a commit succeeds, without a restart or a lost point', async () => {
    expect((await ingest()).statusCode).toBe(200)
    await app.governor.pipeline.sync()
    expect(await readyz()).toEqual({ status: 200, store: 'up' })
    const before = await storedCount()

    await sql('DETACH TABLE governor.samples')
    // The write-ahead log takes the point, so it is acknowledged; its commit fails.
    expect((await ingest()).statusCode).toBe(200)
    await app.governor.pipeline.sync()
    expect(await app.governor.store.ping()).toBe(true) // what readiness used to look at alone
    expect(await readyz()).toEqual({ status: 503, store: 'failing writes' })

    await sql('ATTACH TABLE governor.samples')
    // The commit is retried on its own; readiness follows it, and the point is there.
    expect(await readyzBecomes(200)).toEqual({ status: 200, store: 'up' })
    expect(await storedCount()).toBe(before + 1)
  })

  it('reads ready again once the hold has passed without writes, so traffic can test the store', async () => {
    await sql('DETACH TABLE governor.samples')
    try {
      expect((await ingest()).statusCode).toBe(200)
      await app.governor.pipeline.sync()
      expect((await readyz()).status).toBe(503)
      vi.useFakeTimers({ toFake: ['Date'] })
      vi.setSystemTime(Date.now() + WRITE_FAILURE_HOLD_MILLIS + 1)
      expect(await readyz()).toEqual({ status: 200, store: 'up' })
      // The retried commit is refused again: not ready again.
      expect((await readyzBecomes(503)).status).toBe(503)
    } finally {
      vi.useRealTimers()
      await sql('ATTACH TABLE governor.samples')
    }
    expect((await readyzBecomes(200)).status).toBe(200)
  })
})
