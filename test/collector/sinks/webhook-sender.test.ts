import { createHmac } from 'node:crypto'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import type { ChangeEvent } from '../../../collector/src/changelog/types.ts'
import { ManualClock } from '../../../collector/src/sinks/clock.ts'
import { MemoryOutbox } from '../../../collector/src/sinks/memory-outbox.ts'
import type { DeliveryState } from '../../../collector/src/sinks/outbox.ts'
import { parseSinks, type SinkConfig } from '../../../collector/src/sinks/sink-config.ts'
import { webhookId } from '../../../collector/src/sinks/signature.ts'
import { WebhookSender, type FetchFn, type WebhookSenderOptions } from '../../../collector/src/sinks/webhook-sender.ts'
import { deploy, event } from './fixtures.ts'

const T0 = 1_700_000_000_000
const KEY_B64 = 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
const HOOK = { name: 'audit', type: 'webhook', url: 'http://hooks.test/audit', secret: `whsec_${KEY_B64}` }
const CHAT = { name: 'chat', type: 'slack', url: 'http://chat.test/services/T0/B0/Xk9dTqLmZ2vB7nRw4yHc0aPe' }

interface Call {
  url: string
  init: RequestInit
  headers: Record<string, string>
  body: string
  at: number
}
type Responder = (call: Call, n: number) => Response | Promise<Response>

function setup(sinkJson: object[] = [HOOK], options: Partial<WebhookSenderOptions> = {}, outbox = new MemoryOutbox()) {
  const clock = new ManualClock(T0)
  const calls: Call[] = []
  const state = { random: 0.5, respond: (() => new Response('ok')) as Responder }
  const fetch: FetchFn = async (url, init) => {
    const call = {
      url,
      init,
      headers: init.headers as Record<string, string>,
      body: String(init.body),
      at: clock.now(),
    }
    calls.push(call)
    return state.respond(call, calls.filter((c) => c.url === url).length)
  }
  const registry = new Registry()
  const logs: { level: string; msg: string }[] = []
  const rec = (level: string) => (_o: object, msg: string) => {
    logs.push({ level, msg })
  }
  const sinks: SinkConfig[] = parseSinks(JSON.stringify(sinkJson), 'test')
  const sender = new WebhookSender({
    sinks,
    outbox,
    changes: outbox,
    registry,
    log: { debug: rec('debug'), info: rec('info'), warn: rec('warn'), error: rec('error') },
    timeoutMillis: 1000,
    scanIntervalMillis: 1000,
    backoffBaseMillis: 4000,
    backoffMaxMillis: 60_000,
    maxRetryMillis: 3_600_000,
    clock,
    random: () => state.random,
    fetch,
    ...options,
  })
  /** Records an event now, as the change log would, and lets the sender work. */
  const append = async (
    e: Partial<ChangeEvent> & { id: string },
    make: (o: Partial<ChangeEvent>) => ChangeEvent = event,
  ) => {
    outbox.append(make({ ...e, recordedAt: clock.now() }))
    await sender.idle()
  }
  /** Moves the clock and runs one loop, as the timer would. */
  const step = async (millis: number) => {
    clock.advance(millis)
    await sender.tick()
    await sender.idle()
  }
  const metric = async (name: string, labels: Record<string, string>) => {
    const m = await registry.getSingleMetric(name)!.get()
    return m.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value ?? 0
  }
  const stateOf = (sink: string, id: string): DeliveryState | undefined => outbox.states.get(`${sink}\n${id}`)
  return { clock, calls, state, sender, outbox, append, step, metric, logs, stateOf }
}

