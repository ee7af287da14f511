import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ChangeLog } from '../../collector/src/changelog/change-log.ts'
import { ClickHouseChangeEvents } from '../../collector/src/store/change-events.ts'
import { ClickHouseKnobVersions } from '../../collector/src/store/knob-versions.ts'
import { deployFromBody, recordDeploy } from '../../collector/src/changelog/deploys.ts'
import { Lease } from '../../collector/src/control/lease.ts'
import { shareStore } from '../../collector/src/shared-store.ts'
import { checkAlgorithmParams } from '../../collector/src/control/index.ts'
import { parseSlo } from '../../collector/src/slo/definition.ts'
import { SloService } from '../../collector/src/slo/slo-service.ts'
import { ClickHouseStoreQueries } from '../../collector/src/store/clickhouse-queries.ts'
import { ClickHouseSliReads } from '../../collector/src/store/sli-reads.ts'
import { ClickHouseDefinitionVersions } from '../../collector/src/store/version-store.ts'
import { Registry } from 'prom-client'
import { ClickHouseLeaseStore } from '../../collector/src/store/lease-store.ts'
import { RegistryFollower } from '../../collector/src/changelog/registry-follower.ts'
import { KnobService, type KnobChange, type KnobState } from '../../collector/src/knobs/knob-service.ts'
import { ManualClock } from '../../collector/src/sinks/clock.ts'
import { Store } from '../../collector/src/store/store.ts'
import { testSettings } from '../helpers/settings.ts'
import type { Settings } from '../../collector/src/settings.ts'

// What two collectors sharing a store do, on the real engine: two of each service on one
// store in this process stand for two collectors on one ClickHouse server.

let store: Store
let settings: Settings
beforeAll(async () => {
  settings = testSettings()
  store = await Store.open(settings)
})
afterAll(async () => {
  await store?.close()
})

const def = { type: 'int' as const, default: 20, min: 1, max: 200, values: null, unit: '', description: '', owner: '' }
const who = { actor: 'alice', reason: 'test' }

describe('the controller lease in the leases table', () => {
  const TTL = 9_000
  const clock = new ManualClock(Date.now())
  const lease = (holder: string) =>
    new Lease({
      store: new ClickHouseLeaseStore(store.client, store.db, false),
      name: 'lease-test',
      holder,
      ttlMillis: TTL,
      settleMillis: 200,
      now: () => clock.now(),
      sleep: async (ms) => clock.advance(ms),
    })

  it('elects one leader, takes over after the expiry in a new term, refuses the old term', async () => {
    const a = lease('a'),
      b = lease('b')
    expect((await a.step()).leader).toBe(true)
    expect(await b.step()).toMatchObject({ leader: false, holder: 'a', term: 1 })
    clock.advance(TTL / 3)
    expect((await a.step()).leader).toBe(true) // renewed: a later expiry
    clock.advance(TTL - 1)
    expect((await b.step()).leader).toBe(false) // the renewal holds it a third longer
    clock.advance(TTL / 3)
    expect(await b.step()).toMatchObject({ leader: true, term: 2, holder: 'b' })
    await expect(a.assertCurrent(1)).rejects.toMatchObject({ code: 'GOV_ERR_CONTROLLER_STALE_TERM' })
    await b.assertCurrent(2)
    expect(await a.step()).toMatchObject({ leader: false, term: 2, holder: 'b' })
  })

  it('a released lease is taken at the next step', async () => {
    const a = lease('a'),
      b = lease('b')
    clock.advance(TTL)
    expect((await a.step()).leader).toBe(true) // 'b' of the test before has lapsed
    await a.release()
    clock.advance(1)
    expect((await b.step()).leader).toBe(true)
  })
})

