import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../../collector/src/app.ts'
import { checkAnswers } from '../../helpers/answer-schemas.ts'
import { testSettings } from '../../helpers/settings.ts'
import { api } from '../slo/seed.ts'

let app: FastifyInstance
const who = { actor: 'alice', reason: 'keep p99 under 300 ms' }
const binding = { knob: 'workers', slo: 'latency', algorithm: 'aimd', ...who }

beforeAll(async () => {
  app = await buildApp(testSettings({ controllerTickMillis: 0, impactIntervalMillis: 0 }), {
    logger: false,
    instrument: checkAnswers(),
  })
  for (const [name, def] of [
    ['workers', { type: 'int', default: 40, min: 1, max: 200 }],
    ['ratio', { type: 'float', default: 0.5 }],
    ['dark-mode', { type: 'bool', default: false }],
    ['pool', { type: 'int', default: 8, min: 1, max: 64 }],
  ] as const) {
    expect((await api(app, 'PUT', `/knobs/checkout/${name}`, def)).status).toBe(201)
  }
  const slo = await api(app, 'PUT', '/slos/checkout/latency', {
    sli: { type: 'latency', metric: 'http.server.request.duration', percentile: 99, threshold_ms: 300 },
    objective: 99.9,
    window: '30d',
    ...who,
  })
  expect(slo.status).toBe(201)
})
afterAll(async () => {
  await app?.close()
})

const put = (name: string, body: object) => api(app, 'PUT', `/controllers/checkout/${name}`, body)

