import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ChangeLog } from '../../../collector/src/changelog/change-log.ts'
import { ClickHouseChangeEvents } from '../../../collector/src/store/change-events.ts'
import { ClickHouseOutbox } from '../../../collector/src/store/webhook-outbox.ts'
import type { DeliveryState } from '../../../collector/src/sinks/outbox.ts'
import { Store } from '../../../collector/src/store/store.ts'
import { testSettings } from '../../helpers/settings.ts'

describe('ClickHouseOutbox on the embedded engine', () => {
  let store: Store
  let log: ChangeLog
  let outbox: ClickHouseOutbox
  const start = Date.now() - 1000

  beforeAll(async () => {
    store = await Store.open(testSettings())
    const events = new ClickHouseChangeEvents(store.client, store.db)
    log = new ChangeLog(events)
    outbox = new ClickHouseOutbox(store.client, store.db, events)
  })
  afterAll(async () => {
    await store?.close()
  })

  const state = (eventId: string, recordedAt: number, over: Partial<DeliveryState>): DeliveryState => ({
    sink: 'audit',
    eventId,
    kind: 'note',
    service: 'checkout',
    eventRecordedAt: recordedAt,
    attempts: 1,
    status: 'pending',
    nextAttemptAt: recordedAt + 5000,
    lastStatusCode: 500,
    lastError: 'HTTP 500',
    deliveredAt: 0,
    updatedAt: recordedAt + 1,
    ...over,
  })

  it('registers a sink once and keeps its first time', async () => {
    expect(await outbox.registerSinks(['audit', 'chat'], start)).toEqual(
      new Map([
        ['audit', start],
        ['chat', start],
      ]),
    )
    expect(await outbox.registerSinks(['audit', 'new'], start + 5000)).toEqual(
      new Map([
        ['audit', start],
        ['new', start + 5000],
      ]),
    )
  })

  it('finds the stored events as the queue, with the latest state of each delivery', async () => {
    const a = (
      await log.append({
        kind: 'note',
        time: start,
        timeEnd: start,
        service: 'checkout',
        environment: '',
        actor: 'bob',
        title: 'a',
        text: '',
        tags: [],
        version: '',
        data: { x: 1 },
      })
    ).event
    const b = (
      await log.append({
        id: 'b.1',
        kind: 'deploy',
        time: start,
        timeEnd: start,
        service: 'search',
        environment: 'production',
        actor: 'alice',
        title: 'b',
        text: 't',
        tags: ['x'],
        version: '2',
        data: {},
      })
    ).event
    await outbox.save(state(a.id, a.recordedAt, { attempts: 1, updatedAt: a.recordedAt + 1 }))
    await outbox.save(
      state(a.id, a.recordedAt, {
        attempts: 2,
        status: 'delivered',
        nextAttemptAt: 0,
        lastStatusCode: 200,
        lastError: '',
        deliveredAt: a.recordedAt + 9,
        updatedAt: a.recordedAt + 2,
      }),
    )
    await outbox.save(state(b.id, b.recordedAt, { sink: 'other' }))

    const scan = await outbox.scan(['audit'], { since: start }, 100)
    expect(scan.events.map((e) => e.id)).toEqual([a.id, b.id])
    expect(scan.events[1]).toEqual(b)
    expect(scan.states).toEqual([
      expect.objectContaining({
        eventId: a.id,
        attempts: 2,
        status: 'delivered',
        deliveredAt: a.recordedAt + 9,
        lastStatusCode: 200,
      }),
    ])

    const page = await outbox.scan(['audit'], { since: a.recordedAt, afterId: a.id }, 100)
    expect(page.events.map((e) => e.id)).toEqual([b.id])
    expect((await outbox.scan(['audit'], { since: b.recordedAt + 1 }, 100)).events).toEqual([])

    const listed = await outbox.list({ limit: 10 })
    expect(listed.map((s) => `${s.sink}:${s.eventId}:${s.status}`)).toEqual([
      `other:${b.id}:pending`,
      `audit:${a.id}:delivered`,
    ])
    expect(await outbox.list({ sink: 'audit', status: 'pending', limit: 10 })).toEqual([])
  })
})
