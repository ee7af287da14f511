import type { FastifyInstance } from 'fastify'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../../collector/src/app.ts'
import {
  createAlgorithm,
  ControllerMetrics,
  ControllerRunner,
  LIMITER_METRICS,
  SliObserver,
  UsageObserver,
} from '../../../collector/src/control/index.ts'
import { ManualClock } from '../../../collector/src/sinks/clock.ts'
import { ClickHouseStoreQueries } from '../../../collector/src/store/clickhouse-queries.ts'
import { MemoryStoreQueries } from '../../../collector/src/store/memory-queries.ts'
import { testSettings } from '../../helpers/settings.ts'
import { accumulate, api, gauge, histogram, send } from '../slo/seed.ts'
import { ClickHouseSliReads } from '../../../collector/src/store/sli-reads.ts'

// The runner with the usage observer, on the real store: the app's limiter metrics (as the
// throttle library's observeLimiter names them) reach the algorithm as inUse and limit, and
// the real `aimd` raises the bound only while the limiter uses it and reaches it.

let app: FastifyInstance
const clock = new ManualClock(Math.floor(Date.now() / 1000) * 1000)
const INTERVAL = 5_000
const BOUNDS = [100, 200, 300, 400, 500]
const who = { actor: 'alice', reason: 'test' }

function runnerFor(service: string): ControllerRunner {
  const g = app.governor
  const queries = new ClickHouseStoreQueries(g.store.client, g.store.db)
  return new ControllerRunner({
    controllers: { list: () => g.controllers.list(service) },
    slos: g.slos,
    knobs: g.knobs,
    changeLog: g.changeLog,
    factory: createAlgorithm,
    metrics: new ControllerMetrics(new Registry()),
    observer: new SliObserver(new ClickHouseSliReads(g.store.client, g.store.db), queries, 1_000_000),
    usage: new UsageObserver(queries),
    log: { error() {}, debug() {} },
    now: () => clock.now(),
    tickMillis: 0,
  })
}

/** A histogram point every 5 s in [from, to], 20 observations each under 100 ms: p99 99 ms, well under the 300 ms target. */
async function fastRequests(service: string, from: number, to: number): Promise<void> {
  const next = accumulate(BOUNDS)
  const points = []
  for (let ts = from; ts <= to; ts += 5_000) points.push(next(ts, from - 1_000, [20, 0, 0, 0, 0, 0]))
  await send(app, service, [histogram('http.server.request.duration', 'ms', BOUNDS, points)])
}

/** As `fastRequests`, every observation above 500 ms: p99 far over the 300 ms target. */
async function slowRequests(service: string, from: number, to: number): Promise<void> {
  const next = accumulate(BOUNDS)
  const points = []
  for (let ts = from; ts <= to; ts += 5_000) points.push(next(ts, from - 1_000, [0, 0, 0, 0, 0, 20]))
  await send(app, service, [histogram('http.server.request.duration', 'ms', BOUNDS, points)])
}

/** The limiter's gauges at `ts`, for the knob `knob`. */
async function limiter(service: string, ts: number, knob: string, peak: number, limit: number): Promise<void> {
  const attrs = { 'governor.limiter': 'http', 'governor.knob': knob }
  await send(app, service, [
    gauge(LIMITER_METRICS.peak, [{ ts, value: peak, attrs }]),
    gauge(LIMITER_METRICS.limit, [{ ts, value: limit, attrs }]),
  ])
}

const knob = async (service: string) => (await api(app, 'GET', `/knobs/${service}/workers`)).body

beforeAll(async () => {
  app = await buildApp(testSettings({ controllerTickMillis: 0, impactIntervalMillis: 0 }), { logger: false })
})
afterAll(async () => {
  await app?.close()
})

