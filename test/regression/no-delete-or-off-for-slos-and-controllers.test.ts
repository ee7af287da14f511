import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../collector/src/app.ts'
import { testSettings } from '../helpers/settings.ts'
import { api } from '../collector/slo/seed.ts'

// An SLO or a controller, once defined, could not be deleted, and a controller could not be
// switched off short of deleting it: the list only ever grew.

let app: FastifyInstance
const who = { actor: 'alice', reason: 'keep p99 under 300 ms' }
const latency = {
  sli: { type: 'latency', metric: 'http.server.request.duration', percentile: 99, threshold_ms: 300 },
  objective: 99.9,
  window: '30d',
  ...who,
}

beforeAll(async () => {
  app = await buildApp(testSettings({ controllerTickMillis: 0, impactIntervalMillis: 0 }), { logger: false })
  expect(
    (await api(app, 'PUT', '/knobs/checkout/workers', { type: 'int', default: 40, min: 1, max: 200 })).status,
  ).toBe(201)
  expect((await api(app, 'PUT', '/slos/checkout/latency', latency)).status).toBe(201)
  expect((await api(app, 'PUT', '/slos/checkout/old', { ...latency, objective: 99 })).status).toBe(201)
})
afterAll(async () => {
  await app?.close()
})

const events = async (kind: string) =>
  (await api(app, 'GET', `/events?kind=${kind}&service=checkout`)).body.events as {
    title: string
    text: string
    data: Record<string, unknown>
  }[]

describe('deleting an SLO', () => {
  it('needs a reason, then is gone, recorded, and its history kept', async () => {
    const noReason = await api(app, 'DELETE', '/slos/checkout/old?actor=alice')
    expect(noReason.status).toBe(400)
    expect(noReason.body.error).toEqual({
      code: 'GOV_ERR_SLO_INVALID',
      message: 'reason is required: say why it is deleted',
    })
    const res = await api(app, 'DELETE', '/slos/checkout/old?actor=alice&reason=replaced%20by%20latency')
    expect(res).toEqual({ status: 200, body: { deleted: true, service: 'checkout', name: 'old', version: 1 } })
    expect((await api(app, 'GET', '/slos/checkout/old')).status).toBe(404)
    expect((await api(app, 'GET', '/slos?service=checkout')).body.slos.map((s: { name: string }) => s.name)).toEqual([
      'latency',
    ])
    expect((await api(app, 'DELETE', '/slos/checkout/old?actor=alice&reason=again')).status).toBe(404)
    const [e] = await events('slo')
    expect(e).toMatchObject({
      title: expect.stringMatching(/^alice deleted SLO checkout\/old: 99 % of/),
      text: 'replaced by latency',
      data: { deleted: true, after: null, version: 2 },
    })
    // Defined again: a new history after the deletion, the version numbers continue.
    const again = await api(app, 'PUT', '/slos/checkout/old', latency)
    expect([again.status, again.body.version]).toEqual([201, 3])
    expect(
      (await api(app, 'GET', '/slos/checkout/old')).body.history.map((v: { version: number }) => v.version),
    ).toEqual([3])
    // Still deleted (and defined again) after a restart: the tombstone is in slo_versions.
    await app.governor.slos.load()
    expect(app.governor.slos.find('checkout', 'old')?.version).toBe(3)
  })

  it('refuses (409) while a controller steers on it', async () => {
    expect(
      (
        await api(app, 'PUT', '/controllers/checkout/pool', {
          knob: 'workers',
          slo: 'latency',
          algorithm: 'aimd',
          ...who,
        })
      ).status,
    ).toBe(201)
    const res = await api(app, 'DELETE', '/slos/checkout/latency', { actor: 'alice', reason: 'cleanup' })
    expect(res.status).toBe(409)
    expect(res.body.error).toEqual({
      code: 'GOV_ERR_SLO_IN_USE',
      message:
        'SLO checkout/latency is used by controller checkout/pool: delete the controller (or bind it to another SLO) first',
    })
  })
})

describe('a controller', () => {
  it('in off mode holds: reads nothing, records nothing, turns nothing', async () => {
    const res = await api(app, 'PUT', '/controllers/checkout/pool', {
      knob: 'workers',
      slo: 'latency',
      algorithm: 'aimd',
      mode: 'off',
      ...who,
    })
    expect([res.status, res.body.mode]).toEqual([200, 'off'])
    const before = (await events('controller')).length
    await app.governor.controllerRunner.tick()
    expect((await events('controller')).length).toBe(before)
    const c = (await api(app, 'GET', '/controllers/checkout/pool')).body
    expect(c).toMatchObject({
      mode: 'off',
      last_observation: null,
      last_decision: null,
      holding: { kind: 'off', reason: 'controller checkout/pool is off' },
    })
    expect((await api(app, 'GET', '/knobs/checkout/workers')).body.value).toBe(40)
  })

  it('is deleted with a reason, recorded; its auto knob goes back to manual; then its SLO can go', async () => {
    expect(
      (
        await api(app, 'PUT', '/controllers/checkout/pool', {
          knob: 'workers',
          slo: 'latency',
          algorithm: 'aimd',
          mode: 'active',
          ...who,
        })
      ).body.knob_mode,
    ).toBe('auto')
    expect((await api(app, 'DELETE', '/controllers/checkout/pool', { actor: 'alice' })).body.error.message).toBe(
      'reason is required: say why it is deleted',
    )
    const res = await api(app, 'DELETE', '/controllers/checkout/pool', {
      actor: 'alice',
      reason: 'replaced by the throttle',
    })
    expect(res).toEqual({
      status: 200,
      body: { deleted: true, service: 'checkout', name: 'pool', version: 3, knob_mode: 'manual' },
    })
    expect((await api(app, 'GET', '/controllers/checkout/pool')).status).toBe(404)
    const [e] = await events('controller')
    expect(e).toMatchObject({
      title: 'alice deleted controller checkout/pool (it turned workers against SLO latency)',
      text: 'replaced by the throttle',
      data: { deleted: true },
    })
    expect((await api(app, 'DELETE', '/slos/checkout/latency', { actor: 'alice', reason: 'cleanup' })).status).toBe(200)
  })
})
