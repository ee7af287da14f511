import { setImmediate as nextTurn } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { coarseClock } from '../../throttle/src/clock.ts'
import { Limiter } from '../../throttle/src/limit/limiter.ts'
import { RecordingLimit } from '../../throttle/src/limit/recording-limit.ts'
import { FixedLimit } from '../../throttle/src/limit/fixed-limit.ts'

/** Turns of the event loop until `done()`, at most `turns` (a condition, not a wall-clock guess). */
async function until(done: () => boolean, turns = 1_000_000): Promise<void> {
  for (let i = 0; i < turns && !done(); i++) await nextTurn()
  expect(done()).toBe(true)
}

describe('coarseClock', () => {
  it('reads performance.now() as of its last tick: constant within a turn of the event loop, moving between them, never ahead', async () => {
    const first = coarseClock()
    expect(first).toBeLessThanOrEqual(performance.now())
    expect(performance.now() - first).toBeLessThan(50) // started at this first reading
    // Busy for 5 ms without yielding: the coarse clock stands still, performance.now() does not.
    const spinUntil = performance.now() + 5
    while (performance.now() < spinUntil);
    expect(coarseClock()).toBe(first)
    // Once the loop turns, the timer catches up.
    await until(() => coarseClock() > first)
    const later = coarseClock()
    expect(later).toBeLessThanOrEqual(performance.now())
    expect(later - first).toBeGreaterThanOrEqual(5)
  })

  it("is the limiter's default: round trips read on it, in whole ticks or so", async () => {
    const limit = new RecordingLimit(new FixedLimit(10))
    const limiter = new Limiter({ limit })
    const l = limiter.acquire()!
    const start = coarseClock()
    await until(() => coarseClock() >= start + 3)
    l.onSuccess()
    const [sample] = limit.samples
    expect(sample!.startTime).toBe(start)
    expect(sample!.rtt).toBeGreaterThanOrEqual(3)
  })
})
