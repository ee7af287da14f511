import { afterEach, describe, expect, it } from 'vitest'
import type { ThrottleClient } from '../../throttle/src/client.ts'
import { connect } from '../../throttle/src/connect.ts'
import type { ThrottleError } from '../../throttle/src/errors.ts'
import type { ConnectOptions } from '../../throttle/src/options.ts'
import { FakeCollector, waitFor } from './fake-collector.ts'

// Against a stand-in collector: the real one validates every value and never cuts a stream.

const WORKERS = {
  service: 'checkout',
  name: 'workers',
  type: 'int',
  default: 20,
  min: 1,
  max: 200,
  mode: 'manual',
  version: 2,
  value: 40,
  change_id: 'c-2',
  changed_by: 'alice',
  reason: 'load',
}
const fast: Partial<ConnectOptions> = {
  reconnectInitialDelayMillis: 20,
  reconnectMaxDelayMillis: 100,
  pollIntervalMillis: 50,
  pollAfterStreamFailures: 2,
  startupTimeoutMillis: 2_000,
}

let fake: FakeCollector
let client: ThrottleClient | undefined
afterEach(async () => {
  await client?.close()
  client = undefined
  await fake?.close()
})

function start(errors: ThrottleError[] = [], extra: Partial<ConnectOptions> = {}): ThrottleClient {
  client = connect({ url: fake.url, service: 'checkout', ...fast, onError: (e) => errors.push(e), ...extra })
  return client
}

