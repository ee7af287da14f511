import { describe, expect, it } from 'vitest'
import { isGovernorError } from '../../../collector/src/errors.ts'
import { ReadGate } from '../../../collector/src/query/read-gate.ts'

/** A read that finishes when the test says so. */
function heldRead() {
  let finish!: (v: string) => void
  const done = new Promise<string>((resolve) => {
    finish = resolve
  })
  let started = false
  return {
    read: () => {
      started = true
      return done
    },
    finish,
    get started() {
      return started
    },
  }
}

describe('ReadGate', () => {
  it('runs up to maxRunning at once, the next in arrival order as each ends', async () => {
    const gate = new ReadGate({ maxRunning: 2, maxWaiting: 10 })
    const reads = [heldRead(), heldRead(), heldRead(), heldRead()]
    const results = reads.map((r) => gate.run(r.read))
    await Promise.resolve()
    expect(reads.map((r) => r.started)).toEqual([true, true, false, false])
    expect([gate.running, gate.waiting]).toEqual([2, 2])
    reads[1]!.finish('b')
    expect(await results[1]).toBe('b')
    await Promise.resolve()
    expect(reads.map((r) => r.started)).toEqual([true, true, true, false])
    reads[0]!.finish('a')
    reads[2]!.finish('c')
    await Promise.all([results[0], results[2]])
    await Promise.resolve()
    expect(reads[3]!.started).toBe(true)
    reads[3]!.finish('d')
    expect(await results[3]).toBe('d')
    expect([gate.running, gate.waiting]).toEqual([0, 0])
  })

  it('refuses at once with 503 GOV_ERR_QUERY_BUSY when the waiting places are full', async () => {
    const gate = new ReadGate({ maxRunning: 1, maxWaiting: 1 })
    const a = heldRead(),
      b = heldRead(),
      c = heldRead()
    const ra = gate.run(a.read),
      rb = gate.run(b.read)
    const refused = await gate.run(c.read).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(isGovernorError(refused) && refused.code).toBe('GOV_ERR_QUERY_BUSY')
    expect(isGovernorError(refused) && refused.statusCode).toBe(503)
    expect(c.started).toBe(false)
    a.finish('a')
    b.finish('b')
    expect(await Promise.all([ra, rb])).toEqual(['a', 'b'])
  })

  it('frees the slot when a read fails', async () => {
    const gate = new ReadGate({ maxRunning: 1, maxWaiting: 0 })
    await expect(gate.run(() => Promise.reject(new Error('store down')))).rejects.toThrow('store down')
    expect(await gate.run(async () => 'next')).toBe('next')
    expect(gate.running).toBe(0)
  })
})
