import { describe, expect, it } from 'vitest'
import { Turns } from '../../../collector/src/http/turns.ts'

/** Turns with a hand-cranked loop: `iterate()` runs what was deferred, as one check phase. */
function cranked(maxWait: number) {
  let now = 0
  let deferred: (() => void)[] = []
  const turns = new Turns(
    (waited) => (waited > maxWait ? new Error(`waited ${waited}`) : undefined),
    () => now,
    (fn) => {
      deferred.push(fn)
    },
  )
  return {
    turns,
    advance: (ms: number) => {
      now += ms
    },
    async iterate() {
      const run = deferred
      deferred = []
      for (const fn of run) fn()
      await new Promise((r) => setImmediate(r)) // let the granted continuations run
    },
    pending: () => deferred.length,
  }
}

describe('Turns', () => {
  it('grants one turn per loop iteration, first come first served', async () => {
    const loop = cranked(1000)
    const order: number[] = []
    for (const n of [1, 2, 3]) void loop.turns.take().then(() => order.push(n))
    expect(loop.pending()).toBe(1) // one grant scheduled, not three
    await loop.iterate()
    expect(order).toEqual([1])
    await loop.iterate()
    expect(order).toEqual([1, 2])
    await loop.iterate()
    expect(order).toEqual([1, 2, 3])
    expect(loop.turns.waiting).toBe(0)
    expect(loop.pending()).toBe(0) // idle: nothing keeps the loop awake
  })

  it('refuses the ones that waited too long without spending the turn on them', async () => {
    const loop = cranked(100)
    const outcome: string[] = []
    const take = (name: string, since?: number) =>
      loop.turns.take(since).then(
        () => outcome.push(`${name} served`),
        (err: Error) => outcome.push(`${name} refused: ${err.message}`),
      )
    void take('old', -50)
    void take('older', -80)
    loop.advance(40)
    void take('fresh')
    loop.advance(30) // old waited 120, older 150, fresh 30
    await loop.iterate()
    expect(outcome).toEqual(['old refused: waited 120', 'older refused: waited 150', 'fresh served'])
  })

  it('counts the wait from the time given, not from the call', async () => {
    const loop = cranked(100)
    let refused: Error | undefined
    loop.turns.take(-200).catch((err: Error) => {
      refused = err
    })
    await loop.iterate()
    expect(refused?.message).toBe('waited 200')
  })
})

describe('Turns and new connections', () => {
  it('grants no turn while iterations accept connections, for at most maxYieldMillis in a row', async () => {
    let now = 0
    let deferred: (() => void)[] = []
    const turns = new Turns(
      () => undefined,
      () => now,
      (fn) => {
        deferred.push(fn)
      },
      25,
    )
    const iterate = async () => {
      const run = deferred
      deferred = []
      for (const fn of run) fn()
      await new Promise((r) => setImmediate(r))
    }
    let served = 0
    for (let i = 0; i < 3; i++) void turns.take().then(() => served++)
    turns.noteAccept()
    await iterate()
    expect(served).toBe(0) // this iteration accepted: the turn waits
    await iterate()
    expect(served).toBe(1) // nothing accepted since: granted
    // A storm: every iteration accepts one, 1 ms apart. Twenty-five of them give way (0..24 ms
    // since the first), then a turn is granted anyway, and the clock starts again.
    const servedAt: number[] = []
    for (let i = 0; i < 60; i++) {
      turns.noteAccept()
      const before = served
      await iterate()
      if (served > before) servedAt.push(i)
      now += 1
    }
    expect(servedAt).toEqual([25, 51])
    expect(served).toBe(3)
    // Many fast iterations do not count: only the time does.
    void turns.take().then(() => served++)
    for (let i = 0; i < 1000; i++) {
      turns.noteAccept()
      await iterate()
    }
    expect(served).toBe(3)
    now += 25
    turns.noteAccept()
    await iterate()
    expect(served).toBe(4)
  })
})

describe('Turns.resume (work done in slices)', () => {
  it('grants the next turn to a resumed caller, before every waiter, one turn per iteration', async () => {
    const loop = cranked(1000)
    const order: string[] = []
    const sliced = async () => {
      await loop.turns.take()
      for (let slice = 1; slice <= 3; slice++) {
        order.push(`sliced ${slice}`)
        if (slice < 3) await loop.turns.resume()
      }
    }
    void sliced()
    void loop.turns.take().then(() => order.push('next'))
    for (let i = 0; i < 4; i++) await loop.iterate()
    expect(order).toEqual(['sliced 1', 'sliced 2', 'sliced 3', 'next'])
    expect(loop.pending()).toBe(0)
  })

  it('never refuses a resumed caller for its wait, and still refuses a late waiter', async () => {
    const loop = cranked(100)
    const outcome: string[] = []
    void loop.turns.take(-50).then(
      () => outcome.push('late served'),
      () => outcome.push('late refused'),
    )
    void loop.turns.resume().then(() => outcome.push('resumed'))
    loop.advance(500)
    await loop.iterate()
    expect(outcome).toEqual(['resumed'])
    await loop.iterate()
    expect(outcome).toEqual(['resumed', 'late refused'])
  })

  it('gives way to a new connection before resuming, like any turn', async () => {
    const loop = cranked(1000)
    let resumed = false
    void loop.turns.resume().then(() => {
      resumed = true
    })
    loop.turns.noteAccept()
    await loop.iterate()
    expect(resumed).toBe(false)
    await loop.iterate()
    expect(resumed).toBe(true)
  })
})
