import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../collector/src/app.ts'
import { testSettings } from '../helpers/settings.ts'

// A store that refused an API write (a full disk, a server gone) used to answer 500 with
// ClickHouse's own error number as the code ("243"). It is a 503 with Retry-After and a
// registered code, and a knob change whose event cannot be written still takes effect.

let app: FastifyInstance

beforeAll(async () => {
  app = await buildApp(testSettings(), { logger: false })
  await app.inject({
    method: 'PUT',
    url: '/api/v1/knobs/shop/workers',
    payload: { type: 'int', default: 4, min: 1, max: 64 },
  })
  await app.governor.store.client.command({ query: `DETACH TABLE ${app.governor.store.db}.events` })
})
afterAll(async () => {
  await app.governor.store.client.command({ query: `ATTACH TABLE ${app.governor.store.db}.events` })
  await app?.close()
})

describe('a store error in the API', () => {
  it('answers 503 GOV_ERR_STORE_UNAVAILABLE with Retry-After', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/events',
      payload: { kind: 'note', title: 't', actor: 'a' },
    })
    expect(res.statusCode).toBe(503)
    expect(res.headers['retry-after']).toBe('1')
    expect(res.json().error.code).toBe('GOV_ERR_STORE_UNAVAILABLE')
  })

  it('keeps a knob change whose change-log event could not be written', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/knobs/shop/workers/value',
      payload: { value: 8, actor: 'alice', reason: 'busy' },
    })
    expect(res.statusCode).toBe(200)
    expect(app.governor.knobs.get('shop', 'workers').value).toBe(8)
  })
})
