import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkAnswers } from '../../helpers/answer-schemas.ts'
import { startServer } from '../../helpers/server.ts'

let app: FastifyInstance
let url: string

beforeAll(async () => {
  ;({ app, url } = await startServer({}, { instrument: checkAnswers() }))
})
afterAll(async () => {
  await app?.close()
})

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await app.inject({ method: method as 'GET', url: `/api/v1${path}`, payload: body as object, headers })
  return {
    status: res.statusCode,
    body: res.body === '' ? undefined : (res.json() as Record<string, any>),
    headers: res.headers,
  }
}
const who = { actor: 'alice', reason: 'load test' }

describe('knobs', () => {
  it('declares a knob, and declaring it again the same way changes nothing', async () => {
    const def = { type: 'int', default: 20, min: 1, max: 200, unit: '{worker}', description: 'worker pool size' }
    const first = await call('PUT', '/knobs/checkout/workers', def)
    expect(first.status).toBe(201)
    expect(first.body).toMatchObject({
      service: 'checkout',
      name: 'workers',
      type: 'int',
      value: 20,
      mode: 'manual',
      version: 1,
      min: 1,
      max: 200,
    })
    const again = await call('PUT', '/knobs/checkout/workers', def)
    expect(again.status).toBe(200)
    expect(again.body!.version).toBe(1)
  })

  it('sets a value with a reason, refusing a wrong type, a missing reason and out-of-bounds values', async () => {
    expect((await call('POST', '/knobs/checkout/workers/value', { value: 40, ...who })).body).toMatchObject({
      value: 40,
      version: 2,
      changed_by: 'alice',
      reason: 'load test',
    })
    const noReason = await call('POST', '/knobs/checkout/workers/value', { value: 41, actor: 'alice' })
    expect(noReason.status).toBe(400)
    expect(noReason.body!.error.message).toBe('reason is required')
    const wrongType = await call('POST', '/knobs/checkout/workers/value', { value: 'many', ...who })
    expect(wrongType.status).toBe(400)
    const fraction = await call('POST', '/knobs/checkout/workers/value', { value: 2.5, ...who })
    expect(fraction.status).toBe(400)
    const tooMany = await call('POST', '/knobs/checkout/workers/value', { value: 500, ...who })
    expect(tooMany.status).toBe(422)
    expect(tooMany.body!.error.message).toBe('value 500 is outside the bounds [1, 200]')
    expect((await call('GET', '/knobs/checkout/workers')).body!.value).toBe(40)
  })

  it('keeps a value a person set when a narrower range is declared later, and reports that it no longer fits', async () => {
    const res = await call('PUT', '/knobs/checkout/workers', { type: 'int', default: 20, min: 1, max: 30 })
    expect(res.body).toMatchObject({
      value: 40,
      max: 30,
      version: 3,
      mode: 'manual',
      follows_default: false,
      conflict: 'value 40 is outside the bounds [1, 30]',
    })
    expect((await call('GET', '/knobs/checkout/workers')).body).toMatchObject({
      value: 40,
      conflict: 'value 40 is outside the bounds [1, 30]',
    })
  })

  it('pins a knob: nothing else changes it until it is unpinned', async () => {
    expect(
      (await call('POST', '/knobs/checkout/workers/pin', { value: 5, ...who, reason: 'incident 42' })).body,
    ).toMatchObject({ mode: 'pinned', value: 5 })
    const refused = await call('POST', '/knobs/checkout/workers/value', { value: 10, ...who })
    expect(refused.status).toBe(409)
    expect(refused.body!.error.message).toMatch(/pinned at 5 by alice \(incident 42\)/)
    expect((await call('DELETE', '/knobs/checkout/workers/pin?actor=bob&reason=resolved')).body).toMatchObject({
      mode: 'manual',
      value: 5,
      changed_by: 'bob',
    })
  })

  it('keeps the history and reverts to a version', async () => {
    const { body } = await call('GET', '/knobs/checkout/workers')
    expect(body!.history.map((h: { version: number; value: number }) => [h.version, h.value])).toEqual([
      [5, 5],
      [4, 5],
      [3, 40],
      [2, 40],
      [1, 20],
    ])
    expect((await call('POST', '/knobs/checkout/workers/revert', { version: 2, ...who })).body).toMatchObject({
      value: 30,
      version: 6,
    })
  })

  it('records every change in the change log', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/events?service=checkout&kind=knob&limit=10' })
    const titles = (res.json() as { events: { title: string }[] }).events.map((e) => e.title)
    expect(titles).toContain('alice set checkout/workers 20 → 40')
    expect(titles).toContain('alice pinned checkout/workers at 5')
    expect(titles).toContain('bob unpinned checkout/workers')
  })

  it('handles every knob type: bool, percent, enum, string', async () => {
    expect((await call('PUT', '/knobs/checkout/new-search', { type: 'percent', default: 0 })).body).toMatchObject({
      min: 0,
      max: 100,
    })
    expect((await call('POST', '/knobs/checkout/new-search/value', { value: 101, ...who })).status).toBe(422)
    expect(
      (await call('PUT', '/knobs/checkout/ui', { type: 'enum', values: ['off', 'dark', 'on'], default: 'off' })).status,
    ).toBe(201)
    const bad = await call('POST', '/knobs/checkout/ui/value', { value: 'maybe', ...who })
    expect(bad.body!.error.message).toBe('value "maybe" is not one of "off", "dark", "on"')
    expect((await call('PUT', '/knobs/checkout/cache', { type: 'bool', default: 'yes' })).status).toBe(400)
    expect((await call('PUT', '/knobs/checkout/banner', { type: 'string', default: 'hello' })).body!.value).toBe(
      'hello',
    )
  })

  it('answers 304 to a poll whose ETag still holds, and a new ETag after a change', async () => {
    const first = await call('GET', '/knobs?service=checkout')
    const etag = first.headers.etag as string
    expect((await call('GET', '/knobs?service=checkout', undefined, { 'if-none-match': etag })).status).toBe(304)
    await call('POST', '/knobs/checkout/ui/value', { value: 'dark', ...who })
    const after = await call('GET', '/knobs?service=checkout', undefined, { 'if-none-match': etag })
    expect(after.status).toBe(200)
    expect(after.headers.etag).not.toBe(etag)
  })

  it('reverts every knob changed since a deploy in one audited action', async () => {
    await call('PUT', '/knobs/cart/batch', { type: 'int', default: 10, min: 1, max: 100 })
    await call('PUT', '/knobs/cart/cache', { type: 'bool', default: true })
    await new Promise((r) => setTimeout(r, 5))
    const deploy = (await call('POST', '/deploys', { service: 'cart', version: '2.0', actor: 'ci' })).body!
    await new Promise((r) => setTimeout(r, 5))
    await call('POST', '/knobs/cart/batch/value', { value: 50, ...who })
    await call('POST', '/knobs/cart/cache/value', { value: false, ...who })
    const res = await call('POST', '/changesets/revert', {
      since_deploy: deploy.id,
      actor: 'oncall',
      reason: 'roll forward: back to pre-deploy knobs',
    })
    expect(res.body!.reverted.map((k: { name: string; value: unknown }) => [k.name, k.value]).sort()).toEqual([
      ['batch', 10],
      ['cache', true],
    ])
    const events = (await app.inject({ method: 'GET', url: '/api/v1/events?q=changeset&service=cart' })).json() as {
      events: { title: string }[]
    }
    expect(events.events[0]!.title).toBe('oncall reverted 2 knobs of cart to before deploy cart 2.0')
  })

  it('streams a snapshot, then changes, and resumes from Last-Event-ID', async () => {
    const ac = new AbortController()
    const res = await fetch(`${url}/api/v1/knobs/stream?service=checkout`, { signal: ac.signal })
    expect(res.headers.get('content-type')).toBe('text/event-stream')
    const reader = res.body!.getReader()
    let text = ''
    const until = async (pattern: RegExp) => {
      while (!pattern.test(text)) text += new TextDecoder().decode((await reader.read()).value)
    }
    await until(/event: snapshot\ndata: .*\n\n/)
    expect(text).toContain('"name":"workers"')
    await call('POST', '/knobs/checkout/new-search/value', { value: 25, ...who })
    await until(/event: knob\ndata: .*"name":"new-search".*\n\n/)
    const lastId = /id: (\S+)\nevent: knob/.exec(text)![1]!
    ac.abort()
    await call('POST', '/knobs/checkout/new-search/value', { value: 50, ...who })
    const resumed = await fetch(`${url}/api/v1/knobs/stream?service=checkout`, { headers: { 'last-event-id': lastId } })
    const r2 = resumed.body!.getReader()
    let t2 = ''
    while (!/event: knob\ndata: .*\n\n/.test(t2)) t2 += new TextDecoder().decode((await r2.read()).value)
    expect(t2).not.toContain('event: snapshot')
    expect(t2).toContain('"value":50')
    await r2.cancel()
  })
})
