import type { FastifyInstance } from 'fastify'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../../collector/src/app.ts'
import type { ChangeEvent } from '../../../collector/src/changelog/types.ts'
import {
  ImpactMetrics,
  ImpactScheduler,
  type ImpactAnalyser,
  type ImpactReport,
} from '../../../collector/src/impact/index.ts'
import { mannWhitneyUTest } from '../../../collector/src/store/rank-test.ts'
import { testSettings } from '../../helpers/settings.ts'
import { deploy, prng, seedLatency, uniform } from './seed.ts'

// The impact scheduler driven tick by tick with a manual clock, over one store.

let app: FastifyInstance
const MIN = 60_000
// Three hours ago, on a bucket boundary: every deploy is in the past for the deploys API.
const T = Math.floor((Date.now() - 180 * MIN) / 30_000) * 30_000
const ids: Record<string, string> = {}
let clock = 0

function recordingLog() {
  const lines = { error: [] as string[], debug: [] as string[] }
  return {
    lines,
    log: {
      error: (_: object, msg: string) => {
        lines.error.push(msg)
      },
      debug: (_: object, msg: string) => {
        lines.debug.push(msg)
      },
    },
  }
}

function scheduler(impact: ImpactAnalyser, extra: { intervalMillis?: number; stopTimeoutMillis?: number } = {}) {
  const { lines, log } = recordingLog()
  const metrics = new ImpactMetrics(new Registry())
  const s = new ImpactScheduler({
    impact,
    changeLog: app.governor.changeLog,
    metrics,
    log,
    now: () => clock,
    intervalMillis: 0,
    ...extra,
  })
  return { s, lines, metrics }
}

async function analyses(): Promise<ChangeEvent[]> {
  return app.governor.changeLog.list({ kind: 'analysis', limit: 100 })
}

beforeAll(async () => {
  app = await buildApp(testSettings({ impactIntervalMillis: 0 }), { logger: false })
  const rand = prng(7)
  await seedLatency(app, 'checkout', T - 15 * MIN, T + 15 * MIN, 15_000, [
    { attributes: { 'http.response.status_code': '200' }, observe: (ts) => uniform(rand, 50, ts <= T ? 0.2 : 0.3) },
  ])
  ids.checkout = await deploy(app, {
    service: 'checkout',
    version: '1.4.2',
    started_at: T,
    finished_at: T,
    plan: { contingency: ['cart_cache'] },
  })
  // cart is deployed twice, 5 minutes apart: the first deploy's window after ends at the second.
  ids.cart1 = await deploy(app, { service: 'cart', version: '3.0.0', started_at: T, finished_at: T })
  ids.cart2 = await deploy(app, {
    service: 'cart',
    version: '3.0.1',
    started_at: T + 5 * MIN,
    finished_at: T + 5 * MIN,
  })
})
afterAll(async () => {
  await app?.close()
})

describe('mannWhitneyUTest', () => {
  it('runs the two-sided test in the store, with U of the first sample', async () => {
    const a = range(10, (i) => i + 1),
      b = range(10, (i) => i + 11)
    // Normal approximation with continuity correction: z = (50 − 0.5) / √(10·10·21/12) → p = 0.000183.
    const r = await mannWhitneyUTest(app.governor.store.client, a, b)
    expect(r.u).toBe(0)
    expect(r.p).toBeCloseTo(0.000182672, 8)
    expect((await mannWhitneyUTest(app.governor.store.client, b, a)).u).toBe(100)
    // One tie: 1.5 sits between 1 and 2; a's U counts the pairs where a is larger.
    expect((await mannWhitneyUTest(app.governor.store.client, a, [1.5, ...b.slice(1)])).u).toBe(9)
  })
})

