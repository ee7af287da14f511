import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { Lease } from '../../../collector/src/control/lease.ts'
import { MemoryLeaseStore } from '../../../collector/src/store/lease-store.ts'
import {
  ControllerMetrics,
  ControllerRunner,
  type ControllerBinding,
  type ControllerFactory,
} from '../../../collector/src/control/index.ts'
import type { TermFence, KnobState } from '../../../collector/src/knobs/knob-service.ts'
import { GovernorError } from '../../../collector/src/errors.ts'
import { ManualClock } from '../../../collector/src/sinks/clock.ts'
import type { Controller } from '../../../throttle/src/index.ts'

// Two controller runners, as on two collectors, sharing a lease store double and one knob
// (as their knob services share a store): one of them runs the controller, the other takes
// over when it stops, and a decision of a stale term never reaches the knob.

const TTL = 9_000
const INTERVAL = 1_000

const binding: ControllerBinding = {
  service: 'checkout',
  name: 'ctl',
  version: 1,
  changedAt: 0,
  actor: 'alice',
  reason: 'test',
  changeId: 'c1',
  definition: {
    knob: 'workers',
    slo: 'latency',
    algorithm: 'aimd',
    params: {},
    interval_ms: INTERVAL,
    min: 1,
    max: 200,
    max_step: 200,
    cooldown_ms: 0,
    dead_band: 0,
    mode: 'active',
    description: '',
    effect: 'raises',
    guard: null,
  },
}

/** Lowers the value by one at every step. */
const lowerByOne: ControllerFactory = () =>
  ({
    name: 'lower',
    init: () => null,
    step: (state: null, obs: { value: number }) => ({
      state,
      decision: { kind: 'lower', value: obs.value - 1, reason: 'over target' },
    }),
  }) as unknown as Controller

/** The knob both collectors see; each write checks the fence, as the knob service does. */
class SharedKnob {
  knob: KnobState = {
    service: 'checkout',
    name: 'workers',
    mode: 'auto',
    value: 40,
    version: 1,
    changedAt: 0,
    actor: 'app',
    reason: 'declared',
    changeId: 'k1',
    definition: { type: 'int', default: 40, min: 1, max: 200, values: null, unit: '', description: '', owner: '' },
  }
  readonly writes: { actor: string; value: number; term: number | undefined }[] = []

  list = () => [this.knob]

  setValue = async (
    _s: string,
    _n: string,
    value: unknown,
    who: { actor: string },
    _mode?: unknown,
    fence?: TermFence,
  ): Promise<KnobState> => {
    if (fence !== undefined && this.knob.mode !== 'auto')
      throw new GovernorError('GOV_ERR_KNOB_CONFLICT', `in ${this.knob.mode} mode`)
    if (fence !== undefined) await fence.assertCurrent()
    this.knob = { ...this.knob, value: value as number, version: this.knob.version + 1 }
    this.writes.push({ actor: who.actor, value: value as number, term: fence?.term })
    return this.knob
  }
}

function collector(
  name: string,
  clock: ManualClock,
  leases: MemoryLeaseStore,
  knob: SharedKnob,
  duringRead: () => Promise<void> = async () => {},
) {
  const lease = new Lease({
    store: leases,
    name: 'controllers',
    holder: name,
    ttlMillis: TTL,
    settleMillis: 100,
    now: () => clock.now(),
    sleep: async (ms) => clock.advance(ms),
  })
  const runner = new ControllerRunner({
    controllers: { list: () => [binding] },
    slos: { find: () => ({ definition: {} }) as never },
    knobs: knob,
    changeLog: { append: async () => ({}) },
    observer: {
      read: async () => {
        await duringRead()
        return { ok: true, sli: 900, target: 300, burnRate: 3, newestAt: clock.now(), text: 'p99 900 ms' }
      },
    },
    factory: lowerByOne,
    metrics: new ControllerMetrics(new Registry()),
    log: { error() {}, debug() {} },
    now: () => clock.now(),
    tickMillis: 0,
    lease,
  })
  return { lease, runner }
}

