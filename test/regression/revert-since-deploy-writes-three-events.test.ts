import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../collector/src/app.ts'
import { testSettings } from '../helpers/settings.ts'

// POST /api/v1/changesets/revert of two knobs wrote three change-log events (one per knob and
// the changeset) where the README promises one; a revert with nothing to revert was recorded too.

let app: FastifyInstance
beforeAll(async () => {
  app = await buildApp(testSettings(), { logger: false })
})
afterAll(async () => {
  await app?.close()
})

async function call(method: string, path: string, body?: unknown) {
  const res = await app.inject({ method: method as 'GET', url: `/api/v1${path}`, payload: body as object })
  return { status: res.statusCode, body: res.json() as Record<string, any> }
}
const knobEvents = async (service: string) =>
  (await call('GET', `/events?kind=knob&service=${service}`)).body.events as {
    id: string
    title: string
    data: Record<string, unknown>
  }[]

describe('revert since a deploy', () => {
  it('writes one change-log event for the whole revert, and the versions point at it', async () => {
    await call('PUT', '/knobs/cart/batch', { type: 'int', default: 10, min: 1, max: 100 })
    await call('PUT', '/knobs/cart/cache', { type: 'bool', default: true })
    await new Promise((r) => setTimeout(r, 5))
    const deploy = (await call('POST', '/deploys', { service: 'cart', version: '2.0', actor: 'ci' })).body
    await new Promise((r) => setTimeout(r, 5))
    await call('POST', '/knobs/cart/batch/value', { value: 50, actor: 'alice', reason: 'load test' })
    await call('POST', '/knobs/cart/cache/value', { value: false, actor: 'alice', reason: 'load test' })
    const before = (await knobEvents('cart')).length
    const res = await call('POST', '/changesets/revert', {
      since_deploy: deploy.id,
      actor: 'oncall',
      reason: 'roll forward',
    })
    expect(res.status).toBe(200)
    expect(res.body.reverted).toHaveLength(2)
    const after = await knobEvents('cart')
    expect(after.length - before).toBe(1)
    expect(after[0]).toMatchObject({
      id: res.body.change_id,
      title: 'oncall reverted 2 knobs of cart to before deploy cart 2.0',
    })
    expect(after[0]!.data.changeset).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'batch', value: 10, before: 50 }),
        expect.objectContaining({ name: 'cache', value: true, before: false }),
      ]),
    )
    for (const k of res.body.reverted as { change_id: string }[]) expect(k.change_id).toBe(res.body.change_id)
  })

  it('records nothing when nothing changed since the deploy', async () => {
    await call('PUT', '/knobs/shop/batch', { type: 'int', default: 10, min: 1, max: 100 })
    await new Promise((r) => setTimeout(r, 5))
    const deploy = (await call('POST', '/deploys', { service: 'shop', version: '1.0', actor: 'ci' })).body
    const before = (await knobEvents('shop')).length
    const res = await call('POST', '/changesets/revert', {
      since_deploy: deploy.id,
      actor: 'oncall',
      reason: 'roll forward',
    })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ change_id: null, reverted: [] })
    expect((await knobEvents('shop')).length).toBe(before)
  })
})
