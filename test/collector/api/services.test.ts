import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../../collector/src/app.ts'
import { checkAnswers } from '../../helpers/answer-schemas.ts'
import { testSettings } from '../../helpers/settings.ts'
import { accumulate, api, gauge, histogram, send } from '../slo/seed.ts'

// GET /api/v1/services and /services/{service} (open mode): every service Governor knows of,
// from its metrics, deploys, knobs, SLOs or controllers, with its last deploy, SLO states and
// knob modes in one answer. And whoami in open mode.

const who = { actor: 'alice', reason: 'testing' }
const MINUTE = 60_000
let app: FastifyInstance
let now: number

beforeAll(async () => {
  app = await buildApp(testSettings({ impactIntervalMillis: 0, controllerTickMillis: 0 }), {
    logger: false,
    instrument: checkAnswers(),
  })
  now = Date.now()
  const bounds = [100, 300, 1000]
  const point = accumulate(bounds)
  const start = now - 11 * MINUTE
  // 10 minutes of checkout traffic, one request in ten over 300 ms.
  const points = Array.from({ length: 10 }, (_, i) => point(now - (9 - i) * MINUTE, start, [80, 10, 10, 0]))
  await send(app, 'checkout', [
    histogram('http.server.request.duration', 'ms', bounds, points),
    gauge('queue.depth', [{ ts: now, value: 3 }]),
  ])
  await send(app, 'billing', [gauge('queue.depth', [{ ts: now, value: 7 }])])
  for (const [service, name, def] of [
    ['checkout', 'workers', { type: 'int', default: 20, min: 1, max: 200 }],
    ['checkout', 'cache', { type: 'bool', default: true }],
    ['checkout', 'rate', { type: 'float', default: 10, min: 1, max: 100 }],
    ['flags-only', 'new-search', { type: 'percent', default: 0 }],
  ] as const) {
    expect((await api(app, 'PUT', `/knobs/${service}/${name}`, def)).status).toBe(201)
  }
  expect((await api(app, 'POST', '/knobs/checkout/cache/pin', { value: false, ...who })).status).toBe(200)
  expect((await api(app, 'POST', '/knobs/checkout/rate/mode', { mode: 'auto', ...who })).status).toBe(200)
  for (const [version, environment, at] of [
    ['1.4.1', 'production', now - 30 * MINUTE],
    ['1.4.2', 'staging', now - 5 * MINUTE],
    ['1.4.0', 'production', now - 60 * MINUTE],
  ] as const) {
    expect(
      (
        await api(app, 'POST', '/deploys', {
          service: 'checkout',
          version,
          environment,
          actor: 'ci',
          started_at: at,
          finished_at: at,
        })
      ).status,
    ).toBe(201)
  }
  expect(
    (
      await api(app, 'POST', '/deploys', {
        service: 'mailer',
        version: '2.0.0',
        actor: 'bob',
        description: 'new templates',
      })
    ).status,
  ).toBe(201)
  expect(
    (
      await api(app, 'PUT', '/slos/checkout/latency', {
        sli: { type: 'latency', metric: 'http.server.request.duration', percentile: 99, threshold_ms: 300 },
        objective: 99,
        window: '1d',
        ...who,
      })
    ).status,
  ).toBe(201)
  expect(
    (
      await api(app, 'PUT', '/controllers/checkout/workers-p99', {
        knob: 'workers',
        slo: 'latency',
        algorithm: 'aimd',
        mode: 'shadow',
        ...who,
      })
    ).status,
  ).toBe(201)
})
afterAll(async () => {
  await app?.close()
})