describe("the runner with the app's limiter metrics", () => {
  it('raises a bound only while the limiter under it uses it and reaches it', async () => {
    const service = 'usage'
    expect(
      (await api(app, 'PUT', `/knobs/${service}/workers`, { type: 'int', default: 40, min: 1, max: 200 })).status,
    ).toBe(201)
    expect(
      (
        await api(app, 'PUT', `/slos/${service}/latency`, {
          sli: { type: 'latency', metric: 'http.server.request.duration', percentile: 99, threshold_ms: 300 },
          objective: 99,
          window: '30d',
          ...who,
        })
      ).status,
    ).toBe(201)
    expect(
      (
        await api(app, 'PUT', `/controllers/${service}/ctl`, {
          knob: 'workers',
          slo: 'latency',
          algorithm: 'aimd',
          interval_ms: INTERVAL,
          cooldown_ms: 0,
          mode: 'active',
          ...who,
        })
      ).status,
    ).toBe(201)
    const runner = runnerFor(service)
    await fastRequests(service, clock.now() - 25_000, clock.now() + 30 * INTERVAL)

    // The fast loop sits at 31 under the bound of 40, busy (30 in flight at most). Another
    // limiter, on another knob, reaches its bound: not this knob's.
    await limiter(service, clock.now() - 2_000, 'workers', 30, 31)
    await limiter(service, clock.now() - 2_000, 'other-knob', 90, 100)
    clock.advance(INTERVAL)
    await runner.tick()
    expect(runner.view(service, 'ctl')!.lastDecision).toMatchObject({ kind: 'hold', value: 40 })
    expect(runner.view(service, 'ctl')!.lastDecision!.reason).toMatch(
      /but the app's limiter stays at 31, under the bound 40 \(not binding\): holding at 40 \(aimd\)$/,
    )
    expect(runner.view(service, 'ctl')!.lastObservation).toMatchObject({ inUse: 30, limit: 31 })
    expect(await knob(service)).toMatchObject({ value: 40 })

    // The limiter reaches the bound but uses little of it (the window of 30 s has moved past the points above).
    clock.advance(35_000)
    await limiter(service, clock.now() - 1_000, 'workers', 12, 40)
    await runner.tick()
    expect(runner.view(service, 'ctl')!.lastDecision!.reason).toMatch(/but only 12 of 40 in use: holding at 40/)

    // It reaches the bound and uses it: the bound is what holds the app back, so it goes up.
    clock.advance(35_000)
    await limiter(service, clock.now() - 1_000, 'workers', 38, 40)
    await runner.tick()
    expect(runner.view(service, 'ctl')!.lastDecision).toMatchObject({ kind: 'raise', value: 41, applied: true })
    const k = await knob(service)
    expect(k).toMatchObject({ value: 41, changed_by: 'controller:ctl' })
    expect(k.reason).toMatch(/· the app's limiter: 38 in flight at most, limit 40 at most$/)
  })

  it('records once, in the change log, that the limiter holds for latency not from concurrency', async () => {
    const service = 'held'
    expect(
      (await api(app, 'PUT', `/knobs/${service}/workers`, { type: 'int', default: 40, min: 1, max: 200 })).status,
    ).toBe(201)
    expect(
      (
        await api(app, 'PUT', `/slos/${service}/latency`, {
          sli: { type: 'latency', metric: 'http.server.request.duration', percentile: 99, threshold_ms: 300 },
          objective: 99,
          window: '30d',
          ...who,
        })
      ).status,
    ).toBe(201)
    expect(
      (
        await api(app, 'PUT', `/controllers/${service}/ctl`, {
          knob: 'workers',
          slo: 'latency',
          algorithm: 'aimd',
          interval_ms: INTERVAL,
          cooldown_ms: 0,
          mode: 'active',
          ...who,
        })
      ).status,
    ).toBe(201)
    await fastRequests(service, clock.now() - 25_000, clock.now() + 10 * INTERVAL)
    const runner = runnerFor(service)
    const attrs = { 'governor.limiter': 'http', 'governor.knob': 'workers' }
    const state = (ts: number, tracking: number) =>
      send(app, service, [
        gauge(LIMITER_METRICS.state, [
          { ts, value: tracking, attrs: { ...attrs, 'governor.reason': 'tracking' } },
          { ts, value: 1 - tracking, attrs: { ...attrs, 'governor.reason': 'not_from_concurrency' } },
        ]),
      ])
    const events = async () =>
      (
        (await api(app, 'GET', `/events?kind=controller&service=${service}&limit=100`)).body.events as {
          title: string
          text: string
          tags: string[]
        }[]
      ).filter((e) => e.tags.includes('limiter'))
    await limiter(service, clock.now() - 1_000, 'workers', 30, 40)
    await state(clock.now() - 1_000, 1)
    clock.advance(INTERVAL)
    await runner.tick()
    expect(await events()).toEqual([])
    await state(clock.now() - 1_000, 0)
    for (let i = 0; i < 3; i++) {
      clock.advance(INTERVAL)
      await runner.tick()
    }
    const recorded = await events()
    expect(recorded.map((e) => e.title)).toEqual([
      'app held: the limiter under workers holds: latency not from concurrency',
    ])
    expect(recorded[0]!.text).toMatch(
      /^the app's limiter: 30 in flight at most, limit 40 at most, holding: latency not from concurrency\. Requests are late whatever the concurrency/,
    )
  })

  it('does not lower the bound while the limiter under it holds for latency not from concurrency', async () => {
    const service = 'slowdep'
    expect(
      (await api(app, 'PUT', `/knobs/${service}/workers`, { type: 'int', default: 40, min: 1, max: 200 })).status,
    ).toBe(201)
    expect(
      (
        await api(app, 'PUT', `/slos/${service}/latency`, {
          sli: { type: 'latency', metric: 'http.server.request.duration', percentile: 99, threshold_ms: 300 },
          objective: 99,
          window: '30d',
          ...who,
        })
      ).status,
    ).toBe(201)
    expect(
      (
        await api(app, 'PUT', `/controllers/${service}/ctl`, {
          knob: 'workers',
          slo: 'latency',
          algorithm: 'aimd',
          interval_ms: INTERVAL,
          cooldown_ms: 0,
          mode: 'active',
          ...who,
        })
      ).status,
    ).toBe(201)
    // Requests are late (a slow dependency): the SLO burns.
    await slowRequests(service, clock.now() - 25_000, clock.now() + 20 * INTERVAL)
    const runner = runnerFor(service)
    const attrs = { 'governor.limiter': 'http', 'governor.knob': 'workers' }
    const state = (ts: number, held: number) =>
      send(app, service, [
        gauge(LIMITER_METRICS.state, [
          { ts, value: 1 - held, attrs: { ...attrs, 'governor.reason': 'tracking' } },
          { ts, value: held, attrs: { ...attrs, 'governor.reason': 'not_from_concurrency' } },
        ]),
      ])
    await limiter(service, clock.now() - 1_000, 'workers', 38, 40)
    await state(clock.now() - 1_000, 1)
    clock.advance(INTERVAL)
    await runner.tick()
    const held = runner.view(service, 'ctl')!.lastDecision!
    expect(held).toMatchObject({ kind: 'hold', value: 40 })
    expect(held.reason).toMatch(/but the app's limiter holds for latency not from concurrency: holding at 40$/)
    expect(await knob(service)).toMatchObject({ value: 40 })

    // The limiter stops holding (its latency is its concurrency's again): the controller lowers.
    clock.advance(35_000)
    await limiter(service, clock.now() - 1_000, 'workers', 38, 40)
    await state(clock.now() - 1_000, 0)
    await runner.tick()
    expect(runner.view(service, 'ctl')!.lastDecision).toMatchObject({ kind: 'lower', applied: true })
    expect((await knob(service)).value).toBeLessThan(40)
  })

  it('without limiter metrics for the knob, steps on the SLO alone', async () => {
    const service = 'nousage'
    expect(
      (await api(app, 'PUT', `/knobs/${service}/workers`, { type: 'int', default: 40, min: 1, max: 200 })).status,
    ).toBe(201)
    expect(
      (
        await api(app, 'PUT', `/slos/${service}/latency`, {
          sli: { type: 'latency', metric: 'http.server.request.duration', percentile: 99, threshold_ms: 300 },
          objective: 99,
          window: '30d',
          ...who,
        })
      ).status,
    ).toBe(201)
    expect(
      (
        await api(app, 'PUT', `/controllers/${service}/ctl`, {
          knob: 'workers',
          slo: 'latency',
          algorithm: 'aimd',
          interval_ms: INTERVAL,
          cooldown_ms: 0,
          mode: 'active',
          ...who,
        })
      ).status,
    ).toBe(201)
    await fastRequests(service, clock.now() - 25_000, clock.now() + 2 * INTERVAL)
    const runner = runnerFor(service)
    clock.advance(INTERVAL)
    await runner.tick()
    expect(runner.view(service, 'ctl')!.lastDecision).toMatchObject({ kind: 'raise', value: 41 })
    expect(runner.view(service, 'ctl')!.lastObservation).not.toHaveProperty('inUse')
  })
})

/**
 * A limiter's gauges for `knob` held in memory, series `firstId` and the next; the function
 * returned adds a point to each at `ts`.
 */
function limiterSeries(queries: MemoryStoreQueries, service: string, knob: string, firstId: number) {
  const ids = { peak: String(firstId), limit: String(firstId + 1) }
  const series = (metric: string, id: string) => ({
    metric,
    id,
    type: 'gauge' as const,
    temporality: 'unspecified' as const,
    monotonic: false,
    unit: '',
    description: '',
    service,
    scope: 'throttle',
    resource: { 'service.name': service },
    attributes: { 'governor.limiter': 'http', 'governor.knob': knob },
  })
  queries.addSeries([series(LIMITER_METRICS.peak, ids.peak), series(LIMITER_METRICS.limit, ids.limit)])
  return (ts: number, peak: number, limit: number): void =>
    queries.addPoints('samples', [
      { seriesId: ids.peak, ts, columns: { value: peak } },
      { seriesId: ids.limit, ts, columns: { value: limit } },
    ])
}

// The observer alone, over rows held in memory: no store, no runner.
describe('the usage observer', () => {
  it('takes the newest point of the last two minutes when the window of 30 s has none (an app exporting once a minute)', async () => {
    const queries = new MemoryStoreQueries()
    const t = clock.now()
    const workers = limiterSeries(queries, 'sparse', 'workers', 1)
    workers(t - 70_000, 50, 64)
    workers(t - 50_000, 20, 64)
    // Another knob's limiter, busier: not this knob's.
    limiterSeries(queries, 'sparse', 'other-knob', 3)(t - 50_000, 90, 100)
    const usage = new UsageObserver(queries)
    expect(await usage.read('sparse', 'workers', t, 30_000)).toMatchObject({ inUse: 20, limit: 64 })
    expect(await usage.read('sparse', 'workers', t + 80_000, 30_000)).toBeUndefined() // beyond two minutes: nothing
    expect(await usage.read('sparse', 'other', t, 30_000)).toBeUndefined()
  })
})
