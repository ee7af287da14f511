import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../../collector/src/app.ts'
import { checkAnswers } from '../../helpers/answer-schemas.ts'
import { nanos } from '../../helpers/otlp.ts'
import { testSettings } from '../../helpers/settings.ts'

let app: FastifyInstance
const MIN = 60_000
const T0 = Math.floor((Date.now() - 2 * 3_600_000) / MIN) * MIN

const post = (url: string, payload: unknown) => app.inject({ method: 'POST', url, payload: payload as object })
const get = async (url: string) => {
  const res = await app.inject({ method: 'GET', url })
  return { status: res.statusCode, body: res.json() as Record<string, any> }
}
const attrs = (o: Record<string, string>) => Object.entries(o).map(([key, v]) => ({ key, value: { stringValue: v } }))

async function gauge(service: string, metric: string, points: [number, number][]): Promise<void> {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/metrics',
    headers: { 'content-type': 'application/json' },
    payload: {
      resourceMetrics: [
        {
          resource: { attributes: attrs({ 'service.name': service }) },
          scopeMetrics: [
            {
              metrics: [
                {
                  name: metric,
                  gauge: { dataPoints: points.map(([t, v]) => ({ timeUnixNano: nanos(t), asDouble: v })) },
                },
              ],
            },
          ],
        },
      ],
    },
  })
  expect(res.statusCode).toBe(200)
}

beforeAll(async () => {
  app = await buildApp(testSettings(), { logger: false, instrument: checkAnswers() })
})
afterAll(async () => {
  await app?.close()
})

describe('deploys', () => {
  it('stores a deploy and answers 201 with the record', async () => {
    const res = await post('/api/v1/deploys', {
      service: 'checkout',
      version: '1.0.0',
      actor: 'alice',
      commit: 'abc123',
      description: 'first',
      started_at: T0 + 10 * MIN,
      finished_at: new Date(T0 + 11 * MIN).toISOString(),
      plan: { expect: [{ metric: 'latency', change: 'down' }], watch: ['latency'], contingency: ['cart_cache'] },
    })
    expect(res.statusCode).toBe(201)
    expect(res.json()).toMatchObject({
      service: 'checkout',
      version: '1.0.0',
      actor: 'alice',
      environment: 'production',
      commit: 'abc123',
      rollback: false,
      started_at: new Date(T0 + 10 * MIN).toISOString(),
      finished_at: new Date(T0 + 11 * MIN).toISOString(),
      plan: { watch: ['latency'], contingency: ['cart_cache'] },
    })
  })

  it('stores one deploy for the same id sent twice', async () => {
    const body = { id: 'ci-run-77', service: 'cart', version: '2.0.0', actor: 'bob', finished_at: T0 + 20 * MIN }
    const first = await post('/api/v1/deploys', body)
    const second = await post('/api/v1/deploys', { ...body, version: '2.0.1' })
    expect([first.statusCode, second.statusCode]).toEqual([201, 200])
    expect(second.json().version).toBe('2.0.0')
    const list = await get('/api/v1/deploys?service=cart')
    expect(list.body.deploys.map((d: { id: string }) => d.id)).toEqual(['ci-run-77'])
  })

  it('marks a return to an earlier version as a rollback, and a redeploy of the live one not', async () => {
    for (const [v, m] of [
      ['1.0', 30],
      ['1.1', 31],
      ['1.1', 32],
      ['1.0', 33],
    ] as const) {
      await post('/api/v1/deploys', { service: 'search', version: v, actor: 'ci', finished_at: T0 + m * MIN })
    }
    const { body } = await get('/api/v1/deploys?service=search')
    expect(body.deploys.map((d: { version: string; rollback: boolean }) => [d.version, d.rollback])).toEqual([
      ['1.0', true],
      ['1.1', false],
      ['1.1', false],
      ['1.0', false],
    ])
  })

  it('answers the last deploy of every service', async () => {
    const { body } = await get('/api/v1/deploys/last')
    const last = Object.fromEntries(
      body.deploys.map((d: { service: string; version: string }) => [d.service, d.version]),
    )
    expect(last).toMatchObject({ checkout: '1.0.0', cart: '2.0.0', search: '1.0' })
    expect((await get('/api/v1/deploys/last?service=search')).body.deploys).toHaveLength(1)
  })

  it('refuses bad input naming every problem', async () => {
    const res = await post('/api/v1/deploys', { service: '', version: 3, finished_at: Date.now() + 86_400_000 })
    expect(res.statusCode).toBe(400)
    const { message, code } = res.json().error
    expect(code).toBe('GOV_ERR_CHANGE_INVALID')
    for (const part of [
      'service is required',
      'version must be a string',
      'actor is required',
      'finished_at=',
      'in the future',
    ])
      expect(message).toContain(part)
    const old = await post('/api/v1/deploys', {
      service: 'a',
      version: '1',
      actor: 'x',
      started_at: '1969-12-31T00:00:00Z',
    })
    expect(old.json().error.message).toContain('before 1970')
    const big = await post('/api/v1/deploys', {
      service: 'a',
      version: '1',
      actor: 'x',
      description: 'x'.repeat(70_000),
    })
    expect(big.statusCode).toBe(413)
  })
})

