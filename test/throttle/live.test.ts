import { readFileSync } from 'node:fs'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect } from '../../throttle/src/connect.ts'
import type { ThrottleClient } from '../../throttle/src/client.ts'
import type { ThrottleError } from '../../throttle/src/errors.ts'
import type { KnobChange } from '../../throttle/src/knob.ts'
import { startServer } from '../helpers/server.ts'
import { waitFor } from './fake-collector.ts'

// One real collector for the file (chDB binds one data directory per process).
let app: FastifyInstance
let url: string
const clients: ThrottleClient[] = []
beforeAll(async () => {
  ;({ app, url } = await startServer())
})
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()))
  await app?.close()
})

function open(
  service: string,
  extra: { stateFile?: string; onError?: (e: ThrottleError) => void } = {},
): ThrottleClient {
  const c = connect({ url, service, startupTimeoutMillis: 5_000, ...extra })
  clients.push(c)
  return c
}

async function api(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, any> }> {
  const res = await fetch(`${url}/api/v1${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: res.status, body: (await res.json()) as Record<string, any> }
}

describe('a client of a real collector', () => {
  it('declares its knobs, then sees a change made through the API: value, change event, and who made it', async () => {
    const client = open('checkout')
    const workers = client.knob('workers', {
      type: 'int',
      default: 20,
      min: 1,
      max: 200,
      unit: '{worker}',
      description: 'worker pool size',
    })
    const mode = client.knob('ui', { type: 'enum', values: ['classic', 'compact'], default: 'classic' })
    expect(await client.ready()).toBe('collector')
    expect(client.status).toBe('streaming')
    expect(workers.info).toMatchObject({
      source: 'collector',
      version: 1,
      changedBy: 'app:checkout',
      reason: 'declared',
    })
    const declared = await api('GET', '/knobs/checkout/workers')
    expect(declared.body).toMatchObject({
      type: 'int',
      default: 20,
      min: 1,
      max: 200,
      unit: '{worker}',
      description: 'worker pool size',
      value: 20,
    })
    expect((await api('GET', '/knobs/checkout/ui')).body).toMatchObject({
      type: 'enum',
      values: ['classic', 'compact'],
    })

    const changes: KnobChange<number>[] = []
    workers.on('change', (_v, c) => changes.push(c))
    const answer = await api('POST', '/knobs/checkout/workers/value', {
      value: 40,
      actor: 'alice',
      reason: 'queue backing up',
    })
    expect(answer.status).toBe(200)
    await waitFor(() => workers.value === 40, 'the new value')
    expect(changes).toEqual([
      expect.objectContaining({
        name: 'workers',
        value: 40,
        previous: 20,
        changedBy: 'alice',
        reason: 'queue backing up',
        changeId: answer.body.change_id,
        version: 2,
        mode: 'manual',
        source: 'collector',
      }),
    ])
    expect(mode.value).toBe('classic')
  })

  it('starts a second app on the value ops set, not the default', async () => {
    const client = open('checkout')
    const workers = client.knob('workers', {
      type: 'int',
      default: 20,
      min: 1,
      max: 200,
      unit: '{worker}',
      description: 'worker pool size',
    })
    expect(workers.value).toBe(20)
    expect(await client.ready()).toBe('collector')
    expect(workers.value).toBe(40)
    expect(workers.info.changedBy).toBe('alice')
  })

  it('keeps a percent flag sticky as ops widen the rollout, and obeys a pinned kill switch', async () => {
    const client = open('search')
    const flag = client.flag('new-search', { description: 'the new search page' })
    const launch = client.launch('ranker-v2')
    await client.ready()
    const users = Array.from({ length: 5_000 }, (_, i) => `user-${i}`)
    expect(users.filter((u) => flag.enabled(u))).toEqual([])
    await api('POST', '/knobs/search/new-search/value', { value: 10, actor: 'alice', reason: 'canary' })
    await waitFor(() => flag.percent === 10, 'the canary')
    const canary = users.filter((u) => flag.enabled(u))
    expect(canary.length).toBeGreaterThan(400)
    expect(canary.length).toBeLessThan(600)
    await api('POST', '/knobs/search/new-search/value', { value: 50, actor: 'alice', reason: 'widen' })
    await waitFor(() => flag.percent === 50, 'the wider rollout')
    expect(canary.every((u) => flag.enabled(u))).toBe(true)

    await api('POST', '/knobs/search/ranker-v2/value', { value: 'dark', actor: 'bob', reason: 'shadow traffic' })
    await waitFor(() => launch.mode('u') === 'dark', 'dark')
    const pin = await api('POST', '/knobs/search/ranker-v2/pin', {
      value: 'off',
      actor: 'oncall',
      reason: 'incident 7: kill switch',
    })
    expect(pin.body.mode).toBe('pinned')
    await waitFor(() => launch.mode('u') === 'off', 'the kill switch')
    expect(launch.knob.info).toMatchObject({ mode: 'pinned', changedBy: 'oncall', reason: 'incident 7: kill switch' })
    expect(
      (await api('POST', '/knobs/search/ranker-v2/value', { value: 'on', actor: 'bob', reason: 'oops' })).status,
    ).toBe(409)
  })

  it('keeps the last known good values in the state file as they change', async () => {
    const stateFile = join(mkdtempSync(join(tmpdir(), 'throttle-live-')), 'knobs.json')
    const client = open('cart', { stateFile })
    const batch = client.knob('batch', { type: 'int', default: 10, min: 1, max: 100 })
    await client.ready()
    const answer = await api('POST', '/knobs/cart/batch/value', { value: 25, actor: 'carol', reason: 'bigger batches' })
    await waitFor(() => batch.value === 25, '25')
    await waitFor(() => {
      try {
        return JSON.parse(readFileSync(stateFile, 'utf8')).knobs.batch.value === 25
      } catch {
        return false
      }
    }, 'the state file')
    expect(JSON.parse(readFileSync(stateFile, 'utf8'))).toMatchObject({
      format: 'governor.throttle.state/1',
      service: 'cart',
      knobs: {
        batch: {
          value: 25,
          version: 2,
          change_id: answer.body.change_id,
          changed_by: 'carol',
          reason: 'bigger batches',
        },
      },
    })
  })
})
