import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../../collector/src/app.ts'
import { checkAnswers } from '../../helpers/answer-schemas.ts'
import { testSettings } from '../../helpers/settings.ts'
import { api, counter, send } from './seed.ts'

let app: FastifyInstance
const who = { actor: 'alice', reason: 'agreed with the team' }
const latency = {
  sli: { type: 'latency', metric: 'http.server.request.duration', percentile: 99, threshold_ms: 300 },
  objective: 99.9,
  window: '30d',
}

beforeAll(async () => {
  app = await buildApp(testSettings({ controllerTickMillis: 0, impactIntervalMillis: 0 }), {
    logger: false,
    instrument: checkAnswers(),
  })
})
afterAll(async () => {
  await app?.close()
})

describe('PUT /api/v1/slos/{service}/{name}', () => {
  it('names every problem of a malformed definition in one 400', async () => {
    const res = await api(app, 'PUT', '/slos/checkout/latency', {
      sli: { type: 'latency', metric: 'http.server.request.duration', percentile: 100, threshold: 300 },
      objective: 0.999,
      window: '30 days',
    })
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('GOV_ERR_SLO_INVALID')
    expect(res.body.error.message.split('; ')).toEqual([
      'sli.threshold does not apply to a latency SLI (fields: type, metric, percentile, threshold_ms, filter)',
      'sli.percentile must be below 100, got 100',
      'sli.threshold_ms must be a positive number of milliseconds, got undefined',
      'objective must be a percentage above 1 and below 100 (99.9 for 99.9 %), got 0.999',
      'window must be a duration such as 30d, 7d or 12h, got "30 days"',
      'actor is required',
      'reason is required',
    ])
  })

  it.each([
    [
      { sli: { type: 'availability', metric: 'x' } },
      'sli.type must be one of latency, error_ratio, gauge_max, got "availability"',
    ],
    [
      { sli: { type: 'error_ratio', metric: 'http.server.requests' } },
      'sli.errors must be an attribute filter such as {"http.response.status_code": "5xx"}, got undefined',
    ],
    [
      { sli: { type: 'error_ratio', metric: 'x', errors: { code: 500 } } },
      'sli.errors.code must be a value or a list of values such as {"http.response.status_code": "5xx"}, got 500',
    ],
    [
      { sli: { type: 'gauge_max', metric: '', max: 'ten' } },
      'sli.metric must be a metric name, got ""; sli.max must be a finite number, got "ten"',
    ],
    [{ window: '91d' }, 'window must be from 1h to 90d, got "91d"'],
    [{ objective: 100 }, 'objective must be a percentage above 1 and below 100 (99.9 for 99.9 %), got 100'],
    [{ owner: 'bob' }, 'unknown field owner (fields: sli, objective, window, description, actor, reason)'],
  ])('refuses %j', async (change, message) => {
    const res = await api(app, 'PUT', '/slos/checkout/bad', { ...latency, ...who, ...change })
    expect(res.status).toBe(400)
    expect(res.body.error.message).toBe(message)
  })

  it('answers 201 for a new SLO, 200 with the same version for the same definition, and a new version for a change', async () => {
    const created = await api(app, 'PUT', '/slos/checkout/latency', { ...latency, ...who })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({
      service: 'checkout',
      name: 'latency',
      ...latency,
      version: 1,
      changed_by: 'alice',
      reason: 'agreed with the team',
      alert: 'ok',
      error_budget_remaining: 1,
    })
    const again = await api(app, 'PUT', '/slos/checkout/latency', { ...latency, ...who, reason: 'again' })
    expect(again.status).toBe(200)
    expect(again.body).toMatchObject({ version: 1, reason: 'agreed with the team' })
    const changed = await api(app, 'PUT', '/slos/checkout/latency', {
      ...latency,
      objective: 99.5,
      actor: 'bob',
      reason: 'too strict for now',
    })
    expect(changed.status).toBe(200)
    expect(changed.body).toMatchObject({ version: 2, objective: 99.5, changed_by: 'bob' })
    const one = await api(app, 'GET', '/slos/checkout/latency')
    expect(one.body.history.map((h: { version: number; objective: number }) => [h.version, h.objective])).toEqual([
      [2, 99.5],
      [1, 99.9],
    ])
  })

  it('records every change as an event of kind slo, and none for a definition put again', async () => {
    const { body } = await api(app, 'GET', '/events?kind=slo&service=checkout')
    expect(body.events.map((e: { title: string }) => e.title)).toEqual([
      'bob changed SLO checkout/latency: objective 99.9 → 99.5',
      'alice defined SLO checkout/latency: 99.9 % of http.server.request.duration observations within 300 ms (p99) over 30d',
    ])
    expect(body.events[0]).toMatchObject({
      actor: 'bob',
      text: 'too strict for now',
      tags: ['latency'],
      data: { name: 'latency', version: 2, before: { objective: 99.9 }, after: { objective: 99.5 } },
    })
  })

  it('answers 404 for an unknown SLO and lists SLOs by service', async () => {
    const missing = await api(app, 'GET', '/slos/checkout/nope')
    expect(missing.status).toBe(404)
    expect(missing.body.error.code).toBe('GOV_ERR_SLO_NOT_FOUND')
    expect((await api(app, 'GET', '/slos?service=nobody')).body).toEqual({ slos: [] })
  })
})

