import { describe, expect, it } from 'vitest'
import { bindKnob } from '../../../throttle/src/bind-knob.ts'
import { isThrottleError } from '../../../throttle/src/errors.ts'
import { createMemoryClient } from '../../../throttle/src/memory-client.ts'
import { WorkerPool } from '../../../throttle/src/pool/worker-pool.ts'

/** A task that runs until released: the test decides when each one finishes. */
function gate() {
  const started: string[] = []
  const release = new Map<string, () => void>()
  const task = (name: string) => () => {
    started.push(name)
    return new Promise<string>((resolve) => release.set(name, () => resolve(name)))
  }
  const finish = async (name: string) => {
    release.get(name)!()
    for (let i = 0; i < 5; i++) await Promise.resolve() // let the pool start the next ones
  }
  return { started, task, finish }
}

describe('WorkerPool', () => {
  it('runs up to size tasks at once and queues the rest in order', async () => {
    const pool = new WorkerPool({ size: 2 })
    const g = gate()
    const results = ['a', 'b', 'c', 'd'].map((n) => pool.run(g.task(n)))
    expect(g.started).toEqual(['a', 'b'])
    expect(pool.queued).toBe(2)
    await g.finish('b')
    expect(g.started).toEqual(['a', 'b', 'c'])
    await g.finish('a')
    expect(g.started).toEqual(['a', 'b', 'c', 'd'])
    await g.finish('c')
    await g.finish('d')
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c', 'd'])
  })

  it('grows at once: queued tasks start when the size goes up', async () => {
    const pool = new WorkerPool({ size: 1 })
    const g = gate()
    for (const n of ['a', 'b', 'c', 'd']) void pool.run(g.task(n))
    expect(g.started).toEqual(['a'])
    pool.resize(3)
    expect(g.started).toEqual(['a', 'b', 'c'])
    expect(pool.running).toBe(3)
  })

  it('shrinks as workers finish: running tasks go on, no new one starts until fewer than size run', async () => {
    const pool = new WorkerPool({ size: 3 })
    const g = gate()
    for (const n of ['a', 'b', 'c', 'd', 'e']) void pool.run(g.task(n))
    pool.resize(1)
    expect(pool.running).toBe(3) // nothing is stopped
    await g.finish('a')
    await g.finish('b')
    expect(g.started).toEqual(['a', 'b', 'c']) // 1 still runs: at size 1, nothing new
    await g.finish('c')
    expect(g.started).toEqual(['a', 'b', 'c', 'd'])
    expect(pool.running).toBe(1)
  })

  it('follows a knob live, and pauses at 0', async () => {
    const governor = createMemoryClient({ service: 'render' })
    const workers = governor.knob('workers', { type: 'int', default: 2, min: 0, max: 64 })
    const pool = new WorkerPool({ size: 1 })
    bindKnob(workers, (n) => pool.resize(n))
    expect(pool.size).toBe(2)
    const g = gate()
    for (const n of ['a', 'b', 'c']) void pool.run(g.task(n))
    governor.set('workers', 0)
    await g.finish('a')
    await g.finish('b')
    expect(g.started).toEqual(['a', 'b'])
    governor.set('workers', 4)
    expect(g.started).toEqual(['a', 'b', 'c'])
  })

  it('rejects a task when the queue is full, without running it', async () => {
    const pool = new WorkerPool({ size: 1, maxQueued: 2 })
    const g = gate()
    void pool.run(g.task('a'))
    void pool.run(g.task('b'))
    void pool.run(g.task('c'))
    const err = await pool.run(g.task('d')).catch((e: unknown) => e)
    expect(isThrottleError(err) && err.code).toBe('THROTTLE_ERR_QUEUE_FULL')
    expect((err as Error).message).toMatch(/queue is full \(2 waiting, 1 running on 1 workers\)/)
    expect(g.started).toEqual(['a'])
    await g.finish('a')
    expect(pool.queued).toBe(1)
  })

  it("passes a task's failure to its caller and keeps going; onIdle waits for everything", async () => {
    const pool = new WorkerPool({ size: 1 })
    const failing = pool.run(() => {
      throw new Error('boom')
    })
    const next = pool.run(async () => 7)
    await expect(failing).rejects.toThrow('boom')
    expect(await next).toBe(7)
    await pool.onIdle()
    expect(pool.running + pool.queued).toBe(0)
  })
})