describe('ImpactScheduler', () => {
  it('stores exactly one analysis per deploy once its window has passed', async () => {
    const { s, metrics } = scheduler(app.governor.impact)
    clock = T + 4 * MIN
    expect(await s.tick()).toEqual({ skipped: false, stored: 0, failed: 0 })
    // At T + 6 min only cart's first deploy is due: its window after was cut at the second.
    clock = T + 6 * MIN
    expect(await s.tick()).toEqual({ skipped: false, stored: 1, failed: 0 })
    const cart1 = (await app.governor.changeLog.get(`impact:${ids.cart1}`))!
    expect(cart1.data).toMatchObject({
      deploy_id: ids.cart1,
      window: { after: { to: new Date(T + 5 * MIN).toISOString() } },
    })
    expect(cart1.title).toBe('cart 3.0.0: no request or watched metrics found')
    // At T + 21 min checkout (window ended T + 15 min) and cart's second deploy (T + 20 min).
    clock = T + 21 * MIN
    expect(await s.tick()).toEqual({ skipped: false, stored: 2, failed: 0 })
    expect(await s.tick()).toEqual({ skipped: false, stored: 0, failed: 0 })
    clock = T + 60 * MIN
    expect(await s.tick()).toEqual({ skipped: false, stored: 0, failed: 0 })

    const events = await analyses()
    expect(events.map((e) => e.id).sort()).toEqual(
      [`impact:${ids.cart1}`, `impact:${ids.cart2}`, `impact:${ids.checkout}`].sort(),
    )
    const checkout = events.find((e) => e.id === `impact:${ids.checkout}`)!
    expect(checkout).toMatchObject({ kind: 'analysis', service: 'checkout', time: T, timeEnd: T + 15 * MIN })
    expect(checkout.title).toMatch(/^checkout 1\.4\.2: p99 latency worse by \d+ %$/)
    expect(checkout.text).toContain('consider turning off cart_cache')
    const counted = (await metrics.analyses.get()).values
    expect(counted.find((v) => v.labels.outcome === 'worse')?.value).toBe(1)
    expect(counted.find((v) => v.labels.outcome === 'not_enough_data')?.value).toBe(2)
  })

  it('serves the stored analysis at GET /api/v1/deploys/{id}/impact', async () => {
    const res = await app.inject({ method: 'GET', url: `/api/v1/deploys/${ids.checkout}/impact` })
    expect(res.statusCode).toBe(200)
    const body = res.json() as ImpactReport & { analysis_id: string }
    // Analysed by the scheduler at its clock's T + 21 min, not now.
    expect(body).toMatchObject({
      analysis_id: `impact:${ids.checkout}`,
      provisional: false,
      analysed_at: new Date(T + 21 * MIN).toISOString(),
    })
    expect(body.metrics.find((m) => m.signal === 'p99')).toMatchObject({ verdict: 'worse' })
  })

  it('never throws: counts a failure, logs it once, and retries it at the next tick', async () => {
    const pay = await deploy(app, { service: 'pay', version: '1', started_at: T, finished_at: T })
    const failing: ImpactAnalyser = {
      windowMillis: app.governor.impact.windowMillis,
      windowsFor: (d, ds) => app.governor.impact.windowsFor(d, ds),
      analyse: async () => {
        throw new Error('store gone')
      },
      store: async () => {
        throw new Error('not reached')
      },
    }
    const { s, lines, metrics } = scheduler(failing)
    clock = T + 60 * MIN
    expect(await s.tick()).toEqual({ skipped: false, stored: 0, failed: 1 })
    expect(await s.tick()).toEqual({ skipped: false, stored: 0, failed: 1 })
    expect((await metrics.failures.get()).values[0]!.value).toBe(2)
    expect(lines.error).toEqual([`impact: analysis of deploy ${pay} failed`])
    expect(lines.debug).toHaveLength(1)
    // The real analyser then stores it.
    expect((await scheduler(app.governor.impact).s.tick()).stored).toBe(1)
  })

  it('skips a tick while one runs, and stops within its timeout', async () => {
    await deploy(app, { service: 'slow', version: '1', started_at: T, finished_at: T })
    let release = () => {}
    let entered = () => {}
    const analysing = new Promise<void>((resolve) => {
      entered = resolve
    })
    const hanging: ImpactAnalyser = {
      windowMillis: app.governor.impact.windowMillis,
      windowsFor: (d, ds) => app.governor.impact.windowsFor(d, ds),
      analyse: () =>
        new Promise<never>((_, reject) => {
          release = () => reject(new Error('released'))
          entered()
        }),
      store: async () => {
        throw new Error('not reached')
      },
    }
    const { s } = scheduler(hanging, { stopTimeoutMillis: 50 })
    const first = s.tick()
    await analysing // the first tick hangs in its analysis now
    expect(await s.tick()).toEqual({ skipped: true, stored: 0, failed: 0 })
    // stop() gives up on the hung tick after its timeout: it resolves while the tick still hangs.
    let settled = false
    void first.finally(() => {
      settled = true
    })
    await s.stop()
    expect(settled).toBe(false)
    release()
    expect((await first).failed).toBe(1)
  })

  it('ticks on its own once started, and not after stop', async () => {
    let ticks = 0
    const counting: ImpactAnalyser = {
      windowMillis: app.governor.impact.windowMillis,
      windowsFor: async (d, ds) => {
        ticks++
        return app.governor.impact.windowsFor(d, ds)
      },
      analyse: async () => {
        throw new Error('counted')
      },
      store: async () => {
        throw new Error('not reached')
      },
    }
    const { s } = scheduler(counting, { intervalMillis: 20 })
    s.start()
    const deadline = Date.now() + 5000
    while (ticks < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
    expect(ticks).toBeGreaterThanOrEqual(2)
    await s.stop()
    const after = ticks
    await new Promise((r) => setTimeout(r, 100))
    expect(ticks).toBe(after)
  })

  it("counts its failures on the collector's registry", async () => {
    const res = await app.inject({ method: 'GET', url: '/metrics' })
    expect(res.body).toContain('governor_impact_failures_total')
    expect(res.body).toContain('governor_impact_analyses_total')
  })
})

function range(n: number, f: (i: number) => number): number[] {
  return Array.from({ length: n }, (_, i) => f(i))
}
