import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../../collector/src/app.ts'
import type { Settings } from '../../../collector/src/settings.ts'
import { testSettings } from '../../helpers/settings.ts'

// What a declaration may do to a knob's value: an app redeclares its knobs at every start,
// with whatever bounds and default its code holds, and with a token every app holds. Only a
// value nobody set follows a new default; a pinned, manual or auto value is kept, and a
// declaration that no longer admits it is recorded and reported.

const TOKENS = { app: 'ingest-5a6b7c8d9e0f1a2b', ops: 'operate-0f1e2d3c4b5a6978', dev: 'read-99aa88bb77cc66dd' }
let settings: Settings
let app: FastifyInstance

beforeAll(async () => {
  settings = testSettings({
    tokens: `app=ingest:${TOKENS.app},ops=operate:${TOKENS.ops},dev=read:${TOKENS.dev}`,
    impactIntervalMillis: 0,
    controllerTickMillis: 0,
  })
  app = await buildApp(settings, { logger: false })
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
const declare = (service: string, name: string, def: Record<string, unknown>) =>
  call('app', 'PUT', `/knobs/${service}/${name}`, def)
const ops = { reason: 'incident 7' }

describe('redeclaring a knob with an ingest token', () => {
  it('leaves a pinned int where it is pinned, pinned, and reports that the new bounds do not admit it', async () => {
    await declare('checkout', 'workers', { type: 'int', default: 8, min: 1, max: 64 })
    expect((await call('ops', 'POST', '/knobs/checkout/workers/pin', { value: 2, ...ops })).body).toMatchObject({
      mode: 'pinned',
      value: 2,
    })
    const res = await declare('checkout', 'workers', { type: 'int', default: 64, min: 64, max: 64 })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({
      value: 2,
      mode: 'pinned',
      min: 64,
      max: 64,
      follows_default: false,
      conflict: 'value 2 is outside the bounds [64, 64]',
    })
    const state = (await call('dev', 'GET', '/knobs/checkout/workers')).body
    expect(state).toMatchObject({ value: 2, mode: 'pinned', conflict: 'value 2 is outside the bounds [64, 64]' })
    expect(state.reason).toBe(
      'definition changed; the pinned value 2 is kept though the definition no longer admits it (value 2 is outside the bounds [64, 64])',
    )
    // Recorded: a change-log event says so.
    const events = (await call('dev', 'GET', '/events?service=checkout&kind=knob&limit=5')).body.events as {
      title: string
      tags: string[]
    }[]
    expect(events[0]).toMatchObject({
      title: 'app changed the definition of checkout/workers: it no longer admits the pinned value 2, kept',
    })
    expect(events[0]!.tags).toContain('conflict')
    // Only an unpin (then a person) moves it.
    expect((await call('ops', 'POST', '/knobs/checkout/workers/value', { value: 64, ...ops })).status).toBe(409)
  })

  it('leaves a bool pinned true, also when the knob is redeclared as an off/dark/on flag', async () => {
    await declare('checkout', 'new-search', { type: 'bool', default: false })
    await call('ops', 'POST', '/knobs/checkout/new-search/pin', { value: true, ...ops })
    const same = await declare('checkout', 'new-search', {
      type: 'bool',
      default: false,
      description: 'off until the index is built',
    })
    expect(same.body).toMatchObject({ value: true, mode: 'pinned', default: false, conflict: null })
    // The old rule fell back to the new default when the value did not fit: true became "off".
    const flag = await declare('checkout', 'new-search', {
      type: 'enum',
      values: ['off', 'dark', 'on'],
      default: 'off',
    })
    expect(flag.body).toMatchObject({
      value: true,
      mode: 'pinned',
      type: 'enum',
      conflict: 'value true is not a string (enum knob)',
    })
    expect((await call('dev', 'GET', '/knobs/checkout/new-search')).body).toMatchObject({
      value: true,
      mode: 'pinned',
      conflict: 'value true is not a string (enum knob)',
    })
  })

  it('keeps a value an operator set (manual), even at the old default, and one a controller drives (auto)', async () => {
    await declare('cart', 'batch', { type: 'int', default: 10, min: 1, max: 100 })
    await call('ops', 'POST', '/knobs/cart/batch/value', { value: 80, ...ops })
    const narrowed = await declare('cart', 'batch', { type: 'int', default: 10, min: 1, max: 50 })
    expect(narrowed.body).toMatchObject({
      value: 80,
      mode: 'manual',
      conflict: 'value 80 is outside the bounds [1, 50]',
    })
    // An operator who sets the default on purpose has set it: a new default does not move it.
    await declare('cart', 'timeout', { type: 'int', default: 100 })
    await call('ops', 'POST', '/knobs/cart/timeout/value', { value: 100, ...ops })
    expect((await declare('cart', 'timeout', { type: 'int', default: 200 })).body).toMatchObject({
      value: 100,
      follows_default: false,
      conflict: null,
    })
    await declare('cart', 'rate', { type: 'float', default: 1.5, min: 0, max: 10 })
    await call('ops', 'POST', '/knobs/cart/rate/mode', { mode: 'auto', ...ops })
    expect((await declare('cart', 'rate', { type: 'float', default: 3, min: 0, max: 10 })).body).toMatchObject({
      value: 1.5,
      mode: 'auto',
    })
  })

  it('moves a knob nobody touched to its new default', async () => {
    expect((await declare('cart', 'mode', { type: 'enum', values: ['a', 'b'], default: 'a' })).body).toMatchObject({
      value: 'a',
      follows_default: true,
    })
    const res = await declare('cart', 'mode', { type: 'enum', values: ['b', 'c'], default: 'c' })
    expect(res.body).toMatchObject({ value: 'c', follows_default: true, conflict: null, version: 2 })
    const events = (await call('dev', 'GET', '/events?service=cart&kind=knob&limit=1')).body.events as {
      title: string
    }[]
    expect(events[0]!.title).toBe(
      'app changed the definition of cart/mode: default "a" → "c", the untouched value follows',
    )
  })

  it('keeps all of it across a restart: pinned, manual and untouched knobs', async () => {
    await app.close()
    app = await buildApp(settings, { logger: false })
    expect((await call('dev', 'GET', '/knobs/checkout/workers')).body).toMatchObject({
      value: 2,
      mode: 'pinned',
      conflict: 'value 2 is outside the bounds [64, 64]',
    })
    expect((await call('dev', 'GET', '/knobs/cart/mode')).body).toMatchObject({ value: 'c', follows_default: true })
    expect((await declare('cart', 'mode', { type: 'enum', values: ['b', 'c'], default: 'b' })).body).toMatchObject({
      value: 'b',
    })
    expect((await declare('cart', 'timeout', { type: 'int', default: 300 })).body).toMatchObject({
      value: 100,
      mode: 'manual',
    })
  })
})