describe('two knob services on one store', () => {
  let a: KnobService, b: KnobService, follower: RegistryFollower<KnobState>
  const heard: KnobChange[] = []
  beforeAll(async () => {
    a = new KnobService(
      new ClickHouseKnobVersions(store.client, store.db),
      new ChangeLog(new ClickHouseChangeEvents(store.client, store.db)),
      { readBeforeWrite: true },
    )
    b = new KnobService(
      new ClickHouseKnobVersions(store.client, store.db),
      new ChangeLog(new ClickHouseChangeEvents(store.client, store.db)),
      { readBeforeWrite: true },
    )
    await a.load()
    await b.load()
    b.subscribe((c) => heard.push(c))
    follower = new RegistryFollower({ versions: b.versions, registry: b, now: Date.now })
  })

  it("a change through one reaches the other's listeners at its next poll", async () => {
    await a.declare('checkout', 'workers', def, 'app:checkout')
    await a.setValue('checkout', 'workers', 50, who)
    expect(await follower.poll()).toBe(1) // the first poll reads the latest version of every knob
    await a.setValue('checkout', 'workers', 60, who)
    expect(await follower.poll()).toBe(1)
    expect(heard.map((c) => [c.knob.version, c.knob.value])).toEqual([
      [2, 50],
      [3, 60],
    ])
    expect(await follower.poll()).toBe(0)
  })

  it('the next version written through the other follows, without a poll in between', async () => {
    await a.setValue('checkout', 'workers', 70, who)
    const k = await b.setValue('checkout', 'workers', 80, who)
    expect(k.version).toBe(5)
    expect((await a.history('checkout', 'workers')).map((v) => v.version)).toEqual([5, 4, 3, 2, 1])
  })

  it('a controller decision of a stale term is refused, and the knob is not written', async () => {
    await a.setMode('checkout', 'workers', 'auto', who)
    const before = (await a.history('checkout', 'workers')).length
    const fence = {
      term: 3,
      assertCurrent: async () => {
        throw Object.assign(new Error('stale'), { code: 'GOV_ERR_CONTROLLER_STALE_TERM' })
      },
    }
    await expect(
      a.setValue('checkout', 'workers', 10, { actor: 'controller:ctl', reason: 'lower' }, undefined, fence),
    ).rejects.toThrow('stale')
    expect((await a.history('checkout', 'workers')).length).toBe(before)
    const ok = await a.setValue('checkout', 'workers', 10, { actor: 'controller:ctl', reason: 'lower' }, undefined, {
      term: 4,
      assertCurrent: async () => {},
    })
    expect(ok).toMatchObject({ value: 10, mode: 'auto' })
    const event = await new ChangeLog(new ClickHouseChangeEvents(store.client, store.db)).get(ok.changeId)
    expect(event?.data).toMatchObject({ term: 4, after: 10 })
  })

  it("a controller decision meets a person's change made through the other collector: refused", async () => {
    await b.setValue('checkout', 'workers', 33, { actor: 'dave', reason: 'I take over' }) // manual mode, through b
    const fence = { term: 4, assertCurrent: async () => {} }
    await expect(
      a.setValue('checkout', 'workers', 9, { actor: 'controller:ctl', reason: 'lower' }, undefined, fence),
    ).rejects.toMatchObject({
      code: 'GOV_ERR_KNOB_CONFLICT',
      message: expect.stringContaining('manual mode since dave'),
    })
    expect(a.get('checkout', 'workers')).toMatchObject({ value: 33, mode: 'manual' })
  })
})

describe('deploy ids across collectors', () => {
  it('a deploy retried through another collector with the same id is stored once', async () => {
    const one = new ChangeLog(new ClickHouseChangeEvents(store.client, store.db)),
      two = new ChangeLog(new ClickHouseChangeEvents(store.client, store.db))
    const body = { service: 'checkout', version: '1.4.2', actor: 'ci', id: 'pipeline-981' }
    const first = await recordDeploy(one, deployFromBody(body, Date.now()))
    const again = await recordDeploy(two, deployFromBody(body, Date.now() + 5_000))
    expect([first.created, again.created]).toEqual([true, false])
    expect(again.event.id).toBe('pipeline-981')
    const rs = await store.client.query({
      query: `SELECT count() FROM ${store.db}.events FINAL WHERE id = 'pipeline-981'`,
      format: 'JSONCompactEachRow',
    })
    expect(await rs.json()).toEqual([[1]])
  })
})

describe('shareStore: what a collector on a shared server runs', () => {
  const log = { error() {}, debug() {} }
  function share(knobs: KnobService, follow: number) {
    const changeLog = new ChangeLog(new ClickHouseChangeEvents(store.client, store.db))
    return shareStore({
      store,
      settings: { ...settings, knobFollowMillis: follow, controllerLeaseMillis: 5_000 },
      knobs,
      changeLog,
      queries: new ClickHouseStoreQueries(store.client, store.db),
      checkParams: checkAlgorithmParams,
      registry: new Registry(),
      log,
    })
  }

  it("takes the controller lease, follows other collectors' knobs and reloads the definitions the runner reads", async () => {
    const mine = new KnobService(
      new ClickHouseKnobVersions(store.client, store.db),
      new ChangeLog(new ClickHouseChangeEvents(store.client, store.db)),
      { readBeforeWrite: true },
    )
    await mine.load()
    const shared = await share(mine, 250)
    expect((await shared.lease.step()).leader).toBe(true)
    // Another collector changes a knob and puts an SLO.
    const other = new KnobService(
      new ClickHouseKnobVersions(store.client, store.db),
      new ChangeLog(new ClickHouseChangeEvents(store.client, store.db)),
    )
    await other.load()
    await other.declare('billing', 'rate', def, 'app:billing')
    const slos = new SloService(
      new ClickHouseDefinitionVersions(store.client, store.db, 'slo_versions'),
      new ChangeLog(new ClickHouseChangeEvents(store.client, store.db)),
      new ClickHouseSliReads(store.client, store.db),
      new ClickHouseStoreQueries(store.client, store.db),
    )
    await slos.put(
      'billing',
      'latency',
      parseSlo({
        sli: { type: 'latency', metric: 'http.server.request.duration', percentile: 99, threshold_ms: 300 },
        objective: 99.9,
        window: '30d',
      }),
      who,
    )
    expect(shared.slos!.find('billing', 'latency')).toBeUndefined()
    expect(await shared.follower.tick()).toBeGreaterThanOrEqual(1)
    expect(mine.get('billing', 'rate').value).toBe(20)
    expect(shared.slos!.find('billing', 'latency')?.version).toBe(1)
    await shared.lease.release()
  })

  it("without following, the runner reads the collector's own definitions", async () => {
    const shared = await share(
      new KnobService(
        new ClickHouseKnobVersions(store.client, store.db),
        new ChangeLog(new ClickHouseChangeEvents(store.client, store.db)),
      ),
      0,
    )
    expect([shared.slos, shared.controllers]).toEqual([undefined, undefined])
  })
})