describe('GET /api/v1/services', () => {
  it('lists every service known from metrics, deploys and knobs, by name', async () => {
    const { status, body } = await api(app, 'GET', '/services')
    expect(status).toBe(200)
    expect(body.services.map((s: { service: string }) => s.service)).toEqual([
      'billing',
      'checkout',
      'flags-only',
      'mailer',
    ])
  })

  it("gives each its last deploy across environments, its SLOs' state and budget, and its knobs' modes", async () => {
    const { body } = await api(app, 'GET', '/services')
    const [billing, checkout, flags, mailer] = body.services
    expect(checkout.last_deploy).toMatchObject({
      service: 'checkout',
      version: '1.4.2',
      environment: 'staging',
      actor: 'ci',
      finished_at: new Date(now - 5 * MINUTE).toISOString(),
    })
    expect(checkout.metrics).toBe(2)
    // 10 % of requests over 300 ms where a 99 % objective allows 1 %: the budget is spent
    // nine times over (1 − 10 / 1).
    expect(checkout.slos).toEqual([
      {
        name: 'latency',
        objective: 99,
        window: '1d',
        current_sli: expect.closeTo(90, 6),
        error_budget_remaining: expect.closeTo(-9, 6),
        alert: 'page',
        state: 'spent',
      },
    ])
    expect(checkout.knob_modes).toEqual({ manual: 1, auto: 1, pinned: 1 })
    expect(checkout.knobs).toEqual([
      { name: 'cache', mode: 'pinned', value: false },
      { name: 'rate', mode: 'auto', value: 10 },
      { name: 'workers', mode: 'manual', value: 20 },
    ])
    expect(checkout.controllers).toBe(1)
    expect(billing).toEqual({
      service: 'billing',
      last_deploy: null,
      metrics: 1,
      slos: [],
      knob_modes: { manual: 0, auto: 0, pinned: 0 },
      knobs: [],
      controllers: 0,
    })
    expect(flags.knobs).toEqual([{ name: 'new-search', mode: 'manual', value: 0 }])
    expect(flags.metrics).toBe(0)
    expect(mailer.last_deploy).toMatchObject({ version: '2.0.0', actor: 'bob', description: 'new templates' })
  })
})

describe('GET /api/v1/services/{service}', () => {
  it('answers one service whole: metrics, knobs, SLOs with status, controllers with what they last did', async () => {
    const { status, body } = await api(app, 'GET', '/services/checkout')
    expect(status).toBe(200)
    expect(body.last_deploy.version).toBe('1.4.2')
    expect(body.metrics).toEqual([
      { name: 'http.server.request.duration', type: 'histogram', unit: 'ms', description: '' },
      { name: 'queue.depth', type: 'gauge', unit: '', description: '' },
    ])
    expect(
      body.knobs.map((k: { name: string; mode: string; changed_by: string }) => [k.name, k.mode, k.changed_by]),
    ).toEqual([
      ['cache', 'pinned', 'alice'],
      ['rate', 'auto', 'alice'],
      ['workers', 'manual', 'app:checkout'],
    ])
    expect(body.slos).toHaveLength(1)
    expect(body.slos[0]).toMatchObject({
      service: 'checkout',
      name: 'latency',
      alert: 'page',
      events: { bad: 100, total: 1000 },
    })
    expect(body.slos[0].burn_rates).toHaveLength(4)
    expect(body.controllers).toEqual([
      expect.objectContaining({
        service: 'checkout',
        name: 'workers-p99',
        knob: 'workers',
        slo: 'latency',
        mode: 'shadow',
        last_observation: null,
        last_decision: null,
        holding: null,
      }),
    ])
  })

  it('answers a service it knows nothing of with empty lists, not an error', async () => {
    const { status, body } = await api(app, 'GET', '/services/nobody')
    expect(status).toBe(200)
    expect(body).toEqual({ service: 'nobody', last_deploy: null, metrics: [], knobs: [], slos: [], controllers: [] })
  })
})

describe('GET /api/v1/whoami in open mode', () => {
  it('says the collector is open and grants every role', async () => {
    expect(await api(app, 'GET', '/whoami')).toEqual({
      status: 200,
      body: { open: true, name: null, roles: ['ingest', 'deploy', 'operate', 'read'] },
    })
  })
})
