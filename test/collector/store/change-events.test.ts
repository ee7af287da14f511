import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ChangeEvent } from '../../../collector/src/model/change-event.ts'
import {
  ClickHouseChangeEvents,
  MemoryChangeEvents,
  type ChangeEventStore,
} from '../../../collector/src/store/change-events.ts'
import { Store } from '../../../collector/src/store/store.ts'
import { testSettings } from '../../helpers/settings.ts'

// One contract, two implementations: the in-memory store that unit tests use must answer
// exactly as the events table does, or the tests that use it prove nothing about Governor.

const T = Date.now() - 3_600_000

function event(id: string, over: Partial<ChangeEvent>): ChangeEvent {
  return {
    id,
    kind: 'note',
    time: T,
    timeEnd: T,
    service: 'api',
    environment: 'production',
    actor: 'alice',
    title: id,
    text: '',
    tags: [],
    version: '',
    data: {},
    recordedAt: T,
    ...over,
  }
}

const EVENTS: ChangeEvent[] = [
  event('d1', {
    kind: 'deploy',
    time: T,
    timeEnd: T + 30_000,
    version: '1.0',
    title: 'alice deployed api 1.0',
    recordedAt: T + 1,
  }),
  event('d2', {
    kind: 'deploy',
    time: T + 600_000,
    timeEnd: T + 660_000,
    version: '1.1',
    title: 'bob deployed api 1.1',
    actor: 'bob',
    recordedAt: T + 2,
  }),
  event('d3', {
    kind: 'deploy',
    time: T + 100_000,
    timeEnd: T + 120_000,
    version: '7',
    service: 'db',
    title: 'db 7',
    data: { plan: { risks: 'none' } },
    recordedAt: T + 3,
  }),
  event('d4', {
    kind: 'deploy',
    time: T + 700_000,
    timeEnd: T + 700_000,
    version: '1.1',
    environment: 'staging',
    title: 'staging api',
    recordedAt: T + 3,
  }),
  event('n1', {
    time: T + 300_000,
    timeEnd: T + 300_000,
    title: 'Checkout-Latency high',
    text: 'p99_ms over Zürich',
    tags: ['sev1', 'pager'],
    recordedAt: T + 4,
  }),
  event('n2', { time: T + 900_000, timeEnd: T + 900_000, service: '', title: 'freeze starts', recordedAt: T + 4 }),
  event('k1', {
    kind: 'knob',
    time: T + 400_000,
    timeEnd: T + 400_000,
    title: 'workers 4 → 8',
    actor: 'controller',
    recordedAt: T + 5,
  }),
]

const ids = (events: ChangeEvent[]) => events.map((e) => e.id)

function contract(name: string, open: () => Promise<{ events: ChangeEventStore; close(): Promise<void> }>): void {
  describe(name, () => {
    let s: ChangeEventStore
    let close: () => Promise<void>
    beforeAll(async () => {
      const opened = await open()
      s = opened.events
      close = opened.close
      for (const e of EVENTS) await s.insert(e)
    })
    afterAll(async () => {
      await close?.()
    })

    it('gives an event back whole by id, and nothing for an unknown id', async () => {
      expect(await s.get('d3')).toEqual(EVENTS[2])
      expect(await s.get('nope')).toBeUndefined()
    })

    it('keeps one event per id: a second insert replaces the first', async () => {
      await s.insert(event('r1', { title: 'first', time: T - 10_000, timeEnd: T - 10_000 }))
      await s.insert(event('r1', { title: 'second', time: T - 10_000, timeEnd: T - 10_000 }))
      expect((await s.list({ limit: 100 })).filter((e) => e.id === 'r1').map((e) => e.title)).toEqual(['second'])
    })

    it('lists newest end first, by service, kind, environment and time, up to the limit', async () => {
      expect(ids(await s.list({ limit: 3 }))).toEqual(['n2', 'd4', 'd2'])
      expect(ids(await s.list({ service: 'api', kind: 'deploy', limit: 10 }))).toEqual(['d4', 'd2', 'd1'])
      expect(ids(await s.list({ environment: 'staging', limit: 10 }))).toEqual(['d4'])
      // From and to select events that overlap [from, to].
      expect(ids(await s.list({ from: T + 29_000, to: T + 300_000, limit: 10 }))).toEqual(['n1', 'd3', 'd1'])
    })

    it('searches every word, as the text index splits and lower-cases them', async () => {
      expect(ids(await s.list({ q: 'checkout latency', limit: 10 }))).toEqual(['n1'])
      expect(ids(await s.list({ q: 'P99 ms', limit: 10 }))).toEqual(['n1'])
      expect(ids(await s.list({ q: 'Zürich sev1', limit: 10 }))).toEqual(['n1'])
      expect(ids(await s.list({ q: 'deployed bob', limit: 10 }))).toEqual(['d2'])
      expect(ids(await s.list({ q: 'knob', limit: 10 }))).toEqual(['k1'])
      expect(await s.list({ q: 'latency missing', limit: 10 })).toEqual([])
    })

    it('reads in the order of storing, after a cursor', async () => {
      expect(ids(await s.recordedAfter(T + 3, undefined, 10))).toEqual(['d3', 'd4', 'n1', 'n2', 'k1'])
      expect(ids(await s.recordedAfter(T + 3, 'd3', 10))).toEqual(['d4', 'n1', 'n2', 'k1'])
      expect(ids(await s.recordedAfter(T + 4, 'n1', 2))).toEqual(['n2', 'k1'])
    })

    it('finds the last deploys per service and environment, and before a time', async () => {
      expect(ids(await s.lastDeploys()).sort()).toEqual(['d2', 'd3', 'd4'])
      expect(ids(await s.lastDeploys('api', 'production'))).toEqual(['d2'])
      expect(ids(await s.lastDeploysBefore(['api', 'db'], T + 650_000)).sort()).toEqual(['d1', 'd3'])
      expect(await s.lastDeploysBefore(['web'], T + 650_000)).toEqual([])
    })

    it('finds the events of services in a range, and the deploys until a time', async () => {
      expect(ids(await s.inRange(['api'], T + 20_000, T + 400_000))).toEqual(['d1', 'n1'])
      expect(ids(await s.inRange(['api', 'db'], T + 20_000, T + 400_001))).toEqual(['d1', 'd3', 'n1', 'k1'])
      expect(ids(await s.deploysUntil(['api'], T + 700_000))).toEqual(['d1', 'd2'])
    })
  })
}

contract('events in the events table', async () => {
  const store = await Store.open(testSettings())
  return { events: new ClickHouseChangeEvents(store.client, store.db), close: () => store.close() }
})

contract('events in memory', async () => ({ events: new MemoryChangeEvents(), close: async () => {} }))
