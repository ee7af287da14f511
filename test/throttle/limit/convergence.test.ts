import { describe, expect, it } from 'vitest'
import { SloGradientLimit } from '../../../throttle/src/limit/slo-gradient-limit.ts'
import { runModel } from './queue-model.ts'

// 16 servers at 5 ms a request: 3,200 requests a second at most. Offered: 5,000 a second, an
// overload that, unlimited, would grow the queue (and the latency) without end.
const MODEL = { arrivalsPerSecond: 5000, servers: 16, serviceMillis: 5, seconds: 40 }
const TARGET = 30

describe('SloGradientLimit under a simulated overload', () => {
  for (const seed of [1, 2, 3]) {
    it(`holds the p90 latency at the target and keeps the servers busy (seed ${seed})`, () => {
      const { perSecond } = runModel(new SloGradientLimit({ targetMillis: TARGET, initialLimit: 5 }), {
        ...MODEL,
        seed,
      })
      const settled = perSecond.slice(10) // after ten seconds
      for (const s of settled) {
        expect(s.p90).toBeGreaterThan(TARGET * 0.8)
        expect(s.p90).toBeLessThan(TARGET * 1.2)
        expect(s.done).toBeGreaterThan(3200 * 0.9) // not shedding work the servers could do
        expect(s.shed).toBeGreaterThan(0)
      }
      const limits = settled.map((s) => s.limit)
      // Little's law: p90 ≈ 30 ms at 3.2 requests/ms in service and queue → some 60–100 in flight.
      expect(Math.min(...limits)).toBeGreaterThan(40)
      expect(Math.max(...limits)).toBeLessThan(130)
    })
  }

  it('starts from a limit far too high and comes down to the same place', () => {
    const { perSecond } = runModel(new SloGradientLimit({ targetMillis: TARGET, initialLimit: 900 }), {
      ...MODEL,
      seed: 7,
    })
    expect(perSecond[0]!.p90).toBeGreaterThan(TARGET * 1.5) // the first second queues
    for (const s of perSecond.slice(15)) expect(Math.abs(s.p90 - TARGET)).toBeLessThan(TARGET * 0.3)
  })
})