function verify(call: Call): boolean {
  const { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': sig } = call.headers
  const mac = createHmac('sha256', Buffer.from(KEY_B64, 'base64')).update(`${id}.${ts}.${call.body}`).digest('base64')
  return sig === `v1,${mac}`
}

describe('WebhookSender', () => {
  it('delivers a new event at once, signed, and never again after a 2xx', async () => {
    const t = setup()
    await t.sender.start({ timer: false })
    await t.append({ id: 'e1' })
    expect(t.calls).toHaveLength(1)
    const [call] = t.calls
    expect(call!.url).toBe('http://hooks.test/audit')
    expect(call!.init).toMatchObject({ method: 'POST', redirect: 'manual' })
    expect(call!.init.signal).toBeInstanceOf(AbortSignal)
    expect(verify(call!)).toBe(true)
    expect(JSON.parse(call!.body)).toMatchObject({ type: 'governor.note', data: { id: 'e1' } })
    expect(t.stateOf('audit', 'e1')).toMatchObject({
      status: 'delivered',
      attempts: 1,
      lastStatusCode: 200,
      deliveredAt: T0,
    })
    await t.step(60_000)
    await t.step(3_600_000)
    expect(t.calls).toHaveLength(1)
    expect(await t.metric('governor_webhook_deliveries_total', { sink: 'audit', outcome: 'delivered' })).toBe(1)
  })

  it('retries failures on a jittered exponential schedule, with the same webhook-id and a fresh signature', async () => {
    const t = setup()
    t.state.respond = (_c, n) => new Response('boom', { status: n <= 2 ? 500 : 200 })
    await t.sender.start({ timer: false })
    await t.append({ id: 'e1' })
    // random 0.5, base 4 s: the 1st retry comes 2 s later, the 2nd 4 s after that.
    expect(t.stateOf('audit', 'e1')).toMatchObject({
      status: 'pending',
      attempts: 1,
      nextAttemptAt: T0 + 2000,
      lastStatusCode: 500,
      lastError: 'HTTP 500: boom',
    })
    await t.step(1999)
    expect(t.calls).toHaveLength(1)
    await t.step(1)
    expect(t.calls).toHaveLength(2)
    expect(t.stateOf('audit', 'e1')).toMatchObject({ attempts: 2, nextAttemptAt: T0 + 2000 + 4000 })
    await t.step(3999)
    expect(t.calls).toHaveLength(2)
    await t.step(1)
    expect(t.calls).toHaveLength(3)
    expect(t.stateOf('audit', 'e1')).toMatchObject({ status: 'delivered', attempts: 3 })
    expect(new Set(t.calls.map((c) => c.headers['webhook-id']))).toEqual(new Set([webhookId('audit', 'e1')]))
    expect(t.calls.map((c) => c.headers['webhook-timestamp'])).toEqual(
      [T0, T0 + 2000, T0 + 6000].map((ms) => String(ms / 1000)),
    )
    expect(t.calls.every(verify)).toBe(true)
    expect(await t.metric('governor_webhook_deliveries_total', { sink: 'audit', outcome: 'retried' })).toBe(2)
    // One warning for a failing sink, then quiet until it recovers.
    expect(t.logs.filter((l) => l.level === 'warn')).toHaveLength(1)
  })

  it('keeps every retry delay within the full-jitter bounds', async () => {
    const t = setup([HOOK], { backoffBaseMillis: 1000, backoffMaxMillis: 8000 })
    t.state.respond = () => new Response(null, { status: 503 })
    t.state.random = 0.999_999
    await t.sender.start({ timer: false })
    await t.append({ id: 'e1' })
    const delays: number[] = []
    for (let i = 0; i < 6; i++) {
      const s = t.stateOf('audit', 'e1')!
      delays.push(s.nextAttemptAt - t.clock.now())
      await t.step(s.nextAttemptAt - t.clock.now())
    }
    expect(delays).toEqual([999, 1999, 3999, 7999, 7999, 7999])
  })

  it('honours Retry-After on 429', async () => {
    const t = setup()
    t.state.respond = (_c, n) =>
      n === 1
        ? new Response(null, { status: 429, headers: { 'retry-after': '120' } })
        : new Response(null, { status: 204 })
    await t.sender.start({ timer: false })
    await t.append({ id: 'e1' })
    expect(t.stateOf('audit', 'e1')).toMatchObject({
      status: 'pending',
      nextAttemptAt: T0 + 120_000,
      lastStatusCode: 429,
    })
    await t.step(119_999)
    expect(t.calls).toHaveLength(1)
    await t.step(1)
    expect(t.calls).toHaveLength(2)
    expect(t.stateOf('audit', 'e1')).toMatchObject({ status: 'delivered', lastStatusCode: 204 })
  })

  it('disables a sink that answers 410 until restart; other sinks go on; a restart sends what it held', async () => {
    const outbox = new MemoryOutbox()
    const t = setup([HOOK, CHAT], {}, outbox)
    t.state.respond = (c) => new Response(null, { status: c.url.includes('audit') ? 410 : 200 })
    await t.sender.start({ timer: false })
    await t.append({ id: 'e1' })
    await t.append({ id: 'e2' })
    await t.step(3_600_000 - 1)
    expect(t.calls.filter((c) => c.url.includes('audit'))).toHaveLength(1)
    expect(t.calls.filter((c) => c.url.includes('chat'))).toHaveLength(2)
    expect(t.stateOf('audit', 'e1')).toMatchObject({
      status: 'disabled',
      lastStatusCode: 410,
      lastError: expect.stringContaining('disabled until Governor restarts'),
    })
    expect(t.stateOf('audit', 'e2')).toMatchObject({
      status: 'disabled',
      attempts: 0,
      lastError: expect.stringContaining('not sent'),
    })
    expect(t.sender.sinks().find((s) => s.name === 'audit')).toMatchObject({
      disabled: true,
      pending: 2,
      disabledReason: expect.stringContaining('410'),
    })
    expect(t.sender.sinks().find((s) => s.name === 'chat')).toMatchObject({
      disabled: false,
      url: 'http://chat.test/services/***/***/***',
    })
    expect(t.logs.some((l) => l.level === 'warn' && l.msg.includes('410 Gone'))).toBe(true)
    await t.sender.close()

    const again = setup([HOOK, CHAT], {}, outbox)
    again.clock.set(t.clock.now())
    await again.sender.start({ timer: false })
    await again.sender.idle()
    expect(
      again.calls.map((c) => `${c.url.includes('audit') ? 'audit' : 'chat'}:${JSON.parse(c.body).data?.id}`).sort(),
    ).toEqual(['audit:e1', 'audit:e2'])
    expect(again.stateOf('audit', 'e2')).toMatchObject({ status: 'delivered' })
  })

  it('gives up after the retry time and then stays quiet', async () => {
    const t = setup([HOOK], { maxRetryMillis: 10_000, backoffBaseMillis: 1000 })
    t.state.respond = () => new Response(null, { status: 500 })
    await t.sender.start({ timer: false })
    await t.append({ id: 'e1' })
    for (let i = 0; i < 20; i++) await t.step(1000)
    const s = t.stateOf('audit', 'e1')!
    expect(s.status).toBe('failed')
    expect(s.lastError).toMatch(/HTTP 500; gave up after \d+ attempts/)
    expect(t.calls.length).toBe(s.attempts)
    expect(t.calls.at(-1)!.at).toBeLessThanOrEqual(T0 + 10_000)
    await t.step(3_600_000)
    expect(t.calls.length).toBe(s.attempts)
    expect(await t.metric('governor_webhook_deliveries_total', { sink: 'audit', outcome: 'gave_up' })).toBe(1)
  })

  it('never starts a delivery that is in flight again', async () => {
    const t = setup()
    let answer!: (r: Response) => void
    t.state.respond = () =>
      new Promise<Response>((resolve) => {
        answer = resolve
      })
    await t.sender.start({ timer: false })
    t.outbox.append(event({ id: 'e1', recordedAt: T0 }))
    for (let i = 0; i < 5; i++) {
      t.clock.advance(5000)
      await t.sender.tick()
    }
    expect(t.calls).toHaveLength(1)
    answer(new Response(null, { status: 200 }))
    await t.sender.idle()
    await t.step(5000)
    expect(t.calls).toHaveLength(1)
    expect(t.stateOf('audit', 'e1')!.status).toBe('delivered')
  })

  it('retries timeouts and refused connections, and does not follow redirects', async () => {
    const t = setup()
    t.state.respond = (_c, n) => {
      if (n === 1) throw new DOMException('The operation timed out.', 'TimeoutError')
      if (n === 2) throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } })
      if (n === 3) return new Response(null, { status: 302, headers: { location: 'http://elsewhere/' } })
      return new Response(null, { status: 200 })
    }
    await t.sender.start({ timer: false })
    await t.append({ id: 'e1' })
    expect(t.stateOf('audit', 'e1')).toMatchObject({
      status: 'pending',
      lastStatusCode: 0,
      lastError: 'no answer within 1000 ms (GOVERNOR_WEBHOOK_TIMEOUT_MILLIS)',
    })
    await t.step(2000)
    expect(t.stateOf('audit', 'e1')).toMatchObject({ status: 'pending', lastError: 'fetch failed (ECONNREFUSED)' })
    await t.step(4000)
    expect(t.stateOf('audit', 'e1')).toMatchObject({
      status: 'pending',
      lastStatusCode: 302,
      lastError: expect.stringContaining('redirects are not followed'),
    })
    await t.step(8000)
    expect(t.stateOf('audit', 'e1')).toMatchObject({ status: 'delivered', attempts: 4 })
    expect(t.calls.map((c) => c.url)).toEqual(Array(4).fill('http://hooks.test/audit'))
  })

  it('sends a sink only the kinds and services it asks for', async () => {
    const t = setup([{ ...CHAT, kinds: ['deploy'], services: ['checkout'] }])
    await t.sender.start({ timer: false })
    await t.append({ id: 'n1', kind: 'note' })
    await t.append({ id: 'd1', service: 'search' }, deploy)
    await t.append({ id: 'd2', service: 'checkout' }, deploy)
    await t.step(5000)
    expect(t.calls).toHaveLength(1)
    expect(JSON.parse(t.calls[0]!.body).text).toMatch(/^:rocket: alice deployed checkout 1\.4\.2/)
  })

  it('after a restart, sends what the outbox holds: unheard events at once, retries when due, nothing final or older than the sink', async () => {
    const outbox = new MemoryOutbox()
    outbox.registered.set('audit', T0 - 10_000)
    outbox.events.push(event({ id: 'before-sink', recordedAt: T0 - 20_000 }))
    outbox.events.push(event({ id: 'unheard', recordedAt: T0 - 5000 }))
    outbox.events.push(event({ id: 'retrying', recordedAt: T0 - 4000 }))
    outbox.events.push(event({ id: 'done', recordedAt: T0 - 3000 }))
    const base = {
      sink: 'audit',
      kind: 'note',
      service: 'checkout',
      lastStatusCode: 500,
      lastError: 'HTTP 500',
      deliveredAt: 0,
      updatedAt: T0 - 1000,
    }
    await outbox.save({
      ...base,
      eventId: 'retrying',
      eventRecordedAt: T0 - 4000,
      attempts: 2,
      status: 'pending',
      nextAttemptAt: T0 + 30_000,
    })
    await outbox.save({
      ...base,
      eventId: 'done',
      eventRecordedAt: T0 - 3000,
      attempts: 1,
      status: 'delivered',
      nextAttemptAt: 0,
      lastStatusCode: 200,
    })
    const t = setup([HOOK], {}, outbox)
    await t.sender.start({ timer: false })
    await t.sender.idle()
    expect(t.calls.map((c) => JSON.parse(c.body).data.id)).toEqual(['unheard'])
    await t.step(29_999)
    expect(t.calls).toHaveLength(1)
    await t.step(1)
    expect(t.calls.map((c) => JSON.parse(c.body).data.id)).toEqual(['unheard', 'retrying'])
    expect(t.stateOf('audit', 'retrying')).toMatchObject({ status: 'delivered', attempts: 3 })
  })

  it('never throws when the outbox fails: logs once, counts, and still never sends twice', async () => {
    const outbox = new MemoryOutbox()
    const t = setup([HOOK], {}, outbox)
    await t.sender.start({ timer: false })
    outbox.failSaves = true
    await t.append({ id: 'e1' })
    await t.append({ id: 'e2' })
    const scan = outbox.scan.bind(outbox)
    outbox.scan = async () => {
      throw new Error('store down')
    }
    await t.step(1000)
    await t.step(1000)
    expect(t.calls).toHaveLength(2)
    expect(await t.metric('governor_webhook_sender_errors_total', { stage: 'save' })).toBe(2)
    expect(await t.metric('governor_webhook_sender_errors_total', { stage: 'scan' })).toBe(2)
    expect(t.logs.filter((l) => l.level === 'error')).toHaveLength(2) // one per stage
    outbox.scan = scan
    outbox.failSaves = false
    await t.step(60_000)
    expect(t.calls).toHaveLength(2)
    expect(t.logs.filter((l) => l.level === 'info' && l.msg.includes('works again'))).toHaveLength(1)
  })

  it('does nothing without sinks, and closes at once when idle', async () => {
    const t = setup([])
    await t.sender.start()
    await t.append({ id: 'e1' })
    expect(t.calls).toHaveLength(0)
    await t.sender.close()
  })
})
