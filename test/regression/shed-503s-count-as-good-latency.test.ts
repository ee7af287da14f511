import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../collector/src/app.ts'
import { passesFilter } from '../../collector/src/slo/definition.ts'
import { testSettings } from '../helpers/settings.ts'
import { accumulate, api, counter, gauge, histogram, send } from '../collector/slo/seed.ts'

// A latency SLI could not filter by attribute, so the fast 503s an overloaded app sheds (in a
// millisecond) counted as good events and hid the slow requests it did serve.

let app: FastifyInstance
const M = 60_000
const T = Math.floor(Date.now() / 1000) * 1000
const who = { actor: 'alice', reason: 'r' }
const ok = { 'http.response.status_code': '200' },
  shed = { 'http.response.status_code': '503' }

beforeAll(async () => {
  app = await buildApp(testSettings({ controllerTickMillis: 0, impactIntervalMillis: 0 }), { logger: false })
  // Bounds 100, 300 ms. 200s: 100 served, 20 of them above 300 ms. 503s: 900 shed within 100 ms.
  const bounds = [100, 300]
  const served = accumulate(bounds),
    refused = accumulate(bounds)
  const start = T - 30 * M
  await send(app, 'shop', [
    histogram('http.server.request.duration', 'ms', bounds, [
      { ...served(T - 20 * M, start, [0, 0, 0]), attrs: ok },
      { ...served(T - 1 * M, start, [50, 30, 20]), attrs: ok },
      { ...refused(T - 20 * M, start, [0, 0, 0]), attrs: shed },
      { ...refused(T - 1 * M, start, [900, 0, 0]), attrs: shed },
    ]),
  ])
  // A counter and a gauge with a route each, for the filter on the other SLI kinds.
  await send(app, 'shop', [
    counter('requests_total', [
      { ts: T - 20 * M, start, value: 0, attrs: { code: '200', route: '/pay' } },
      { ts: T - M, start, value: 90, attrs: { code: '200', route: '/pay' } },
      { ts: T - 20 * M, start, value: 0, attrs: { code: '500', route: '/pay' } },
      { ts: T - M, start, value: 10, attrs: { code: '500', route: '/pay' } },
      { ts: T - 20 * M, start, value: 0, attrs: { code: '200', route: '/health' } },
      { ts: T - M, start, value: 900, attrs: { code: '200', route: '/health' } },
    ]),
  ])
  await send(app, 'shop', [
    gauge('queue.depth', [
      { ts: T - 2 * M, value: 500, attrs: { queue: 'batch' } },
      { ts: T - M, value: 500, attrs: { queue: 'batch' } },
      { ts: T - 2 * M, value: 5, attrs: { queue: 'orders' } },
      { ts: T - M, value: 5, attrs: { queue: 'orders' } },
    ]),
  ])
})
afterAll(async () => {
  await app?.close()
})

const put = async (name: string, sli: object) => {
  const res = await api(app, 'PUT', `/slos/shop/${name}`, { sli, objective: 99, window: '1d', ...who })
  expect(res.status, JSON.stringify(res.body)).toBe(201)
  return res.body
}
const latency = { type: 'latency', metric: 'http.server.request.duration', percentile: 99, threshold_ms: 300 }

describe('an attribute filter on an SLI', () => {
  it('leaves the shed 503s out of a latency SLI', async () => {
    const all = await put('latency-all', latency)
    expect(all.events).toEqual({ bad: 20, total: 1000 }) // 98 %: the 503s hide the slow 20 %
    const served = await put('latency-served', { ...latency, filter: { 'http.response.status_code': '!503' } })
    expect(served.events).toEqual({ bad: 20, total: 100 })
    expect(served.current_sli).toBeCloseTo(80, 9)
    expect((await api(app, 'GET', '/events?kind=slo&q=latency-served')).body.events[0].title).toBe(
      'alice defined SLO shop/latency-served: 99 % of http.server.request.duration observations within 300 ms (p99) where http.response.status_code≠503 over 1d',
    )
  })

  it('applies to error ratios and gauges too', async () => {
    const errors = await put('pay-errors', {
      type: 'error_ratio',
      metric: 'requests_total',
      errors: { code: '5xx' },
      filter: { route: '/pay' },
    })
    expect(errors.events).toEqual({ bad: 10, total: 100 })
    const queue = await put('orders-queue', {
      type: 'gauge_max',
      metric: 'queue.depth',
      max: 100,
      filter: { queue: ['orders'] },
    })
    expect(queue.events).toEqual({ bad: 0, total: 2 })
  })

  it('is validated, naming each problem', async () => {
    const res = await api(app, 'PUT', '/slos/shop/bad', {
      sli: { ...latency, filter: { code: '!', route: [], '': 'x' } },
      objective: 99,
      window: '1d',
      ...who,
    })
    expect(res.status).toBe(400)
    expect(res.body.error.message.split('; ')).toEqual([
      'sli.filter.code must be a value or a list of values such as {"http.response.status_code": "!503"} (!v leaves v out), got "!"',
      'sli.filter.route must be a value or a list of values such as {"http.response.status_code": "!503"} (!v leaves v out), got []',
      'sli.filter: an attribute name must not be empty',
    ])
    expect(
      (
        await api(app, 'PUT', '/slos/shop/bad', {
          sli: { ...latency, filter: [] },
          objective: 99,
          window: '1d',
          ...who,
        })
      ).status,
    ).toBe(400)
  })

  it('reads plain values, !values, status families and missing attributes as documented', () => {
    expect([passesFilter('200', '!503'), passesFilter('503', '!503'), passesFilter(undefined, '!503')]).toEqual([
      true,
      false,
      true,
    ])
    expect([
      passesFilter('502', ['5xx', '!503']),
      passesFilter('503', ['5xx', '!503']),
      passesFilter(undefined, '5xx'),
    ]).toEqual([true, false, false])
  })
})
