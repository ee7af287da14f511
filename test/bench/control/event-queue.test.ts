import { describe, expect, it } from 'vitest'
import { EventQueue } from '../../../bench/control/event-queue.ts'
import { seeded } from '../../helpers/random.ts'

function drain<T>(q: EventQueue<T>): [number, T][] {
  const out: [number, T][] = []
  while (q.size > 0) {
    const t = q.peekTime()
    out.push([t, q.pop()!])
  }
  return out
}

describe('EventQueue', () => {
  it('pops in time order, and equal times in the order they were pushed', () => {
    const q = new EventQueue<string>()
    q.push(5, 'e')
    q.push(1, 'a')
    q.push(3, 'c1')
    q.push(3, 'c2')
    q.push(0, 'z')
    q.push(3, 'c3')
    expect(drain(q)).toEqual([
      [0, 'z'],
      [1, 'a'],
      [3, 'c1'],
      [3, 'c2'],
      [3, 'c3'],
      [5, 'e'],
    ])
    expect(q.pop()).toBeUndefined()
    expect(q.peekTime()).toBe(Infinity)
  })

  it('agrees with a stable sort on thousands of random pushes and pops interleaved', () => {
    const random = seeded(11)
    const q = new EventQueue<number>()
    const reference: [number, number][] = []
    const popped: number[] = []
    const expected: number[] = []
    for (let i = 0; i < 5000; i++) {
      const t = Math.floor(random() * 100) // many ties
      q.push(t, i)
      reference.push([t, i])
      if (random() < 0.3) {
        reference.sort((a, b) => a[0] - b[0] || a[1] - b[1])
        expected.push(reference.shift()![1])
        popped.push(q.pop()!)
      }
    }
    reference.sort((a, b) => a[0] - b[0] || a[1] - b[1])
    expect(popped).toEqual(expected)
    expect(drain(q).map(([, i]) => i)).toEqual(reference.map(([, i]) => i))
  })

  it('refuses an event without a time', () => {
    expect(() => new EventQueue().push(Number.NaN, 1)).toThrow(/NaN/)
  })
})
