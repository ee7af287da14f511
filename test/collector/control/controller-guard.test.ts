import type { FastifyInstance } from 'fastify'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../../collector/src/app.ts'
import { checkAnswers } from '../../helpers/answer-schemas.ts'
import type { ChangeEvent } from '../../../collector/src/changelog/types.ts'
import { controllerJson } from '../../../collector/src/api/controllers.ts'
import {
  ControllerMetrics,
  ControllerRunner,
  createAlgorithm,
  SliObserver,
} from '../../../collector/src/control/index.ts'
import { ManualClock } from '../../../collector/src/sinks/clock.ts'
import { ClickHouseStoreQueries } from '../../../collector/src/store/clickhouse-queries.ts'
import { testSettings } from '../../helpers/settings.ts'
import { accumulate, api, gauge, histogram, send } from '../slo/seed.ts'
import { ClickHouseSliReads } from '../../../collector/src/store/sli-reads.ts'

// Effect and guard on the real store and knob service: the binding's API, a definition
// stored before the fields existed, and the runner tick by tick with a manual clock and the
// real algorithm, on a queue's lag (a gauge, effect lowers) guarded by a downstream latency.

let app: FastifyInstance
const clock = new ManualClock(Math.floor(Date.now() / 1000) * 1000)
const INTERVAL = 5_000
const BOUNDS = [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]
const who = { actor: 'alice', reason: 'test' }
const lagSlo = { sli: { type: 'gauge_max', metric: 'queue.lag', max: 1000 }, objective: 99, window: '1d', ...who }
const downstreamSlo = {
  sli: { type: 'latency', metric: 'downstream.duration', percentile: 99, threshold_ms: 250 },
  objective: 99,
  window: '1d',
  ...who,
}
const binding = {
  knob: 'workers',
  slo: 'lag',
  algorithm: 'aimd',
  params: { increase: 2 },
  effect: 'lowers',
  guard: 'downstream-latency',
  interval_ms: INTERVAL,
  cooldown_ms: 0,
  ...who,
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

/** A knob `workers` (4, 1..64) and the SLOs `lag` and `downstream-latency` of `service`. */
async function setUp(service: string): Promise<void> {
  expect(
    (await api(app, 'PUT', `/knobs/${service}/workers`, { type: 'int', default: 4, min: 1, max: 64 })).status,
  ).toBe(201)
  expect((await api(app, 'PUT', `/slos/${service}/lag`, lagSlo)).status).toBe(201)
  expect((await api(app, 'PUT', `/slos/${service}/downstream-latency`, downstreamSlo)).status).toBe(201)
}

const events = async (service: string, kind: string): Promise<ChangeEvent[]> =>
  ((await api(app, 'GET', `/events?kind=${kind}&service=${service}&limit=100`)).body.events as ChangeEvent[]).reverse()

describe('a binding with effect and guard', () => {
  it('is stored and shown with both, and its change log says so', async () => {
    await setUp('api')
    const res = await api(app, 'PUT', '/controllers/api/ctl', binding)
    expect(res.status, JSON.stringify(res.body)).toBe(201)
    expect(res.body).toMatchObject({
      effect: 'lowers',
      guard: { slo: 'downstream-latency', decrease: 0.8, headroom: 0.1 },
      version: 1,
    })
    expect((await api(app, 'PUT', '/controllers/api/ctl', binding)).body.version).toBe(1)
    const changed = await api(app, 'PUT', '/controllers/api/ctl', {
      ...binding,
      guard: { slo: 'downstream-latency', decrease: 0.5 },
    })
    expect(changed.body.version).toBe(2)
    const recorded = await events('api', 'controller')
    expect(recorded[0]!.data).toMatchObject({ effect: 'lowers', guard: 'downstream-latency' })
    expect(recorded.map((e) => e.title)).toEqual([
      'alice bound controller api/ctl: aimd turns workers within [1, 64] against SLO lag, effect lowers, guarded by SLO downstream-latency (shadow)',
      'alice changed controller api/ctl: guard {slo:downstream-latency,decrease:0.8,headroom:0.1} → {slo:downstream-latency,decrease:0.5,headroom:0.1}',
    ])
  })

  it("loads a definition stored before effect and guard existed with today's behaviour, and the same body again changes nothing", async () => {
    await setUp('old')
    const { store } = app.governor
    const old = {
      knob: 'workers',
      slo: 'lag',
      algorithm: 'aimd',
      params: {},
      interval_ms: 5000,
      min: 1,
      max: 64,
      max_step: 63,
      cooldown_ms: 30000,
      dead_band: 0.05,
      mode: 'shadow',
      description: '',
    }
    await store.client.insert({
      table: `${store.db}.controller_versions`,
      format: 'JSONEachRow',
      values: [
        {
          service: 'old',
          name: 'ctl',
          version: 1,
          definition: JSON.stringify(old),
          actor: 'alice',
          reason: 'before',
          change_id: 'c-old',
          changed_at: '2026-01-01 00:00:00.000',
        },
      ],
    })
    await app.governor.controllers.load()
    const got = await api(app, 'GET', '/controllers/old/ctl')
    expect(got.body).toMatchObject({ effect: 'raises', guard: null, version: 1 })
    expect(got.body.history[0]).toMatchObject({ effect: 'raises', guard: null })
    const again = await api(app, 'PUT', '/controllers/old/ctl', {
      knob: 'workers',
      slo: 'lag',
      algorithm: 'aimd',
      ...who,
    })
    expect(again.status).toBe(200)
    expect(again.body).toMatchObject({ version: 1, effect: 'raises', guard: null })
  })
})

describe('the runner with effect lowers and a guard', () => {
  it('holds once without guard data, raises on lag, lowers on a breached guard, holds once on a stale guard', async () => {
    await setUp('jobs')
    expect((await api(app, 'PUT', '/controllers/jobs/ctl', { ...binding, mode: 'active' })).status).toBe(201)
    const g = app.governor
    const runner = new ControllerRunner({
      controllers: { list: () => g.controllers.list('jobs') },
      slos: g.slos,
      knobs: g.knobs,
      changeLog: g.changeLog,
      factory: createAlgorithm,
      metrics: new ControllerMetrics(new Registry()),
      log: { error() {}, debug() {} },
      now: () => clock.now(),
      tickMillis: 0,
      observer: new SliObserver(
        new ClickHouseSliReads(g.store.client, g.store.db),
        new ClickHouseStoreQueries(g.store.client, g.store.db),
        1_000_000,
      ),
    })
    const tick = async () => {
      clock.advance(INTERVAL)
      expect(await runner.tick()).toMatchObject({ ran: 1, failed: 0 })
      return (await api(app, 'GET', '/knobs/jobs/workers')).body as { value: number; reason: string }
    }
    const c0 = clock.now()
    const lag = []
    for (let ts = c0 - 25_000; ts <= c0 + 100_000; ts += 5_000) lag.push({ ts, value: 5400 })
    await send(app, 'jobs', [gauge('queue.lag', lag)])

    // No downstream data: hold, recorded once.
    expect((await tick()).value).toBe(4)
    expect((await tick()).value).toBe(4)
    const holdTitle =
      'controller jobs/ctl holds workers at 4: guard SLO jobs/downstream-latency: no data: jobs has sent no downstream.duration'
    expect((await events('jobs', 'controller')).map((e) => e.title).filter((t) => t.includes('holds'))).toEqual([
      holdTitle,
    ])
    expect(runner.view('jobs', 'ctl')?.holding?.kind).toBe('guard_no_data')

    // Downstream calls of 100 to 200 ms (p99 199 ms, under 250): the lag over its max raises the workers.
    const next = accumulate(BOUNDS)
    const fast = [],
      slow = []
    for (let ts = c0 - 15_000; ts <= c0 + 15_000; ts += 5_000)
      fast.push(next(ts, c0 - 60_000, [0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]))
    await send(app, 'jobs', [histogram('downstream.duration', 'ms', BOUNDS, fast)])
    const raised = await tick()
    expect(raised.value).toBe(6)
    expect(raised.reason).toMatch(
      /^SLI 5400 over target 1000 \(\+440 %, effect lowers\) · guard SLI 199 under limit 250 \(-20 %\): 4 → 6 \(aimd, \+2\) — queue\.lag 5400 \(last sample\), max 1000, burn rate 100 \(SLO jobs\/lag\) · guard: p99 of downstream\.duration 199 ms over the last 30 s, target 250 ms, burn rate 0 \(SLO jobs\/downstream-latency\)$/,
    )

    // Downstream slows to 900-1000 ms (points between ticks, as an exporter's would be): the
    // guard is breached and the workers go down, whatever the lag says.
    for (let ts = c0 + 17_500; ts <= c0 + 37_500; ts += 5_000)
      slow.push(next(ts, c0 - 60_000, [0, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0]))
    await send(app, 'jobs', [histogram('downstream.duration', 'ms', BOUNDS, slow)])
    const lowered = await tick()
    expect(lowered.value, lowered.reason).toBe(5)
    expect(lowered.reason).toMatch(
      /^SLI 5400 over target 1000 \(\+440 %, effect lowers\) · guard SLI \d+ over limit 250 \(\+\d+ %\): 6 → 5 \(guard, ×0\.8\) — /,
    )
    const view = runner.view('jobs', 'ctl')!
    expect(view.lastObservation).toMatchObject({ sli: 5400, target: 1000, guard: { target: 250 } })
    expect(view.lastObservation!.guard!.sli).toBeGreaterThan(250)
    // As the API shows it (this runner is the test's, not the app's: its view is passed in).
    const shown = controllerJson(g.controllers.get('jobs', 'ctl'), view) as { last_observation: { guard: unknown } }
    expect(shown.last_observation.guard).toMatchObject({
      target: 250,
      text: expect.stringMatching(/^p99 of downstream\.duration \d+ ms over the last 30 s, target 250 ms/),
    })

    // Still breached at c0 + 25 s … 50 s: 5 → 4 → 3 → 2 → 1 (2 × 0.8 rounds back to 2: a move of 1), then at min.
    const values = []
    for (let i = 0; i < 6; i++) values.push((await tick()).value)
    expect(values).toEqual([4, 3, 2, 1, 1, 1])
    expect(runner.view('jobs', 'ctl')?.lastDecision?.reason).toMatch(/already at min 1; holding at 1 \(guard\)$/)
    // At c0 + 55 s the newest downstream point (c0 + 37.5 s) is older than 3 intervals: stale, recorded once.
    await tick()
    await tick()
    expect((await events('jobs', 'controller')).map((e) => e.title).filter((t) => t.includes('holds'))).toEqual([
      holdTitle,
      'controller jobs/ctl holds workers at 1: guard SLO jobs/downstream-latency: stale data: the newest point of downstream.duration is 17.5 s old (more than 15 s)',
    ])
    expect(runner.view('jobs', 'ctl')?.holding?.kind).toBe('guard_stale')
  })
})
