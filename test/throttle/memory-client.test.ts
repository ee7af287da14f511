import { describe, expect, it } from 'vitest'
import { bucketOf } from '../../throttle/src/bucketing.ts'
import { isThrottleError, type ThrottleError } from '../../throttle/src/errors.ts'
import { createMemoryClient } from '../../throttle/src/memory-client.ts'
import type { KnobChange } from '../../throttle/src/knob.ts'

const tick = () => new Promise((r) => setImmediate(r))

describe('a client in memory', () => {
  it('declares a knob on its default, and follows set() with the value and a change event', async () => {
    const client = createMemoryClient({ service: 'checkout' })
    const workers = client.knob('workers', { type: 'int', default: 20, min: 1, max: 200 })
    expect(workers.value).toBe(20)
    expect(workers.info.source).toBe('default')
    const seen: KnobChange<number>[] = []
    workers.on('change', (_v, c) => seen.push(c))
    client.set('workers', 40, { changedBy: 'alice', reason: 'queue backing up', changeId: 'c-1' })
    expect(workers.value).toBe(40)
    expect(seen).toEqual([
      expect.objectContaining({
        name: 'workers',
        value: 40,
        previous: 20,
        changedBy: 'alice',
        reason: 'queue backing up',
        changeId: 'c-1',
        version: 1,
        source: 'memory',
      }),
    ])
    client.set('workers', 40)
    expect(seen).toHaveLength(1) // the same value again is no change
    expect(await client.ready()).toBe('local')
  })

  it('refuses a value that does not fit the declaration, keeps the old one and reports it', async () => {
    const errors: ThrottleError[] = []
    const client = createMemoryClient({ service: 'checkout', onError: (e) => errors.push(e) })
    const workers = client.knob('workers', { type: 'int', default: 20, min: 1, max: 200 })
    const changes: number[] = []
    workers.on('change', (v) => changes.push(v))
    client.set('workers', 500)
    client.set('workers', 'many')
    client.set('workers', 2.5)
    await tick()
    expect(workers.value).toBe(20)
    expect(changes).toEqual([])
    expect(errors.map((e) => e.code)).toEqual([
      'THROTTLE_ERR_VALUE_REFUSED',
      'THROTTLE_ERR_VALUE_REFUSED',
      'THROTTLE_ERR_VALUE_REFUSED',
    ])
    expect(errors[0]!.message).toMatch(/knob workers: refused 500 is outside the bounds \[1, 200\].*keeping 20/)
    expect(errors[0]!.knob).toBe('workers')
  })

  it('returns the same handle for the same declaration and refuses a different one', () => {
    const client = createMemoryClient({ service: 'checkout' })
    const a = client.knob('workers', { type: 'int', default: 20, min: 1, max: 200 })
    expect(client.knob('workers', { type: 'int', default: 20, min: 1, max: 200 })).toBe(a)
    let err: unknown
    try {
      client.knob('workers', { type: 'int', default: 10, min: 1, max: 200 })
    } catch (e) {
      err = e
    }
    expect(isThrottleError(err) && err.code).toBe('THROTTLE_ERR_DECLARATION_CONFLICT')
    expect(() => client.knob('bad name', { type: 'bool', default: true })).toThrow(/knob name "bad name"/)
  })

  it('keeps other listeners and the client running when a listener throws', async () => {
    const errors: ThrottleError[] = []
    const client = createMemoryClient({ service: 'checkout', onError: (e) => errors.push(e) })
    const k = client.knob('batch', { type: 'int', default: 1 })
    const seen: number[] = []
    k.on('change', () => {
      throw new Error('boom')
    })
    k.on('change', (v) => seen.push(v))
    client.set('batch', 2)
    await tick()
    expect(seen).toEqual([2])
    expect(k.value).toBe(2)
    expect(errors.map((e) => e.code)).toEqual(['THROTTLE_ERR_LISTENER'])
  })

  it('turns a percent flag up without moving anyone out, and a bool flag on for everyone', () => {
    const client = createMemoryClient({ service: 'search' })
    const flag = client.flag('new-search')
    const users = Array.from({ length: 10_000 }, (_, i) => `u${i}`)
    expect(users.some((u) => flag.enabled(u))).toBe(false)
    client.set('new-search', 10)
    const at10 = users.filter((u) => flag.enabled(u))
    // Exactly the documented buckets: another language's client must agree with this one.
    expect(users.every((u) => flag.enabled(u) === bucketOf('new-search', u) < 1_000)).toBe(true)
    expect(at10.length).toBeGreaterThan(850)
    expect(at10.length).toBeLessThan(1150)
    client.set('new-search', 30)
    expect(at10.every((u) => flag.enabled(u))).toBe(true)
    expect(users.filter((u) => flag.enabled(u)).length).toBeGreaterThan(2700)
    client.set('new-search', 100)
    expect(users.every((u) => flag.enabled(u))).toBe(true)
    const cache = client.flag('cache', { type: 'bool' })
    expect(cache.enabled('anyone')).toBe(false)
    client.set('cache', true)
    expect(cache.enabled('anyone')).toBe(true)
    expect(cache.percent).toBe(100)
  })

  it('runs a dark launch off, dark, on, and splits on between on and dark with a rollout', () => {
    const client = createMemoryClient({ service: 'search' })
    const launch = client.launch('ranker-v2')
    expect(launch.mode('u1')).toBe('off')
    expect(launch.runs('u1')).toBe(false)
    client.set('ranker-v2', 'dark')
    expect(launch.mode('u1')).toBe('dark')
    expect(launch.runs('u1') && !launch.shows('u1')).toBe(true)
    client.set('ranker-v2', 'on')
    expect(launch.mode('u1')).toBe('on')
    const split = client.launch('ranker-v3', { rollout: 25 })
    client.set('ranker-v3', 'on')
    expect(
      Array.from({ length: 1_000 }, (_, i) => `u${i}`).every(
        (u) => split.mode(u) === (bucketOf('ranker-v3', u) < 2_500 ? 'on' : 'dark'),
      ),
    ).toBe(true)
    const modes = Array.from({ length: 10_000 }, (_, i) => split.mode(`u${i}`))
    const on = modes.filter((m) => m === 'on').length
    expect(on).toBeGreaterThan(2200)
    expect(on).toBeLessThan(2800)
    expect(modes.every((m) => m === 'on' || m === 'dark')).toBe(true)
    expect(split.mode()).toBe('dark') // no key, no bucket: the new code runs, unseen
    client.set('ranker-v3', 'off', { mode: 'pinned', reason: 'kill switch' })
    expect(Array.from({ length: 100 }, (_, i) => split.mode(`u${i}`)).every((m) => m === 'off')).toBe(true)
    expect(split.knob.info.mode).toBe('pinned')
  })

  it('throws a branded error for a declaration after close', async () => {
    const client = createMemoryClient({ service: 'checkout' })
    await client.close()
    expect(client.status).toBe('closed')
    let err: unknown
    try {
      client.knob('late', { type: 'bool', default: false })
    } catch (e) {
      err = e
    }
    expect(isThrottleError(err) && err.code).toBe('THROTTLE_ERR_CLOSED')
  })
})
