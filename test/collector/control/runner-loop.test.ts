import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import type { NewEvent } from '../../../collector/src/changelog/change-log.ts'
import {
  ControllerMetrics,
  ControllerRunner,
  type ControllerBinding,
  type SliReading,
  type UsageReading,
} from '../../../collector/src/control/index.ts'
import type { KnobState } from '../../../collector/src/knobs/knob-service.ts'
import { ManualClock } from '../../../collector/src/sinks/clock.ts'
import type { Slo } from '../../../collector/src/slo/index.ts'
import type { Controller } from '../../../throttle/src/index.ts'

// The runner's loop rules (CONVENTIONS #11) with in-memory doubles: no store needed.

const binding: ControllerBinding = {
  service: 'shop',
  name: 'ctl',
  version: 1,
  changedAt: 0,
  actor: 'alice',
  reason: 'r',
  changeId: 'c1',
  definition: {
    knob: 'workers',
    slo: 'latency',
    algorithm: 'aimd',
    params: {},
    interval_ms: 1000,
    min: 1,
    max: 100,
    max_step: 99,
    cooldown_ms: 0,
    dead_band: 0,
    mode: 'active',
    description: '',
    effect: 'raises',
    guard: null,
  },
}
const slo: Slo = {
  service: 'shop',
  name: 'latency',
  version: 1,
  changedAt: 0,
  actor: 'alice',
  reason: 'r',
  changeId: 'c0',
  definition: {
    sli: { type: 'latency', metric: 'http.server.request.duration', percentile: 99, threshold_ms: 300 },
    objective: 99.9,
    window: '30d',
    description: '',
  },
}
const knob: KnobState = {
  service: 'shop',
  name: 'workers',
  definition: { type: 'int', default: 40, min: 1, max: 100, values: null, unit: '', description: '', owner: '' },
  mode: 'auto',
  value: 40,
  version: 2,
  changedAt: 0,
  actor: 'alice',
  reason: 'r',
  changeId: 'k2',
}
const lower: Controller = {
  name: 'lower',
  init: () => null,
  step: (state, obs) => ({ state, decision: { kind: 'lower', value: obs.value - 1, reason: 'over' } }),
}

function setUp(
  read: () => Promise<SliReading>,
  options: {
    stopTimeoutMillis?: number
    factory?: () => Controller
    usage?: () => Promise<UsageReading | undefined>
  } = {},
) {
  const clock = new ManualClock(1_000_000)
  const registry = new Registry()
  const events: NewEvent[] = []
  const logged: { level: string; msg: string }[] = []
  const set: number[] = []
  const runner = new ControllerRunner({
    controllers: { list: () => [binding] },
    slos: { find: () => slo },
    knobs: {
      list: () => [knob],
      setValue: async (_s, _n, v) => {
        set.push(v as number)
        return knob
      },
    },
    changeLog: {
      append: async (e) => {
        events.push(e)
      },
    },
    observer: { read },
    factory: options.factory ?? (() => lower),
    metrics: new ControllerMetrics(registry),
    log: {
      error: (_o, msg) => logged.push({ level: 'error', msg }),
      debug: (_o, msg) => logged.push({ level: 'debug', msg }),
    },
    now: () => clock.now(),
    tickMillis: 0,
    ...(options.stopTimeoutMillis !== undefined ? { stopTimeoutMillis: options.stopTimeoutMillis } : {}),
    ...(options.usage !== undefined ? { usage: { read: options.usage } } : {}),
  })
  const failures = async () =>
    (await registry.getSingleMetric('governor_controller_failures_total')!.get()).values.map((v) => [
      v.labels.stage,
      v.value,
    ])
  return { clock, runner, events, logged, set, failures }
}

describe('the controller runner loop', () => {
  it('holds on a store error without throwing: counts every failure, logs once, records the hold once', async () => {
    const { clock, runner, events, logged, set, failures } = setUp(async () => {
      throw new Error('connection refused')
    })
    for (let i = 0; i < 3; i++) {
      expect(await runner.tick()).toEqual({ skipped: false, ran: 1, failed: 1 })
      clock.advance(1000)
    }
    expect(await failures()).toEqual([['observe', 3]])
    expect(logged).toEqual([
      { level: 'error', msg: 'controller shop/ctl: reading http.server.request.duration failed' },
      { level: 'debug', msg: 'controller shop/ctl: reading http.server.request.duration failed' },
      { level: 'debug', msg: 'controller shop/ctl: reading http.server.request.duration failed' },
    ])
    expect(events.map((e) => e.title)).toEqual([
      'controller shop/ctl holds workers at 40: the store could not be read: connection refused',
    ])
    expect(set).toEqual([])
    expect(runner.view('shop', 'ctl')?.holding?.kind).toBe('store_error')
  })

  it("steps without the app's limiter metrics when they cannot be read: counted and logged once, the decision still made", async () => {
    const { clock, runner, logged, set, failures } = setUp(
      async () => ({ ok: true, sli: 500, target: 300, burnRate: 2, newestAt: 0, text: 'p99 500 ms' }),
      {
        usage: async () => {
          throw new Error('connection refused')
        },
      },
    )
    for (let i = 0; i < 2; i++) {
      expect(await runner.tick()).toEqual({ skipped: false, ran: 1, failed: 0 })
      clock.advance(1000)
    }
    expect(set).toEqual([39, 39])
    expect(await failures()).toEqual([['observe', 2]])
    expect(logged.map((l) => l.level)).toEqual(['error', 'debug'])
    expect(logged[0]!.msg).toBe("controller shop/ctl: reading the app's limiter metrics failed; stepping without them")
  })

  it('skips a tick while the previous one runs, and acts at the next interval', async () => {
    let release!: (r: SliReading) => void
    const { clock, runner, set } = setUp(
      () =>
        new Promise((resolve) => {
          release = resolve
        }),
    )
    const first = runner.tick()
    expect(await runner.tick()).toEqual({ skipped: true, ran: 0, failed: 0 })
    release({ ok: true, sli: 500, target: 300, burnRate: 2, newestAt: clock.now(), text: 'p99 500 ms' })
    expect(await first).toEqual({ skipped: false, ran: 1, failed: 0 })
    expect(set).toEqual([39])
  })

  it('stops within its timeout even when a tick hangs', async () => {
    const { runner } = setUp(() => new Promise(() => {}), { stopTimeoutMillis: 50 })
    void runner.tick()
    const started = performance.now()
    await runner.stop()
    expect(performance.now() - started).toBeLessThan(1000)
  })

  it('holds once, naming the algorithm, when the factory refuses the binding', async () => {
    const { clock, runner, events, set } = setUp(
      async () => ({ ok: true, sli: 500, target: 300, burnRate: 2, newestAt: 0, text: '' }),
      {
        factory: () => {
          throw new Error('unknown parameter "x" of controller aimd')
        },
      },
    )
    await runner.tick()
    clock.advance(1000)
    await runner.tick()
    expect(events.map((e) => e.title)).toEqual([
      'controller shop/ctl holds workers at 40: algorithm aimd refused its parameters: unknown parameter "x" of controller aimd',
    ])
    expect(set).toEqual([])
  })
})
