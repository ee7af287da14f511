import type { FastifyInstance } from 'fastify'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../../collector/src/app.ts'
import type { ChangeEvent } from '../../../collector/src/changelog/types.ts'
import {
  ControllerMetrics,
  ControllerRunner,
  SliObserver,
  type ControllerFactory,
} from '../../../collector/src/control/index.ts'
import { ManualClock } from '../../../collector/src/sinks/clock.ts'
import { ClickHouseStoreQueries } from '../../../collector/src/store/clickhouse-queries.ts'
import type { Controller } from '../../../throttle/src/index.ts'
import { testSettings } from '../../helpers/settings.ts'
import { accumulate, api, histogram, send } from '../slo/seed.ts'
import { ClickHouseSliReads } from '../../../collector/src/store/sli-reads.ts'

// The runner against the real store and knob service, driven tick by tick with a manual
// clock, with a test double for the algorithm: over the target it halves the value.

let app: FastifyInstance
const clock = new ManualClock(Math.floor(Date.now() / 1000) * 1000)
const INTERVAL = 5_000
const BOUNDS = [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]
const who = { actor: 'alice', reason: 'test' }

/** Halves the value while the SLI is over the target; counts its steps. */
function halving(): { factory: ControllerFactory; steps: () => number } {
  let steps = 0
  const controller: Controller<null> = {
    name: 'halving',
    init: () => null,
    step: (state, obs, bounds) => {
      steps++
      if (obs.sli === undefined || obs.sli <= obs.target)
        return { state, decision: { kind: 'hold', value: obs.value, reason: 'within target' } }
      const value = Math.max(bounds.min, Math.floor(obs.value / 2))
      return {
        state,
        decision: {
          kind: 'lower',
          value,
          reason: `SLI ${Math.round(obs.sli)} over target ${obs.target}: ${obs.value} → ${value}`,
        },
      }
    },
  }
  return { factory: () => controller as Controller, steps: () => steps }
}

function runnerFor(
  service: string,
  factory: ControllerFactory,
  metrics = new ControllerMetrics(new Registry()),
): ControllerRunner {
  const g = app.governor
  return new ControllerRunner({
    controllers: { list: () => g.controllers.list(service) },
    slos: g.slos,
    knobs: g.knobs,
    changeLog: g.changeLog,
    factory,
    metrics,
    observer: new SliObserver(
      new ClickHouseSliReads(g.store.client, g.store.db),
      new ClickHouseStoreQueries(g.store.client, g.store.db),
      1_000_000,
    ),
    log: { error() {}, debug() {} },
    now: () => clock.now(),
    tickMillis: 0,
  })
}

/** A histogram point every 5 s in [from, to], each with 20 observations in (900, 1000] ms: p99 = 900 + 100 × 0.99 = 999 ms. */
async function slowRequests(service: string, from: number, to: number): Promise<void> {
  const next = accumulate(BOUNDS)
  const points = []
  for (let ts = from; ts <= to; ts += 5_000) points.push(next(ts, from - 1_000, [0, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0]))
  await send(app, service, [histogram('http.server.request.duration', 'ms', BOUNDS, points)])
}

/** A knob `workers` (40, 1..200), an SLO `latency` (p99 ≤ 300 ms) and a controller `ctl` of `service`. */
async function setUp(service: string, mode: 'active' | 'shadow'): Promise<void> {
  expect(
    (await api(app, 'PUT', `/knobs/${service}/workers`, { type: 'int', default: 40, min: 1, max: 200 })).status,
  ).toBe(201)
  expect(
    (
      await api(app, 'PUT', `/slos/${service}/latency`, {
        sli: { type: 'latency', metric: 'http.server.request.duration', percentile: 99, threshold_ms: 300 },
        objective: 99.9,
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
        mode,
        ...who,
      })
    ).status,
  ).toBe(201)
}

async function controllerEvents(service: string): Promise<ChangeEvent[]> {
  const { body } = await api(app, 'GET', `/events?kind=controller&service=${service}&limit=100`)
  return (body.events as ChangeEvent[]).filter((e) => e.actor.startsWith('controller:')).reverse()
}

const knob = async (service: string) => (await api(app, 'GET', `/knobs/${service}/workers`)).body

/** Ticks `n` times, one interval apart. */
async function ticks(runner: ControllerRunner, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    clock.advance(INTERVAL)
    const t = await runner.tick()
    expect(t).toMatchObject({ skipped: false, ran: 1 })
  }
}

beforeAll(async () => {
  app = await buildApp(testSettings({ controllerTickMillis: 0, impactIntervalMillis: 0 }), { logger: false })
})
afterAll(async () => {
  await app?.close()
})

