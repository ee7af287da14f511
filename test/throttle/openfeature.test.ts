import { ErrorCode, OpenFeature, ProviderEvents } from '@openfeature/server-sdk'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ThrottleClient } from '../../throttle/src/client.ts'
import { bucketOf } from '../../throttle/src/bucketing.ts'
import { connect } from '../../throttle/src/connect.ts'
import { GovernorProvider } from '../../throttle/src/openfeature.ts'
import { startServer } from '../helpers/server.ts'
import { waitFor } from './fake-collector.ts'

let app: FastifyInstance
let url: string
let client: ThrottleClient
const events: { flagsChanged: string[]; providerName: string }[] = []

async function change(name: string, value: unknown, actor = 'alice', reason = 'rollout'): Promise<Record<string, any>> {
  const res = await fetch(`${url}/api/v1/knobs/search/${name}/value`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ value, actor, reason }),
  })
  expect(res.status).toBe(200)
  return (await res.json()) as Record<string, any>
}

beforeAll(async () => {
  ;({ app, url } = await startServer())
  // Knobs another app declared: the provider serves them too (from the collector's list).
  await fetch(`${url}/api/v1/knobs/search/page-size`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'int', default: 25, min: 5, max: 100 }),
  })
  await fetch(`${url}/api/v1/knobs/search/theme`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'string', default: '{"color": "blue", "dense": false}' }),
  })
  client = connect({ url, service: 'search', startupTimeoutMillis: 5_000 })
  client.flag('new-search')
  client.flag('cache', { type: 'bool', default: true })
  client.launch('ranker-v2')
  OpenFeature.addHandler(ProviderEvents.ConfigurationChanged, (d) => {
    events.push({ flagsChanged: (d?.flagsChanged as string[] | undefined) ?? [], providerName: d?.providerName ?? '' })
  })
  await OpenFeature.setProviderAndWait(new GovernorProvider(client))
})
afterAll(async () => {
  await OpenFeature.close()
  await client?.close()
  await app?.close()
})

describe('the OpenFeature provider', () => {
  it("resolves a percent flag by the targeting key's bucket, citing the change that set it", async () => {
    const of = OpenFeature.getClient()
    const answer = await change('new-search', 30, 'alice', 'widen the canary')
    await waitFor(() => client.lookup('new-search')?.value === 30, 'the change')
    const users = Array.from({ length: 2_000 }, (_, i) => `user-${i}`)
    const results = await Promise.all(users.map((u) => of.getBooleanValue('new-search', false, { targetingKey: u })))
    for (let i = 0; i < users.length; i++) expect(results[i]).toBe(bucketOf('new-search', users[i]!) < 3_000)
    expect(results.filter(Boolean).length).toBeGreaterThan(500)
    const details = await of.getBooleanDetails('new-search', false, { targetingKey: 'user-1' })
    expect(details).toMatchObject({
      reason: 'SPLIT',
      flagMetadata: {
        change_id: answer.change_id,
        changed_by: 'alice',
        reason: 'widen the canary',
        version: answer.version,
        type: 'percent',
      },
    })
    const noKey = await of.getBooleanDetails('new-search', true)
    expect(noKey).toMatchObject({ value: true, errorCode: ErrorCode.TARGETING_KEY_MISSING, reason: 'ERROR' })
  })

  it('resolves numbers, strings, objects and bools from knobs, and refuses a type that does not fit', async () => {
    const of = OpenFeature.getClient()
    const answer = await change('page-size', 50, 'bob', 'bigger pages')
    await waitFor(() => client.lookup('page-size')?.value === 50, 'the change')
    const size = await of.getNumberDetails('page-size', 10)
    expect(size).toMatchObject({
      value: 50,
      reason: 'STATIC',
      flagMetadata: { change_id: answer.change_id, changed_by: 'bob', reason: 'bigger pages', mode: 'manual' },
    })
    expect(await of.getObjectValue('theme', {})).toEqual({ color: 'blue', dense: false })
    expect(await of.getObjectValue('page-size', {})).toMatchObject({
      name: 'page-size',
      type: 'int',
      value: 50,
      min: 5,
      max: 100,
      changed_by: 'bob',
    })
    expect(await of.getBooleanValue('cache', false)).toBe(true)
    expect(await of.getStringValue('ranker-v2', 'x', { targetingKey: 'u' })).toBe('off')
    const wrong = await of.getStringDetails('page-size', 'dflt')
    expect(wrong).toMatchObject({
      value: 'dflt',
      errorCode: ErrorCode.TYPE_MISMATCH,
      flagMetadata: { change_id: answer.change_id },
    })
    expect(await of.getNumberDetails('no-such-knob', 7)).toMatchObject({
      value: 7,
      errorCode: ErrorCode.FLAG_NOT_FOUND,
    })
    await change('theme', 'not json', 'bob', 'oops')
    await waitFor(() => client.lookup('theme')?.value === 'not json', 'the change')
    expect(await of.getObjectDetails('theme', { fallback: true })).toMatchObject({
      value: { fallback: true },
      errorCode: ErrorCode.PARSE_ERROR,
    })
  })

  it('emits ConfigurationChanged naming the flags that changed', async () => {
    events.length = 0
    await change('ranker-v2', 'dark', 'carol', 'shadow traffic')
    await waitFor(() => events.some((e) => e.flagsChanged.includes('ranker-v2')), 'the event')
    expect(events.at(-1)).toMatchObject({ flagsChanged: ['ranker-v2'], providerName: 'governor' })
    const of = OpenFeature.getClient()
    expect(await of.getStringDetails('ranker-v2', 'off', { targetingKey: 'u' })).toMatchObject({
      value: 'dark',
      flagMetadata: { changed_by: 'carol', reason: 'shadow traffic' },
    })
    expect(await of.getBooleanValue('ranker-v2', true, { targetingKey: 'u' })).toBe(false) // dark: not shown
    events.length = 0
    await change('page-size', 60, 'bob', 'even bigger') // a knob this app did not declare
    await waitFor(() => events.some((e) => e.flagsChanged.includes('page-size')), 'the event for an undeclared knob')
  })
})