describe('controller runners under one lease', () => {
  it('run the controller on one collector only, under its term', async () => {
    const clock = new ManualClock(0),
      leases = new MemoryLeaseStore(),
      knob = new SharedKnob()
    const a = collector('a', clock, leases, knob),
      b = collector('b', clock, leases, knob)
    for (let i = 0; i < 5; i++) {
      clock.advance(INTERVAL)
      expect((await a.runner.tick()).ran).toBe(1)
      expect((await b.runner.tick()).ran).toBe(0)
    }
    expect([a.runner.leading, b.runner.leading]).toEqual([true, false])
    expect(knob.writes).toHaveLength(5)
    expect(new Set(knob.writes.map((w) => w.term))).toEqual(new Set([1]))
    expect(knob.knob.value).toBe(35)
  })

  it('the other collector takes over once the leader stops renewing, in the next term', async () => {
    const clock = new ManualClock(0),
      leases = new MemoryLeaseStore(),
      knob = new SharedKnob()
    const a = collector('a', clock, leases, knob),
      b = collector('b', clock, leases, knob)
    clock.advance(INTERVAL)
    await a.runner.tick()
    await b.runner.tick()
    // a stops (a crash: no release). Until its claim expires b only follows.
    let took: number | undefined
    for (let t = 0; t < TTL + 2 * INTERVAL; t += INTERVAL) {
      clock.advance(INTERVAL)
      if ((await b.runner.tick()).ran === 1 && took === undefined) took = clock.now()
    }
    expect(took).toBeDefined()
    expect(took! - a.lease.state.expiresAt).toBeLessThanOrEqual(TTL / 3 + INTERVAL) // within one lease step of the expiry
    expect(took!).toBeGreaterThanOrEqual(a.lease.state.expiresAt)
    expect(knob.writes.map((w) => w.term)).toEqual([1, ...knob.writes.slice(1).map(() => 2)])
    expect(b.lease.state).toMatchObject({ leader: true, term: 2, holder: 'b' })
  })

  it('a decision made under a term that lapsed while it was observing is refused at the knob write', async () => {
    const clock = new ManualClock(0),
      leases = new MemoryLeaseStore(),
      knob = new SharedKnob()
    let b: ReturnType<typeof collector> | undefined
    let stall = false
    // a's store read stalls for longer than the lease: meanwhile b takes the lease over.
    const a = collector('a', clock, leases, knob, async () => {
      if (!stall) return
      clock.advance(TTL + 1)
      await b!.lease.step()
    })
    b = collector('b', clock, leases, knob)
    clock.advance(INTERVAL)
    await a.runner.tick()
    expect(knob.writes).toHaveLength(1)
    stall = true
    clock.advance(INTERVAL)
    const tick = await a.runner.tick()
    expect(tick.ran).toBe(1)
    expect(b.lease.state).toMatchObject({ leader: true, term: 2 })
    expect(knob.writes).toEqual([{ actor: 'controller:ctl', value: 39, term: 1 }]) // nothing of term 1 after b took term 2
    expect(knob.knob.value).toBe(39)
    expect(a.runner.view('checkout', 'ctl')?.holding?.kind).toBe('stale_term')
  })

  it("a person's change seen only at the write (made through another collector) hands the knob back", async () => {
    const clock = new ManualClock(0),
      leases = new MemoryLeaseStore(),
      knob = new SharedKnob()
    let person = false
    const a = collector('a', clock, leases, knob, async () => {
      if (person) knob.knob = { ...knob.knob, mode: 'manual', actor: 'dave' }
    })
    clock.advance(INTERVAL)
    await a.runner.tick()
    person = true
    clock.advance(INTERVAL)
    expect(await a.runner.tick()).toMatchObject({ ran: 1, failed: 0 })
    expect(knob.writes).toHaveLength(1)
    expect(a.runner.view('checkout', 'ctl')?.holding?.kind).toBe('manual')
  })

  it('a collector that loses the store holds: it does not lead on what it last knew', async () => {
    const clock = new ManualClock(0),
      leases = new MemoryLeaseStore(),
      knob = new SharedKnob()
    const a = collector('a', clock, leases, knob)
    clock.advance(INTERVAL)
    await a.runner.tick()
    leases.failing = true
    clock.advance(TTL / 3)
    const tick = await a.runner.tick()
    expect(tick).toMatchObject({ ran: 0, failed: 1 })
    expect(knob.writes).toHaveLength(1)
  })

  it('stop gives the lease up, so that the other collector takes over at its next step', async () => {
    const clock = new ManualClock(0),
      leases = new MemoryLeaseStore(),
      knob = new SharedKnob()
    const a = collector('a', clock, leases, knob),
      b = collector('b', clock, leases, knob)
    clock.advance(INTERVAL)
    await a.runner.tick()
    await b.runner.tick()
    await a.runner.stop()
    clock.advance(TTL / 3)
    expect((await b.runner.tick()).ran).toBe(1)
    expect(b.lease.state.term).toBe(2)
  })
})
