import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../../collector/src/app.ts'
import { checkAnswers } from '../../helpers/answer-schemas.ts'
import type { ImpactAnswer } from '../../../collector/src/impact/index.ts'
import { testSettings } from '../../helpers/settings.ts'
import { deploy, prng, seedLatency, uniform } from './seed.ts'

// GET /api/v1/deploys/{id}/impact over histograms sent through /v1/metrics: 15 minutes
// before and after each deploy, a point every 10 s, compared in 30 s buckets.

let app: FastifyInstance
const MIN = 60_000
const EVERY = 10_000
// Deploys 20 minutes ago, on a bucket boundary: the window after them ended 5 minutes ago.
const T = Math.floor((Date.now() - 20 * MIN) / 30_000) * 30_000
const ids: Record<string, string> = {}

async function impact(id: string): Promise<{ status: number; body: ImpactAnswer & { error?: { code: string } } }> {
  const res = await app.inject({ method: 'GET', url: `/api/v1/deploys/${encodeURIComponent(id)}/impact` })
  return { status: res.statusCode, body: res.json() }
}

const metric = (body: ImpactAnswer, signal: string) => body.metrics.find((m) => m.signal === signal)!

beforeAll(async () => {
  app = await buildApp(testSettings({ impactIntervalMillis: 0 }), { logger: false, instrument: checkAnswers() })
  const rand = prng(42)
  const perInterval = () => 90 + Math.floor(rand() * 21) // 90 to 110 requests every 10 s

  // checkout: latencies uniform in [0, 0.2) s before, [0, 0.3) s after, so the p99 goes from
  // about 0.198 s to about 0.297 s (+50 %). Two server errors in 15 minutes: too sparse to judge.
  const errorsAt = new Set([T + 3 * MIN, T + 9 * MIN])
  await seedLatency(app, 'checkout', T - 15 * MIN, T + 15 * MIN, EVERY, [
    {
      attributes: { 'http.response.status_code': '200' },
      observe: (ts) => uniform(rand, perInterval(), ts <= T ? 0.2 : 0.3),
    },
    { attributes: { 'http.response.status_code': '500' }, observe: (ts) => (errorsAt.has(ts) ? [0.05] : []) },
  ])
  ids.checkout = await deploy(app, {
    service: 'checkout',
    version: '1.4.2',
    started_at: T,
    finished_at: T,
    plan: { contingency: ['cart_cache'] },
  })

  // catalog: the same distribution before and after; a 5xx series that never counts anything.
  await seedLatency(app, 'catalog', T - 15 * MIN, T + 15 * MIN, EVERY, [
    { attributes: { 'http.response.status_code': '200' }, observe: () => uniform(rand, perInterval(), 0.2) },
    { attributes: { 'http.response.status_code': '503' }, observe: () => [] },
  ])
  ids.catalog = await deploy(app, { service: 'catalog', version: '7.0.0', started_at: T, finished_at: T })

  // late: deployed 4 minutes ago, so its window after is still open.
  const L = Math.floor((Date.now() - 4 * MIN) / 30_000) * 30_000
  await seedLatency(app, 'late', L - 15 * MIN, Date.now() - 1000, EVERY, [
    {
      attributes: { 'http.response.status_code': '200' },
      observe: (ts) => uniform(rand, perInterval(), ts <= L ? 0.2 : 0.3),
    },
  ])
  ids.late = await deploy(app, {
    service: 'late',
    version: '2.0.0',
    started_at: L,
    finished_at: L,
    plan: { watch: ['http.server.request.duration'], contingency: ['fast_path'] },
  })
})
afterAll(async () => {
  await app?.close()
})