describe('the controller runner, on the store', () => {
  it('holds without data and records why once, not at every tick', async () => {
    await setUp('nodata', 'active')
    const { factory, steps } = halving()
    const runner = runnerFor('nodata', factory)
    await ticks(runner, 3)
    const events = await controllerEvents('nodata')
    expect(events.map((e) => e.title)).toEqual([
      'controller nodata/ctl holds workers at 40: no data: nodata has sent no http.server.request.duration',
    ])
    expect(events[0]).toMatchObject({ actor: 'controller:ctl', tags: ['ctl', 'hold', 'no_data'] })
    expect(steps()).toBe(0)
    expect(await knob('nodata')).toMatchObject({ value: 40, mode: 'auto' })
    expect(runner.view('nodata', 'ctl')?.holding?.kind).toBe('no_data')
    // Not due again before its interval has passed.
    clock.advance(INTERVAL - 1)
    expect(await runner.tick()).toMatchObject({ ran: 0 })
  })

  it('holds on stale data once per transition, acts once fresh data arrives, and records a new hold when it goes stale again', async () => {
    await setUp('stale', 'active')
    const { factory } = halving()
    const runner = runnerFor('stale', factory)
    // The newest point is 60 s old at the first tick: more than 3 intervals (15 s).
    await slowRequests('stale', clock.now() - 115_000, clock.now() - 55_000)
    await ticks(runner, 3)
    expect((await controllerEvents('stale')).map((e) => e.title)).toEqual([
      'controller stale/ctl holds workers at 40: stale data: the newest point of http.server.request.duration is 60 s old (more than 15 s)',
    ])
    // Fresh slow requests: the next tick lowers the knob.
    await slowRequests('stale', clock.now() - 25_000, clock.now() + INTERVAL)
    await ticks(runner, 1)
    expect(await knob('stale')).toMatchObject({ value: 20, mode: 'auto', changed_by: 'controller:ctl' })
    expect(runner.view('stale', 'stale')).toBeUndefined()
    expect(runner.view('stale', 'ctl')?.holding).toBeUndefined()
    // No new points: the next three ticks still see slow requests at most 15 s old and halve
    // again (20 → 10 → 5 → 2); the fourth finds the newest point 20 s old: stale again,
    // recorded again (a new transition), once.
    await ticks(runner, 6)
    expect(await knob('stale')).toMatchObject({ value: 2 })
    const titles = (await controllerEvents('stale')).map((e) => e.title)
    expect(titles).toHaveLength(2)
    expect(titles[1]).toBe(
      'controller stale/ctl holds workers at 2: stale data: the newest point of http.server.request.duration is 20 s old (more than 15 s)',
    )
  })

  it('never touches a pinned knob, and records the hold once', async () => {
    await setUp('pinned', 'active')
    await api(app, 'POST', '/knobs/pinned/workers/pin', { value: 50, actor: 'carol', reason: 'incident 9' })
    await slowRequests('pinned', clock.now() - 25_000, clock.now() + 3 * INTERVAL)
    const { factory, steps } = halving()
    const runner = runnerFor('pinned', factory)
    await ticks(runner, 3)
    expect((await controllerEvents('pinned')).map((e) => e.title)).toEqual([
      'controller pinned/ctl holds workers at 50: knob workers is pinned at 50 by carol (incident 9)',
    ])
    expect(steps()).toBe(0)
    expect(await knob('pinned')).toMatchObject({ value: 50, mode: 'pinned', changed_by: 'carol' })
  })

  it('in shadow mode records what it would do once per distinct decision and leaves the knob alone', async () => {
    await setUp('shadow', 'shadow')
    await slowRequests('shadow', clock.now() - 25_000, clock.now() + 3 * INTERVAL)
    const { factory, steps } = halving()
    const runner = runnerFor('shadow', factory)
    await ticks(runner, 3)
    expect(steps()).toBe(3)
    const events = await controllerEvents('shadow')
    expect(events.map((e) => e.title)).toEqual(['controller shadow/ctl (shadow) would lower workers 40 → 20'])
    expect(events[0]!.text).toMatch(
      /^SLI 999 over target 300: 40 → 20 — p99 of http\.server\.request\.duration 999 ms over the last 30 s, target 300 ms, burn rate 1000 \(SLO shadow\/latency\)$/,
    )
    expect(events[0]!.data).toMatchObject({ mode: 'shadow', before: 40, after: 20, target: 300 })
    expect(await knob('shadow')).toMatchObject({ value: 40, mode: 'manual', version: 1 })
    expect(runner.view('shadow', 'ctl')?.lastDecision).toMatchObject({ kind: 'lower', value: 20, applied: false })
  })

  it('in active mode sets the knob through the knob service as controller:<name>, with the observation as the reason', async () => {
    await setUp('active', 'active')
    await slowRequests('active', clock.now() - 25_000, clock.now() + 3 * INTERVAL)
    const { factory } = halving()
    const runner = runnerFor('active', factory)
    const seen: number[] = []
    const unsubscribe = app.governor.knobs.subscribe((c) => {
      if (c.knob.service === 'active') seen.push(c.knob.value as number)
    })
    await ticks(runner, 1)
    unsubscribe()
    expect(seen).toEqual([20])
    const k = await knob('active')
    expect(k).toMatchObject({ value: 20, mode: 'auto', changed_by: 'controller:ctl' })
    expect(k.reason).toMatch(
      /^SLI 999 over target 300: 40 → 20 — p99 of http\.server\.request\.duration 999 ms over the last 30 s, target 300 ms/,
    )
    const view = runner.view('active', 'ctl')!
    // Every observation is above 300 ms: a bad share of 1 over the 0.1 % allowed, burn 1000.
    expect(view.lastObservation).toMatchObject({ target: 300, value: 40 })
    expect(view.lastObservation!.burnRate).toBeCloseTo(1000, 6)
    expect(view.lastObservation!.sli).toBeCloseTo(999, 6)
    expect(view.lastDecision).toMatchObject({ kind: 'lower', value: 20, applied: true })
  })

  it('hands the knob back when a person sets it (manual mode), holding once', async () => {
    await api(app, 'POST', '/knobs/active/workers/value', { value: 30, actor: 'dave', reason: 'I take over' })
    const { factory, steps } = halving()
    const runner = runnerFor('active', factory)
    await ticks(runner, 2)
    expect(steps()).toBe(0)
    const titles = (await controllerEvents('active')).map((e) => e.title)
    expect(titles).toEqual([
      'controller active/ctl holds workers at 30: knob workers is in manual mode since dave set it (I take over); put it back in auto mode to hand it to the controller',
    ])
    expect(await knob('active')).toMatchObject({ value: 30, mode: 'manual' })
  })
})