describe('events', () => {
  it('stores events and finds them by full-text search, newest first', async () => {
    const a = await post('/api/v1/events', {
      kind: 'incident',
      title: 'Checkout latency spike',
      actor: 'oncall',
      service: 'checkout',
      text: 'Redis evictions after the cache change',
      tags: ['sev2'],
      time: T0 + 40 * MIN,
    })
    expect(a.statusCode).toBe(201)
    await post('/api/v1/events', {
      kind: 'note',
      title: 'Redis upgraded',
      actor: 'ops',
      service: 'cart',
      time: T0 + 41 * MIN,
    })
    const redis = await get('/api/v1/events?q=redis')
    expect(redis.body.events.map((e: { title: string }) => e.title)).toEqual([
      'Redis upgraded',
      'Checkout latency spike',
    ])
    const both = await get('/api/v1/events?q=REDIS%20evictions')
    expect(both.body.events.map((e: { title: string }) => e.title)).toEqual(['Checkout latency spike'])
    expect((await get('/api/v1/events?q=sev2')).body.events).toHaveLength(1)
    expect((await get('/api/v1/events?kind=note')).body.events.every((e: { kind: string }) => e.kind === 'note')).toBe(
      true,
    )
    expect((await get('/api/v1/events?q=nothing%20like%20this')).body.events).toEqual([])
  })

  it('lists deploys among the events, as one log', async () => {
    const { body } = await get('/api/v1/events?service=checkout&kind=deploy')
    expect(body.events[0]).toMatchObject({
      kind: 'deploy',
      version: '1.0.0',
      title: 'alice deployed checkout 1.0.0 to production',
    })
  })

  it('refuses an event without kind, title and actor', async () => {
    const res = await post('/api/v1/events', { text: 'x' })
    expect(res.statusCode).toBe(400)
    expect(res.json().error.message).toBe('kind is required; title is required; actor is required')
  })

  it('treats an unknown service in a query as an empty result', async () => {
    expect((await get('/api/v1/events?service=nope')).body.events).toEqual([])
    expect((await get('/api/v1/deploys?service=nope')).body.deploys).toEqual([])
  })
})

describe('changes on every series', () => {
  beforeAll(async () => {
    // api: a gauge every minute for 20 minutes, with a deploy at minute 10 (recorded
    // here) that doubles it. worker: another service with no deploys.
    const pts: [number, number][] = []
    for (let m = 0; m < 20; m++) pts.push([T0 + 60 * MIN + m * MIN, m < 10 ? 100 : 200])
    await gauge('api', 'work.queue', pts)
    await gauge(
      'worker',
      'work.queue',
      pts.map(([t]) => [t, 1]),
    )
    await post('/api/v1/deploys', { service: 'api', version: 'v1', actor: 'ci', finished_at: T0 + 50 * MIN })
    await post('/api/v1/deploys', {
      service: 'api',
      version: 'v2',
      actor: 'ci',
      started_at: T0 + 70 * MIN,
      finished_at: T0 + 71 * MIN,
    })
    await post('/api/v1/events', {
      kind: 'note',
      service: 'worker',
      title: 'worker note',
      actor: 'x',
      time: T0 + 65 * MIN,
    })
  })

  it("annotates a series with its service's changes in range and the last deploy before it, and no other's", async () => {
    const api = await get(`/api/v1/query?metric=work.queue&service=api&from=${T0 + 60 * MIN}&to=${T0 + 80 * MIN}`)
    expect(api.body.annotations.map((a: { kind: string; version?: string }) => `${a.kind}:${a.version ?? ''}`)).toEqual(
      ['deploy:v1', 'deploy:v2'],
    )
    const worker = await get(`/api/v1/query?metric=work.queue&service=worker&from=${T0 + 60 * MIN}&to=${T0 + 80 * MIN}`)
    expect(worker.body.annotations.map((a: { title: string }) => a.title)).toEqual(['worker note'])
  })

  it('by=deploy splits a series at the deploy', async () => {
    const { body } = await get(
      `/api/v1/query?metric=work.queue&service=api&from=${T0 + 60 * MIN}&to=${T0 + 80 * MIN}&step=600&agg=avg&by=deploy`,
    )
    const byVersion = Object.fromEntries(
      body.series.map((s: { labels: { deploy: string }; points: number[][] }) => [
        s.labels.deploy,
        s.points.map((p) => p[1]),
      ]),
    )
    // Buckets are aligned to the epoch, not to the deploy: each deploy may span two of them,
    // but no bucket mixes points of both versions.
    expect(Object.keys(byVersion).sort()).toEqual(['v1', 'v2'])
    expect(new Set(byVersion.v1)).toEqual(new Set([100]))
    expect(new Set(byVersion.v2)).toEqual(new Set([200]))
  })
})
