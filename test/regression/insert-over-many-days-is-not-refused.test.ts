import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../collector/src/app.ts'
import { gaugeRequest } from '../helpers/otlp.ts'
import { testSettings } from '../helpers/settings.ts'

// Points are partitioned by day, and the engine refuses an insert touching more than 100
// partitions by default: one request of valid points over 101 days (a backfill) was refused
// at every commit, and every commit behind it waited.

const DAY = 86_400_000
let app: FastifyInstance
beforeAll(async () => {
  app = await buildApp(testSettings({ retentionDays: 365 }), { logger: false })
})
afterAll(async () => {
  await app?.close()
})

describe('a commit of points over 150 days', () => {
  it('is stored whole, and ingest goes on', async () => {
    const now = Date.now()
    const days = Array.from({ length: 150 }, (_, i) => ({ ts: now - (i + 1) * DAY, value: i }))
    const res = await app.inject({
      method: 'POST',
      url: '/v1/metrics',
      payload: gaugeRequest('backfill', { 'old.values': days }),
    })
    expect(res.statusCode).toBe(200)
    const after = await app.inject({
      method: 'POST',
      url: '/v1/metrics',
      payload: gaugeRequest('backfill', { 'new.values': [{ ts: now, value: 1 }] }),
    })
    expect(after.statusCode).toBe(200)
    // A read waits for every acknowledged point to be committed (or its commit to fail).
    const old = await app.inject({
      method: 'GET',
      url: `/api/v1/query?metric=old.values&from=${now - 200 * DAY}&to=${now}`,
    })
    expect(old.json().series[0].points).toHaveLength(150)
    const fresh = await app.inject({
      method: 'GET',
      url: `/api/v1/query?metric=new.values&from=${now - 1000}&to=${now + 1}`,
    })
    expect(fresh.json().series[0].points).toEqual([[now, 1]])
    expect(app.governor.store.lastWriteFailure).toBeUndefined()
  })
})
