import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../collector/src/app.ts'
import { testSettings } from '../helpers/settings.ts'

// Bug: a declaration (PUT /api/v1/knobs/{service}/{name}, any ingest token) carried the value
// over to the new definition by clamping it or falling back to the new default, whatever the
// mode: redeclared with min = max = 64, a knob pinned at 2 became 64, still marked pinned; a
// bool pinned true, redeclared as an off/dark/on flag, became "off". A declaration now never
// changes a value somebody set; one that no longer admits it is recorded and reported.

const APP = 'ingest-0123456789abcdef'
const OPS = 'operate-fedcba9876543210'
let app: FastifyInstance
beforeAll(async () => {
  app = await buildApp(
    testSettings({ tokens: `app=ingest:${APP},ops=operate:${OPS}`, impactIntervalMillis: 0, controllerTickMillis: 0 }),
    { logger: false },
  )
})
afterAll(async () => {
  await app?.close()
})

const as = (token: string, method: 'PUT' | 'POST' | 'GET', url: string, payload?: object) =>
  app.inject({ method, url: `/api/v1${url}`, payload, headers: { authorization: `Bearer ${token}` } })

describe('an ingest token redeclaring a pinned knob', () => {
  it('leaves a pinned int at its pinned value', async () => {
    await as(APP, 'PUT', '/knobs/checkout/workers', { type: 'int', default: 8, min: 1, max: 128 })
    await as(OPS, 'POST', '/knobs/checkout/workers/pin', { value: 2, reason: 'incident 12' })
    const res = await as(APP, 'PUT', '/knobs/checkout/workers', { type: 'int', default: 64, min: 64, max: 64 })
    expect(res.json()).toMatchObject({ value: 2, mode: 'pinned', conflict: 'value 2 is outside the bounds [64, 64]' })
    expect((await as(APP, 'GET', '/knobs/checkout/workers')).json()).toMatchObject({ value: 2, mode: 'pinned' })
  })

  it('leaves a bool pinned true', async () => {
    await as(APP, 'PUT', '/knobs/checkout/cache', { type: 'bool', default: false })
    await as(OPS, 'POST', '/knobs/checkout/cache/pin', { value: true, reason: 'incident 12' })
    const res = await as(APP, 'PUT', '/knobs/checkout/cache', {
      type: 'enum',
      values: ['off', 'dark', 'on'],
      default: 'off',
    })
    expect(res.json()).toMatchObject({ value: true, mode: 'pinned' })
    expect((await as(APP, 'GET', '/knobs/checkout/cache')).json()).toMatchObject({ value: true, mode: 'pinned' })
  })
})