describe('GET /api/v1/deploys/{id}/impact', () => {
  it('finds a p99 latency that rose by 50 % worse, with p < 0.01', async () => {
    const { status, body } = await impact(ids.checkout!)
    expect(status).toBe(200)
    expect(body.provisional).toBe(false)
    const p99 = metric(body, 'p99')
    expect(p99).toMatchObject({
      metric: 'http.server.request.duration',
      verdict: 'worse',
      unit: 's',
      source: 'default',
    })
    expect(p99.p_value).toBeLessThan(0.01)
    expect(p99.median_before).toBeCloseTo(0.198, 2)
    expect(p99.median_after).toBeCloseTo(0.297, 2)
    expect(p99.relative_change).toBeGreaterThan(0.4)
    expect(p99.relative_change).toBeLessThan(0.6)
    expect(p99.rank_biserial).toBeGreaterThan(0.9)
    // 15 minutes of 30 s buckets; the bucket that starts 15 min before the deploy holds one point only.
    expect(p99.samples_before).toBeGreaterThanOrEqual(29)
    expect(p99.samples_after).toBeGreaterThanOrEqual(29)
    expect(body.summary).toMatch(/^checkout 1\.4\.2: p99 latency worse by (4[5-9]|5[0-5]) %$/)
  })

  it('says which contingency knob to turn when a metric got worse', async () => {
    const { body } = await impact(ids.checkout!)
    expect(body.hints).toHaveLength(1)
    expect(body.hints[0]).toMatch(
      /^p99 of http\.server\.request\.duration is \d+ % worse \(p [<=] [\d.]+\): consider turning off cart_cache$/,
    )
  })

  it('calls two server errors in 30 minutes not enough data, and an unmoved throughput unchanged', async () => {
    const { body } = await impact(ids.checkout!)
    const errors = metric(body, 'error_ratio')
    expect(errors.verdict).toBe('not_enough_data')
    expect(errors.note).toMatch(/only 2 of \d+ buckets are non-zero/)
    const throughput = metric(body, 'throughput')
    expect(throughput.verdict).toBe('unchanged')
    expect(throughput.median_before).toBeGreaterThan(9)
    expect(throughput.median_before).toBeLessThan(11)
  })

  it('finds a deploy that changed nothing unchanged, and all-zero errors not enough data', async () => {
    const { body } = await impact(ids.catalog!)
    const p99 = metric(body, 'p99')
    expect(p99.verdict).toBe('unchanged')
    expect(Math.abs(p99.relative_change!)).toBeLessThan(0.05)
    expect(p99.p_value).not.toBeNull()
    const errors = metric(body, 'error_ratio')
    expect(errors).toMatchObject({ verdict: 'not_enough_data', p_value: null })
    expect(errors.note).toMatch(/every bucket is 0 before and after/)
    expect(body.hints).toEqual([])
    expect(body.summary).toBe('catalog 7.0.0: no significant change in 2 of 3 metrics')
  })

  it('stores the analysis once as an analysis event, found by search', async () => {
    const first = await impact(ids.checkout!)
    const again = await impact(ids.checkout!)
    expect(first.body.analysis_id).toBe(`impact:${ids.checkout}`)
    expect(again.body.analysed_at).toBe(first.body.analysed_at)
    const res = await app.inject({ method: 'GET', url: '/api/v1/events?kind=analysis&service=checkout' })
    const events = (
      res.json() as {
        events: { id: string; title: string; text: string; actor: string; data: { deploy_id: string } }[]
      }
    ).events
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({
      id: `impact:${ids.checkout}`,
      title: first.body.summary,
      actor: 'governor',
      data: { deploy_id: ids.checkout },
    })
    expect(events[0]!.text).toContain('consider turning off cart_cache')
    const found = await app.inject({ method: 'GET', url: '/api/v1/events?q=checkout%20latency%20worse' })
    expect((found.json() as { events: { id: string }[] }).events.map((e) => e.id)).toContain(`impact:${ids.checkout}`)
  })

  it('answers a provisional analysis, not stored, before the window has passed', async () => {
    const { status, body } = await impact(ids.late!)
    expect(status).toBe(200)
    expect(body).toMatchObject({ provisional: true, analysis_id: null })
    // Only the plan's watched metric, with the after window cut at now.
    expect(body.metrics.map((m) => m.metric)).toEqual(['http.server.request.duration'])
    expect(Date.parse(body.window.after.to)).toBeLessThanOrEqual(Date.now())
    expect(metric(body, 'p99').samples_after).toBeGreaterThanOrEqual(5)
    expect(metric(body, 'p99').verdict).toBe('worse')
    const stored = await app.inject({ method: 'GET', url: `/api/v1/events?kind=analysis&service=late` })
    expect((stored.json() as { events: unknown[] }).events).toEqual([])
  })

  it('takes ?window= for a provisional look over shorter windows, never stored', async () => {
    const stored = await impact(ids.checkout!)
    const res = await app.inject({ method: 'GET', url: `/api/v1/deploys/${ids.checkout}/impact?window=5m` })
    expect(res.statusCode).toBe(200)
    const body = res.json() as ImpactAnswer
    expect(body).toMatchObject({ provisional: true, analysis_id: null, verdict: 'worse' })
    expect(body.window).toEqual({
      before: { from: new Date(T - 5 * MIN).toISOString(), to: new Date(T).toISOString() },
      after: { from: new Date(T).toISOString(), to: new Date(T + 5 * MIN).toISOString() },
    })
    expect(metric(body, 'p99')).toMatchObject({ verdict: 'worse', samples_before: 10, samples_after: 10 })
    // The stored analysis is still the one of the whole window, and nothing else was stored.
    expect((await impact(ids.checkout!)).body).toEqual(stored.body)
    const events = (
      await app.inject({ method: 'GET', url: '/api/v1/events?kind=analysis&service=checkout' })
    ).json() as { events: unknown[] }
    expect(events.events).toHaveLength(1)
  })

  it('refuses a window too short for a verdict, longer than the configured one, or unreadable', async () => {
    const short = await app.inject({ method: 'GET', url: `/api/v1/deploys/${ids.checkout}/impact?window=2m` })
    expect(short.statusCode).toBe(400)
    expect(short.json().error).toEqual({
      code: 'GOV_ERR_QUERY_PARAM',
      message: 'window must be from 180 s (6 buckets of 30 s) to 900 s (GOVERNOR_IMPACT_WINDOW_MILLIS), got 120 s',
    })
    expect(
      (await app.inject({ method: 'GET', url: `/api/v1/deploys/${ids.checkout}/impact?window=1h` })).statusCode,
    ).toBe(400)
    const bad = await app.inject({ method: 'GET', url: `/api/v1/deploys/${ids.checkout}/impact?window=soon` })
    expect(bad.json().error.message).toBe('window must be a duration such as 5m, 90s or 1h, got "soon"')
  })

  it("says the deploy's verdict in one word", async () => {
    expect((await impact(ids.checkout!)).body.verdict).toBe('worse')
    expect((await impact(ids.catalog!)).body.verdict).toBe('unchanged')
  })

  it('answers 404 for an unknown deploy, and for an event that is no deploy', async () => {
    const unknown = await impact('no-such-deploy')
    expect(unknown.status).toBe(404)
    expect(unknown.body.error!.code).toBe('GOV_ERR_CHANGE_NOT_FOUND')
    const analysis = await impact(`impact:${ids.checkout}`)
    expect(analysis.status).toBe(404)
  })
})