describe('PUT /api/v1/controllers/{service}/{name}', () => {
  it('warns when the SLO promises more than its percentile (p99 with 99.9 %): raises would wait on a burn rate of 10× at the target', async () => {
    expect(
      (await api(app, 'PUT', '/knobs/warned/workers', { type: 'int', default: 40, min: 1, max: 200 })).status,
    ).toBe(201)
    for (const [name, percentile] of [
      ['latency', 99],
      ['latency-matched', 99.9],
    ] as const) {
      const slo = await api(app, 'PUT', `/slos/warned/${name}`, {
        sli: { type: 'latency', metric: 'http.server.request.duration', percentile, threshold_ms: 300 },
        objective: 99.9,
        window: '30d',
        ...who,
      })
      expect(slo.status).toBe(201)
    }
    const putWarned = (name: string, body: object) => api(app, 'PUT', `/controllers/warned/${name}`, body)
    const res = await putWarned('mismatch', binding)
    expect(res.status).toBe(201)
    expect(res.body.warnings).toEqual([
      'SLO warned/latency holds p99 within 300 ms but promises 99.9 % of observations within it: with the p99 at the threshold, 1 % of observations are over it, ' +
        'a burn rate of 10×, and this controller raises only below 1× (params.raiseBelowBurnRate); it will lower the knob to meet the p99 but raise it only once about ' +
        "the p99.9 is within 300 ms. Make the SLO's percentile 99.9 (or its objective 99), or set params.raiseBelowBurnRate above 10",
    ])
    // Raising only below a burn rate over 10×: nothing to warn about.
    const allowed = await putWarned('mismatch', { ...binding, params: { raiseBelowBurnRate: 12 } })
    expect(allowed.status).toBe(200)
    expect(allowed.body).not.toHaveProperty('warnings')
    expect((await putWarned('matched', { ...binding, slo: 'latency-matched' })).body).not.toHaveProperty('warnings')
  })

  it('names every malformed field in one 400', async () => {
    const res = await put('w', {
      knob: 'workers',
      algorithm: 'fuzzy',
      interval_ms: 50,
      dead_band: 1.5,
      mode: 'on',
      min: 'low',
    })
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('GOV_ERR_CONTROLLER_INVALID')
    expect(res.body.error.message.split('; ')).toEqual([
      'slo is required: the name of an SLO of checkout',
      'algorithm must be one of aimd, gradient, pid, got "fuzzy"',
      'interval_ms must be a whole number of milliseconds from 100 to 3600000, got 50',
      'min must be a finite number, got "low"',
      'dead_band must be a share from 0 (inclusive) to 1 (0.05 for ±5 %), got 1.5',
      'mode must be one of active, shadow, off, got "on"',
      'actor is required',
      'reason is required',
    ])
  })

  it('refuses an unknown knob or SLO (404), a knob that is no number and parameters the algorithm does not take (400)', async () => {
    expect((await put('w', { ...binding, knob: 'threads' })).body.error).toEqual({
      code: 'GOV_ERR_KNOB_NOT_FOUND',
      message: 'no knob checkout/threads: a controller turns a knob of its own service',
    })
    expect((await put('w', { ...binding, slo: 'errors' })).body.error).toEqual({
      code: 'GOV_ERR_SLO_NOT_FOUND',
      message: 'no SLO checkout/errors: define it with PUT /api/v1/slos/checkout/errors first',
    })
    const bool = await put('w', { ...binding, knob: 'dark-mode' })
    expect(bool.status).toBe(400)
    expect(bool.body.error.message).toBe(
      'knob checkout/dark-mode is a bool knob: a controller turns int, float or percent knobs',
    )
    const params = await put('w', { ...binding, params: { decrease: 2 } })
    expect(params.status).toBe(400)
    expect(params.body.error.message).toMatch(/decrease/)
    const unbounded = await put('w', { ...binding, knob: 'ratio' })
    expect(unbounded.body.error.message).toBe('min is required: knob checkout/ratio has no min of its own')
  })

  it("refuses bounds outside the knob's with 422 naming both", async () => {
    const res = await put('w', { ...binding, min: 0, max: 100 })
    expect(res.status).toBe(422)
    expect(res.body.error).toEqual({
      code: 'GOV_ERR_CONTROLLER_BOUNDS',
      message: "the controller's bounds [0, 100] are outside the bounds [1, 200] of knob checkout/workers",
    })
    expect((await put('w', { ...binding, min: 10, max: 300 })).status).toBe(422)
  })

  it("binds a controller in shadow mode by default, with the knob's bounds and the documented defaults", async () => {
    const res = await put('workers-latency', binding)
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({
      service: 'checkout',
      name: 'workers-latency',
      knob: 'workers',
      slo: 'latency',
      algorithm: 'aimd',
      params: {},
      mode: 'shadow',
      interval_ms: 5000,
      min: 1,
      max: 200,
      max_step: 199,
      cooldown_ms: 30_000,
      dead_band: 0.05,
      version: 1,
      changed_by: 'alice',
      reason: 'keep p99 under 300 ms',
      knob_mode: 'manual',
      last_observation: null,
      last_decision: null,
      holding: null,
    })
    expect((await api(app, 'GET', '/knobs/checkout/workers')).body.mode).toBe('manual')
    const again = await put('workers-latency', binding)
    expect(again.status).toBe(200)
    expect(again.body.version).toBe(1)
  })

  it('switches the knob to auto when the controller goes active, and records each change as a controller event', async () => {
    const res = await put('workers-latency', {
      ...binding,
      mode: 'active',
      max: 100,
      interval_ms: 1000,
      actor: 'bob',
      reason: 'shadow looked right',
    })
    expect(res.body).toMatchObject({ version: 2, mode: 'active', max: 100, cooldown_ms: 30_000, knob_mode: 'auto' })
    const knob = (await api(app, 'GET', '/knobs/checkout/workers')).body
    expect(knob).toMatchObject({
      mode: 'auto',
      value: 40,
      changed_by: 'bob',
      reason: 'controller checkout/workers-latency is active: shadow looked right',
    })
    const events = (await api(app, 'GET', '/events?kind=controller&service=checkout')).body.events
    expect(events.map((e: { title: string }) => e.title)).toEqual([
      'bob changed controller checkout/workers-latency: interval_ms 5000 → 1000; max 200 → 100; max_step 199 → 99; mode shadow → active',
      'alice bound controller checkout/workers-latency: aimd turns workers within [1, 200] against SLO latency (shadow)',
    ])
    expect(events[0]).toMatchObject({
      actor: 'bob',
      text: 'shadow looked right',
      data: { controller: 'workers-latency', knob: 'workers', slo: 'latency', mode: 'active', version: 2 },
    })
  })

  it('leaves a pinned knob pinned when its controller goes active', async () => {
    await api(app, 'POST', '/knobs/checkout/pool/pin', { value: 4, actor: 'carol', reason: 'incident 7' })
    const res = await put('pool-latency', { ...binding, knob: 'pool', mode: 'active' })
    expect(res.status).toBe(201)
    expect(res.body.knob_mode).toBe('pinned')
    expect((await api(app, 'GET', '/knobs/checkout/pool')).body).toMatchObject({ mode: 'pinned', value: 4 })
  })

  it('lists the controllers of a service, and answers 404 for an unknown one', async () => {
    const { body } = await api(app, 'GET', '/controllers?service=checkout')
    expect(body.controllers.map((c: { name: string; mode: string }) => [c.name, c.mode])).toEqual([
      ['pool-latency', 'active'],
      ['workers-latency', 'active'],
    ])
    const one = await api(app, 'GET', '/controllers/checkout/workers-latency')
    expect(one.body.history.map((h: { version: number; mode: string }) => [h.version, h.mode])).toEqual([
      [2, 'active'],
      [1, 'shadow'],
    ])
    expect((await api(app, 'GET', '/controllers/checkout/nope')).body.error.code).toBe('GOV_ERR_CONTROLLER_NOT_FOUND')
  })
})
