import { describe, expect, it } from 'vitest'
import type { ThrottleError } from '../../throttle/src/errors.ts'
import type { KnobChange } from '../../throttle/src/knob.ts'
import { createMemoryClient } from '../../throttle/src/memory-client.ts'

describe('Flag.value and its change event', () => {
  it('reads the percentage and tells listeners who changed it, with enabled() already updated', () => {
    const client = createMemoryClient({ service: 'checkout' })
    const flag = client.flag('new-search')
    expect(flag.value).toBe(0)
    const seen: { value: number | boolean; change: KnobChange; allIn: boolean }[] = []
    flag.on('change', (value, change) => {
      seen.push({ value, change, allIn: flag.enabled('any-user') })
    })
    client.set('new-search', 100, { changedBy: 'alice', reason: 'canary done' })
    expect(flag.value).toBe(100)
    expect(seen).toHaveLength(1)
    expect(seen[0]).toMatchObject({
      value: 100,
      allIn: true,
      change: { name: 'new-search', value: 100, previous: 0, changedBy: 'alice', reason: 'canary done' },
    })
    client.set('new-search', 100) // the same value again: no event
    expect(seen).toHaveLength(1)
  })

  it("gives a bool flag's value as true or false", () => {
    const client = createMemoryClient({ service: 'checkout' })
    const cache = client.flag('result-cache', { type: 'bool', default: true })
    const values: unknown[] = []
    cache.on('change', (v) => values.push(v))
    expect(cache.value).toBe(true)
    client.set('result-cache', false)
    expect(cache.value).toBe(false)
    expect(values).toEqual([false])
  })

  it('stops calling a listener after off(), and reports one that throws without skipping the next', async () => {
    const errors: ThrottleError[] = []
    const client = createMemoryClient({ service: 'checkout', onError: (e) => errors.push(e) })
    const flag = client.flag('new-search')
    const calls: number[] = []
    const first = (v: number | boolean) => {
      calls.push(Number(v))
    }
    flag
      .on('change', () => {
        throw new Error('boom')
      })
      .on('change', first)
    client.set('new-search', 5)
    expect(calls).toEqual([5])
    await Promise.resolve() // errors are reported in a microtask
    expect(errors.map((e) => [e.code, e.message])).toEqual([
      ['THROTTLE_ERR_LISTENER', 'a change listener of knob new-search threw: boom'],
    ])
    flag.off('change', first)
    client.set('new-search', 10)
    expect(calls).toEqual([5])
    expect(flag.value).toBe(10)
  })
})