describe('GET /api/v1/gate', () => {
  beforeAll(async () => {
    // payments: 30 errors of 1000 requests in the last minutes against 99.9 %: the budget is spent.
    // search: 1 error of 10 000 against 99 %: 1 % of the budget used.
    const now = Date.now()
    const series = (ok: number, failed: number) => [
      { ts: now - 120_000, start: now - 600_000, value: 0, attrs: { code: '200' } },
      { ts: now - 10_000, start: now - 600_000, value: ok, attrs: { code: '200' } },
      { ts: now - 120_000, start: now - 600_000, value: 0, attrs: { code: '503' } },
      { ts: now - 10_000, start: now - 600_000, value: failed, attrs: { code: '503' } },
    ]
    await send(app, 'payments', [counter('requests_total', series(970, 30))])
    await send(app, 'search', [counter('requests_total', series(9999, 1))])
    const errors = (objective: number) => ({
      sli: { type: 'error_ratio', metric: 'requests_total', errors: { code: ['500', '502', '503'] } },
      objective,
      window: '7d',
      ...who,
    })
    expect((await api(app, 'PUT', '/slos/payments/availability', errors(99.9))).status).toBe(201)
    expect((await api(app, 'PUT', '/slos/search/availability', errors(99))).status).toBe(201)
  })

  it('denies a deploy while an SLO of the service has its error budget spent, and records the denial', async () => {
    const res = await api(app, 'GET', '/gate?service=payments&actor=ci&version=2.1.0')
    expect(res.status).toBe(200)
    // 30/1000 = 3 % bad where 99.9 % allows 0.1 %: 30 × the budget, 1 − 30 = −29 left.
    expect(res.body).toMatchObject({ allowed: false, service: 'payments' })
    expect(res.body.reasons).toEqual([
      'payments/availability: error budget spent (3000 % used): 3 % of events bad over 7d, 99.9 % allows 0.1 %',
    ])
    expect(res.body.slos[0].error_budget_remaining).toBeCloseTo(-29, 6)
    const { body } = await api(app, 'GET', '/events?kind=gate&service=payments')
    expect(body.events).toHaveLength(1)
    expect(body.events[0]).toMatchObject({
      actor: 'ci',
      title: 'deploy of payments 2.1.0 denied: error budget spent (availability)',
      text: res.body.reasons[0],
      tags: ['denied', 'availability'],
      data: { allowed: false, version: '2.1.0' },
    })
  })

  it('allows a deploy while every budget lasts, recording nothing', async () => {
    const search = await api(app, 'GET', '/gate?service=search')
    // 1/10000 = 0.01 % bad where 99 % allows 1 %: 0.01 of the budget used.
    expect(search.body).toMatchObject({
      allowed: true,
      outcome: 'allowed',
      service: 'search',
      reasons: [],
      warnings: [],
    })
    expect(search.body.slos[0]).toMatchObject({ name: 'availability', state: 'ok' })
    expect(search.body.slos[0].error_budget_remaining).toBeCloseTo(0.99, 6)
    expect((await api(app, 'GET', '/events?kind=gate')).body.events).toHaveLength(1)
  })

  it('denies a service it does not know (a typo), naming it', async () => {
    const res = await api(app, 'GET', '/gate?service=paymnets')
    expect(res.body).toMatchObject({ allowed: false, outcome: 'denied', slos: [] })
    expect(res.body.reasons).toEqual([
      'no service named "paymnets" is known to Governor (it sent no metrics, was never deployed, has no knobs or SLOs): check the name',
    ])
  })

  it('says plainly that nothing guards a known service without SLOs, and denies it with require_slo', async () => {
    await send(app, 'cart', [
      counter('requests_total', [{ ts: Date.now() - 1000, start: Date.now() - 60_000, value: 1 }]),
    ])
    const open = await api(app, 'GET', '/gate?service=cart')
    expect(open.body).toMatchObject({ allowed: true, warnings: ['cart has no SLOs: nothing guards this deploy'] })
    const strict = await api(app, 'GET', '/gate?service=cart&require_slo=1')
    expect(strict.body).toMatchObject({ allowed: false, reasons: ['cart has no SLOs, and require_slo is set'] })
  })

  it('reports an SLO on a metric with no data as no_data, never as ok', async () => {
    expect(
      (
        await api(app, 'PUT', '/slos/cart/latency', {
          sli: { type: 'error_ratio', metric: 'no_such_metric_total', errors: { code: '500' } },
          objective: 99,
          window: '1d',
          ...who,
        })
      ).status,
    ).toBe(201)
    const res = await api(app, 'GET', '/gate?service=cart')
    expect(res.body.slos).toMatchObject([{ name: 'latency', state: 'no_data' }])
    expect(res.body.warnings).toEqual([
      'cart/latency: no events over 1d, so it guards nothing (is no_such_metric_total being sent?)',
      'no SLO of cart has data: nothing guards this deploy',
    ])
    expect((await api(app, 'GET', '/gate?service=cart&require_slo=1')).body).toMatchObject({
      allowed: false,
      reasons: ['no SLO of cart has data, and require_slo is set'],
    })
  })

  it('lets a rollback through a spent budget, and records it', async () => {
    for (const version of ['2.0.0', '2.1.0'])
      expect((await api(app, 'POST', '/deploys', { service: 'payments', version, actor: 'ci' })).status).toBe(201)
    expect((await api(app, 'GET', '/gate?service=payments&version=2.2.0')).body.allowed).toBe(false)
    const back = await api(app, 'GET', '/gate?service=payments&version=2.0.0&actor=ci')
    expect(back.body).toMatchObject({ allowed: true, outcome: 'allowed', rollback: true })
    expect(back.body.warnings[0]).toMatch(/error budget spent .*; allowed because the deploy is a rollback$/)
    const events = (await api(app, 'GET', '/events?kind=gate&service=payments')).body.events
    expect(events[0]).toMatchObject({
      title: 'deploy of payments 2.0.0 allowed as a rollback through a spent error budget (availability)',
      tags: ['rollback', 'availability'],
    })
  })

  it('takes a break-glass override with who and why, and records it', async () => {
    expect((await api(app, 'GET', '/gate?service=payments&override=')).status).toBe(400)
    expect((await api(app, 'GET', '/gate?service=payments&override=hotfix')).body.error.message).toMatch(/needs actor=/)
    const res = await api(app, 'GET', '/gate?service=payments&version=2.2.0&override=hotfix+for+INC-42&actor=alice')
    expect(res.body).toMatchObject({
      allowed: true,
      outcome: 'overridden',
      reasons: [],
      override: { actor: 'alice', reason: 'hotfix for INC-42' },
    })
    expect(res.body.warnings[0]).toMatch(/^overridden: payments\/availability: error budget spent/)
    const events = (await api(app, 'GET', '/events?kind=gate&service=payments')).body.events
    expect(events[0]).toMatchObject({
      actor: 'alice',
      title: 'deploy of payments 2.2.0 allowed by override of alice: hotfix for INC-42',
      tags: ['override', 'availability'],
    })
  })

  it('needs a service', async () => {
    const res = await api(app, 'GET', '/gate')
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('GOV_ERR_QUERY_PARAM')
  })
})