describe('the client on the wire', () => {
  it('refuses a value of the wrong type or out of bounds, reports it, keeps the old one, and takes the next good one', async () => {
    fake = await new FakeCollector().start()
    fake.knobs.set('workers', WORKERS)
    const errors: ThrottleError[] = []
    const c = start(errors)
    const workers = c.knob('workers', { type: 'int', default: 20, min: 1, max: 200 })
    const changes: number[] = []
    workers.on('change', (v) => changes.push(v))
    expect(await c.ready()).toBe('collector')
    expect(workers.value).toBe(40)
    fake.push({ name: 'workers', value: 'many', version: 3, changed_by: 'mallory' })
    fake.push({ name: 'workers', value: 500, version: 4 })
    fake.push({ name: 'workers', value: 2.5, version: 5 })
    fake.push({ name: 'workers', value: 60, version: 6, change_id: 'c-6' })
    await waitFor(() => workers.value === 60, 'the good value')
    expect(changes).toEqual([40, 60])
    const refused = errors.filter((e) => e.code === 'THROTTLE_ERR_VALUE_REFUSED')
    expect(refused.map((e) => e.message)).toEqual([
      expect.stringMatching(
        /knob workers: refused "many" is not a finite number \(int knob\) \(version 3, changed by mallory\); keeping 40/,
      ),
      expect.stringMatching(/refused 500 is outside the bounds \[1, 200\]/),
      expect.stringMatching(/refused 2.5 is not a whole number/),
    ])
    expect(workers.info.changeId).toBe('c-6')
  })

  it('does not let a late answer to a declaration take back a newer value from the stream', async () => {
    fake = await new FakeCollector().start()
    fake.knobs.set('workers', WORKERS)
    fake.putDelayMillis = 300
    const c = start()
    const workers = c.knob('workers', { type: 'int', default: 20, min: 1, max: 200 })
    await waitFor(() => workers.value === 40, 'the snapshot')
    fake.push({ name: 'workers', value: 50, version: 3 })
    await waitFor(() => workers.value === 50, 'the streamed change')
    expect(await c.ready()).toBe('collector') // after the declaration's answer (version 2, value 40)
    expect(fake.count('PUT', '/api/v1/knobs/checkout/workers')).toBe(1)
    expect(workers.value).toBe(50)
    expect(workers.info.version).toBe(3)
  })

  it('sends the declarations of one tick together once the tick is over', async () => {
    fake = await new FakeCollector().start()
    const calls: string[] = []
    const c = start([], {
      fetch: (input, init) => {
        calls.push(`${init?.method ?? 'GET'} ${String(input)}`)
        return fetch(input, init)
      },
    })
    c.knob('a', { type: 'int', default: 1 })
    c.knob('b', { type: 'bool', default: true })
    await Promise.resolve() // still the same tick: an app's module awaiting something already settled
    c.knob('c', { type: 'string', default: 'x' })
    expect(calls.filter((x) => x.startsWith('PUT'))).toEqual([])
    await new Promise((r) => setImmediate(r))
    expect(calls.filter((x) => x.startsWith('PUT')).map((x) => x.split('/').pop())).toEqual(['a', 'b', 'c'])
    expect(await c.ready()).toBe('collector')
    expect(JSON.parse(JSON.stringify(fake.knobs.get('c')))).toMatchObject({ type: 'string', default: 'x' })
  })

  it('reconnects after the stream ends, sending Last-Event-ID, and gets what it missed', async () => {
    fake = await new FakeCollector().start()
    fake.knobs.set('workers', WORKERS)
    const c = start()
    const workers = c.knob('workers', { type: 'int', default: 20, min: 1, max: 200 })
    await c.ready()
    fake.push({ name: 'workers', value: 41, version: 3 })
    await waitFor(() => workers.value === 41, '41')
    fake.cutStreams()
    await waitFor(() => c.status === 'disconnected', 'the client to see the cut')
    fake.push({ name: 'workers', value: 42, version: 4 }) // while no stream is open
    await waitFor(() => workers.value === 42, 'the missed change')
    const streams = fake.requests.filter((r) => r.path.startsWith('/api/v1/knobs/stream'))
    expect(streams.length).toBe(2)
    expect(streams[0]!.headers['last-event-id']).toBeUndefined()
    expect(streams[1]!.headers['last-event-id']).toBe('fake.1')
    expect(streams[1]!.path).toBe('/api/v1/knobs/stream?service=checkout')
    expect(c.status).toBe('streaming')
  })

  it('declares again the knobs a collector no longer has (it lost its data)', async () => {
    fake = await new FakeCollector().start()
    const c = start()
    const workers = c.knob('workers', { type: 'int', default: 20, min: 1, max: 200 })
    await c.ready()
    expect(fake.count('PUT', '/api/v1/knobs/checkout/workers')).toBe(1)
    fake.knobs.clear()
    fake.sent.length = 0 // the new collector knows no event id: it sends a snapshot
    fake.cutStreams()
    await waitFor(() => fake.count('PUT', '/api/v1/knobs/checkout/workers') === 2, 'the second declaration')
    expect(fake.knobs.get('workers')).toMatchObject({ type: 'int', default: 20, max: 200 })
    expect(workers.value).toBe(20)
  })

  it('polls the list with ETag when the stream keeps failing, and follows the changes', async () => {
    fake = await new FakeCollector().start()
    fake.knobs.set('workers', WORKERS)
    fake.streamStatus = 502 // a proxy that does not pass event streams
    const errors: ThrottleError[] = []
    const c = start(errors, { streamRetryIntervalMillis: 1_000 })
    const workers = c.knob('workers', { type: 'int', default: 20, min: 1, max: 200 })
    expect(await c.ready()).toBe('collector')
    expect(c.status).toBe('polling')
    expect(workers.value).toBe(40)
    await waitFor(
      () => fake.requests.some((r) => r.path.startsWith('/api/v1/knobs?') && r.headers['if-none-match'] !== undefined),
      'a conditional poll',
    )
    fake.push({ name: 'workers', value: 70, version: 3 })
    await waitFor(() => workers.value === 70, 'the polled change')
    expect(fake.count('GET', '/api/v1/knobs/stream')).toBe(2) // pollAfterStreamFailures, and not again before streamRetryIntervalMillis
    expect(errors.map((e) => e.message)).toContainEqual(
      expect.stringMatching(/the knob stream failed 2 times in a row; polling/),
    )
    fake.streamStatus = 200 // the proxy is fixed: the stream is tried again and taken back
    await waitFor(() => c.status === 'streaming', 'the stream again', 5_000)
    fake.push({ name: 'workers', value: 71, version: 4 })
    await waitFor(() => workers.value === 71, 'a streamed change')
  })

  it('starts on the defaults within the start-up timeout when nothing answers, and never throws', async () => {
    fake = await new FakeCollector().start()
    const url = fake.url
    await fake.close()
    const errors: ThrottleError[] = []
    client = connect({ url, service: 'checkout', startupTimeoutMillis: 200, onError: (e) => errors.push(e) })
    const workers = client.knob('workers', { type: 'int', default: 20, min: 1, max: 200 })
    const started = performance.now()
    expect(await client.ready()).toBe('local')
    expect(performance.now() - started).toBeLessThan(700)
    expect(workers.value).toBe(20)
    expect(client.status).toBe('disconnected')
    expect(errors.some((e) => e.code === 'THROTTLE_ERR_CONNECTION')).toBe(true)
    fake = await new FakeCollector().start() // for afterEach
  })
})
