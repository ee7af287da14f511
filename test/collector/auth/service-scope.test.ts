import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../../collector/src/app.ts'
import { testSettings } from '../../helpers/settings.ts'

// Ingest tokens scoped to services (ingest@checkout): every app holds an ingest token, so a
// plain one lets any app redefine any service's knobs. A scoped token declares and reads its
// own services' knobs only; a plain ingest token keeps working as before.

const TOKENS = {
  checkout: 'checkout-1f2e3d4c5b6a7980',
  shop: 'shop-0a1b2c3d4e5f6a7b8c',
  plain: 'plain-ingest-77665544332211',
  dev: 'read-aabbccddeeff0011',
}
let app: FastifyInstance

beforeAll(async () => {
  const tokens = [
    `app-checkout=ingest@checkout:${TOKENS.checkout}`,
    `app-shop=ingest@cart+ingest@search:${TOKENS.shop}`,
    `legacy=ingest:${TOKENS.plain}`,
    `dev=read:${TOKENS.dev}`,
  ].join(',')
  app = await buildApp(testSettings({ tokens, impactIntervalMillis: 0, controllerTickMillis: 0 }), { logger: false })
})
afterAll(async () => {
  await app?.close()
})

async function call(who: keyof typeof TOKENS, method: string, path: string, body?: unknown) {
  const res = await app.inject({
    method: method as 'GET',
    url: `/api/v1${path}`,
    payload: body as object,
    headers: { authorization: `Bearer ${TOKENS[who]}` },
  })
  return { status: res.statusCode, body: res.json() as Record<string, any> }
}
const def = { type: 'int', default: 4, min: 1, max: 64 }

describe('an ingest token scoped to services', () => {
  it('declares the knobs of its services', async () => {
    expect((await call('checkout', 'PUT', '/knobs/checkout/workers', def)).status).toBe(201)
    expect((await call('shop', 'PUT', '/knobs/cart/workers', def)).status).toBe(201)
    expect((await call('shop', 'PUT', '/knobs/search/workers', def)).status).toBe(201)
  })

  it("is refused with 403 GOV_ERR_AUTH_SERVICE for another service's knob, which stays as it was", async () => {
    const refused = await call('checkout', 'PUT', '/knobs/cart/workers', { type: 'int', default: 64, min: 64, max: 64 })
    expect(refused.status).toBe(403)
    expect(refused.body).toEqual({
      error: {
        code: 'GOV_ERR_AUTH_SERVICE',
        message:
          'token "app-checkout" (ingest@checkout) may declare knobs of "checkout" only, not of "cart": give the app of "cart" a token with the role ingest@cart',
      },
    })
    const shop = await call('shop', 'PUT', '/knobs/checkout/workers', def)
    expect(shop.status).toBe(403)
    expect(shop.body.error.message).toContain('may declare knobs of "cart", "search" only, not of "checkout"')
    expect((await call('dev', 'GET', '/knobs/cart/workers')).body).toMatchObject({
      value: 4,
      min: 1,
      max: 64,
      version: 1,
    })
    // A knob that does not exist yet cannot be created for another service either.
    expect((await call('checkout', 'PUT', '/knobs/billing/workers', def)).status).toBe(403)
  })

  it('reads the knobs of its services only', async () => {
    const list = (await call('shop', 'GET', '/knobs')).body.knobs as { service: string }[]
    expect([...new Set(list.map((k) => k.service))].sort()).toEqual(['cart', 'search'])
    expect((await call('shop', 'GET', '/knobs?service=cart')).status).toBe(200)
    const other = await call('shop', 'GET', '/knobs?service=checkout')
    expect(other.status).toBe(403)
    expect(other.body.error.code).toBe('GOV_ERR_AUTH_SERVICE')
    expect((await call('checkout', 'GET', '/knobs/cart/workers')).status).toBe(403)
    expect((await call('checkout', 'GET', '/knobs/checkout/workers')).status).toBe(200)
  })

  it('says which services it is scoped to in whoami', async () => {
    expect((await call('shop', 'GET', '/whoami')).body).toEqual({
      open: false,
      name: 'app-shop',
      roles: ['ingest'],
      services: ['cart', 'search'],
    })
    expect((await call('plain', 'GET', '/whoami')).body).toEqual({ open: false, name: 'legacy', roles: ['ingest'] })
  })
})

describe('a plain ingest token', () => {
  it('declares and reads the knobs of every service, as before', async () => {
    expect((await call('plain', 'PUT', '/knobs/billing/workers', def)).status).toBe(201)
    expect((await call('plain', 'PUT', '/knobs/cart/workers', { ...def, description: 'pool' })).status).toBe(200)
    const list = (await call('plain', 'GET', '/knobs')).body.knobs as { service: string }[]
    expect([...new Set(list.map((k) => k.service))].sort()).toEqual(['billing', 'cart', 'checkout', 'search'])
  })
})
