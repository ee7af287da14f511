import { describe, expect, it } from 'vitest'
import { Server } from '../../../bench/control/server.ts'

describe('Server', () => {
  it('starts jobs while slots are free, queues the rest and starts them first in, first out', () => {
    const s = new Server<string>(2)
    expect(s.arrive('a')).toBe(true)
    expect(s.arrive('b')).toBe(true)
    expect(s.arrive('c')).toBe(false)
    expect(s.arrive('d')).toBe(false)
    expect([s.busy, s.queued, s.oldest()]).toEqual([2, 2, 'c'])
    expect(s.finish()).toBe('c')
    expect(s.finish()).toBe('d')
    expect(s.finish()).toBeUndefined()
    expect([s.busy, s.queued]).toEqual([1, 0])
  })

  it('integrates busy slots over time: the utilisation', () => {
    const s = new Server<number>(4)
    s.arrive(1)
    s.arrive(2)
    s.advance(10) // 2 busy × 10 ms
    s.finish()
    s.advance(30) // 1 busy × 20 ms
    expect(s.busyMillis).toBe(40)
  })

  it('with fewer slots starts nothing until the busy ones are under the new count; with more, starts the waiting', () => {
    const s = new Server<number>(4)
    for (let i = 0; i < 6; i++) s.arrive(i) // 4 busy, 2 waiting
    s.setSlots(2)
    expect(s.finish()).toBeUndefined() // 3 busy > 2
    expect(s.finish()).toBeUndefined() // 2 busy
    expect(s.finish()).toBe(4) // 1 busy: one starts
    s.setSlots(4)
    expect(s.next()).toBe(5)
    expect(s.next()).toBeUndefined()
    expect(s.busy).toBe(3)
  })

  it('keeps FIFO order across its internal compaction', () => {
    const s = new Server<number>(1)
    s.arrive(-1)
    for (let i = 0; i < 10_000; i++) s.arrive(i)
    for (let i = 0; i < 10_000; i++) expect(s.finish()).toBe(i)
  })

  it('refuses slots that are no whole number above 0', () => {
    expect(() => new Server(0)).toThrow(/got 0/)
    expect(() => new Server(1).setSlots(1.5)).toThrow(/got 1.5/)
  })
})
