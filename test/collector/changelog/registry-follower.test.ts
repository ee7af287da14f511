import { Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import type { ChangeLog } from '../../../collector/src/changelog/change-log.ts'
import { StoreFollower } from '../../../collector/src/store-follower.ts'
import { RegistryFollower } from '../../../collector/src/changelog/registry-follower.ts'
import { KnobService, type KnobChange } from '../../../collector/src/knobs/knob-service.ts'
import { MemoryVersions } from '../../../collector/src/store/version-store.ts'
import type { KnobState } from '../../../collector/src/knobs/knob-service.ts'
import { ManualClock } from '../../../collector/src/sinks/clock.ts'

// Two collectors' knob services sharing one store double: a change made through one reaches
// the listeners (the live streams) of the other through its follower.

const def = { type: 'int' as const, default: 20, min: 1, max: 200, values: null, unit: '', description: '', owner: '' }
const who = { actor: 'alice', reason: 'test' }
const changeLog = { append: async () => ({ created: true }) } as unknown as ChangeLog

function collector(versions: MemoryVersions<KnobState>, clock: ManualClock) {
  const knobs = new KnobService(versions, changeLog, { readBeforeWrite: true })
  const heard: KnobChange[] = []
  knobs.subscribe((c) => heard.push(c))
  const follower = new RegistryFollower({
    versions,
    registry: knobs,
    now: () => clock.now(),
    overlapMillis: 10_000,
    resyncMillis: 30_000,
  })
  return { knobs, heard, follower }
}

const stops: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const s of stops.splice(0)) await s()
})

describe('knob changes across collectors sharing a store', () => {
  it("a change through one collector reaches the other's listeners at its next poll, once", async () => {
    const versions = new MemoryVersions<KnobState>(),
      clock = new ManualClock(Date.now())
    const a = collector(versions, clock),
      b = collector(versions, clock)
    await a.knobs.declare('checkout', 'workers', def, 'app:checkout')
    expect(b.knobs.list()).toEqual([])
    expect(await b.follower.poll()).toBe(1)
    expect(b.knobs.get('checkout', 'workers')).toMatchObject({ value: 20, version: 1 })

    const etag = b.knobs.etag('checkout')
    await a.knobs.setValue('checkout', 'workers', 50, who)
    expect(await b.follower.poll()).toBe(1)
    expect(b.heard.map((c) => [c.knob.version, c.knob.value])).toEqual([
      [1, 20],
      [2, 50],
    ])
    expect(b.knobs.etag('checkout')).not.toBe(etag)
    // Polling again finds nothing new: a version is heard once, and a's own change is not echoed back to a.
    expect(await b.follower.poll()).toBe(0)
    expect(await a.follower.poll()).toBe(0)
    expect(a.heard.map((c) => c.knob.version)).toEqual([1, 2])
  })

  it("the next version a collector writes follows the other's, though it has not polled yet", async () => {
    const versions = new MemoryVersions<KnobState>(),
      clock = new ManualClock(Date.now())
    const a = collector(versions, clock),
      b = collector(versions, clock)
    await a.knobs.declare('checkout', 'workers', def, 'app:checkout')
    await b.follower.poll()
    await a.knobs.setValue('checkout', 'workers', 50, who)
    const k = await b.knobs.setValue('checkout', 'workers', 60, who) // no poll in between
    expect(k.version).toBe(3)
    expect((await versions.history('checkout', 'workers', 10)).map((v) => [v.version, (v as KnobState).value])).toEqual(
      [
        [3, 60],
        [2, 50],
        [1, 20],
      ],
    )
    await a.follower.poll()
    expect(a.knobs.get('checkout', 'workers')).toMatchObject({ version: 3, value: 60 })
  })

  it('a version stamped by a clock far behind arrives at the next full resync', async () => {
    const versions = new MemoryVersions<KnobState>(),
      clock = new ManualClock(Date.now())
    const a = collector(versions, clock),
      b = collector(versions, clock)
    await a.knobs.declare('checkout', 'workers', def, 'app:checkout')
    await b.follower.poll() // the first poll is a full read
    const knob = a.knobs.get('checkout', 'workers')
    await versions.insert({ ...knob, version: 2, value: 7, changedAt: knob.changedAt - 60_000, changeId: 'skewed' })
    clock.advance(1_000)
    expect(await b.follower.poll()).toBe(0) // older than the watermark less the overlap
    clock.advance(30_000)
    expect(await b.follower.poll()).toBe(1)
    expect(b.knobs.get('checkout', 'workers')).toMatchObject({ version: 2, value: 7 })
  })

  it('with the follower running, a change reaches the other collector within a second', async () => {
    const versions = new MemoryVersions<KnobState>(),
      clock = new ManualClock(Date.now())
    const a = collector(versions, clock),
      b = collector(versions, clock)
    const loop = new StoreFollower({
      knobs: b.follower,
      definitions: [],
      definitionsMillis: 2_000,
      intervalMillis: 250,
      now: Date.now,
      log: { error() {}, debug() {} },
      registry: new Registry(),
    })
    loop.start()
    stops.push(() => loop.stop())
    await a.knobs.declare('checkout', 'workers', def, 'app:checkout')
    const started = Date.now()
    await a.knobs.setValue('checkout', 'workers', 80, who)
    while (b.knobs.list()[0]?.value !== 80 && Date.now() - started < 2_000) await new Promise((r) => setTimeout(r, 10))
    const took = Date.now() - started
    expect(b.knobs.get('checkout', 'workers').value).toBe(80)
    expect(took).toBeLessThan(1_000)
  })

  it('the follower loop never throws: a failing store is counted and retried', async () => {
    const registry = new Registry()
    let fail = true
    const loop = new StoreFollower({
      knobs: {
        poll: async () => {
          if (fail) throw new Error('store down')
          return 2
        },
      },
      definitions: [],
      definitionsMillis: 2_000,
      intervalMillis: 0,
      now: Date.now,
      log: { error() {}, debug() {} },
      registry,
    })
    expect(await loop.tick()).toBe(0)
    expect(await loop.tick()).toBe(0)
    fail = false
    expect(await loop.tick()).toBe(2)
    expect(await registry.getSingleMetricAsString('governor_follower_failures_total')).toContain(
      'governor_follower_failures_total{what="knobs"} 2',
    )
  })
})
