import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { WRITE_FAILURE_HOLD_MILLIS } from '../../collector/src/api/health.ts'
import { gaugeRequest } from '../helpers/otlp.ts'
import { startServer } from '../helpers/server.ts'

// Bug: /readyz asked only `SELECT 1` of the store, so a store that answered but refused every
// write (disk full: NOT_ENOUGH_SPACE) read as ready while ingest answered 503 to everything.
// Readiness now follows the last write too. The refusal here is the engine's own: the points
// table is detached (inserts fail with UNKNOWN_TABLE) and attached again, with no restart.

let app: FastifyInstance
beforeAll(async () => { ({ app } = await startServer({ flushIntervalMillis: 0 })) })
afterAll(async () => { vi.useRealTimers(); await app?.close() })

let ts = Date.now() - 60_000
const ingest = () => app.inject({
  method: 'POST', url: '/v1/metrics', headers: { 'content-type': 'application/json' },
  payload: JSON.stringify(gaugeRequest('ready', { 'ready.gauge': [{ ts: ts++, value: 1 }] })),
})
const readyz = async () => {
  const res = await app.inject({ method: 'GET', url: '/readyz' })
  return { status: res.statusCode, store: (res.json() as { store: string }).store }
}
const sql = (query: string) => app.governor.store.client.command({ query })

describe('readiness while the store refuses writes', () => {
  it('turns not ready on a failed commit and ready again on the next good one, without a restart', async () => {
    expect((await ingest()).statusCode).toBe(200)
    expect(await readyz()).toEqual({ status: 200, store: 'up' })

    await sql('DETACH TABLE governor.samples')
    const refused = await ingest()
    expect(refused.statusCode).toBe(503)
    expect(refused.headers['retry-after']).toBe('1')
    expect(await app.governor.store.ping()).toBe(true) // what readiness used to look at alone
    expect(await readyz()).toEqual({ status: 503, store: 'failing writes' })

    await sql('ATTACH TABLE governor.samples')
    expect(await readyz()).toEqual({ status: 503, store: 'failing writes' }) // until a write proves it back
    expect((await ingest()).statusCode).toBe(200)
    expect(await readyz()).toEqual({ status: 200, store: 'up' })
  })

  it('reads ready again once the hold has passed without writes, so traffic can test the store', async () => {
    await sql('DETACH TABLE governor.samples')
    try {
      expect((await ingest()).statusCode).toBe(503)
      expect((await readyz()).status).toBe(503)
      vi.useFakeTimers({ toFake: ['Date'] })
      vi.setSystemTime(Date.now() + WRITE_FAILURE_HOLD_MILLIS + 1)
      expect(await readyz()).toEqual({ status: 200, store: 'up' })
      expect((await ingest()).statusCode).toBe(503) // the store still refuses: not ready again
      expect((await readyz()).status).toBe(503)
    } finally {
      vi.useRealTimers()
      await sql('ATTACH TABLE governor.samples')
    }
    expect((await ingest()).statusCode).toBe(200)
    expect((await readyz()).status).toBe(200)
  })
})
