import { describe, expect, it } from 'vitest'
import { ALGORITHMS } from '../../../bench/control/algorithms.ts'
import { figures } from '../../../bench/control/figures.ts'
import { scenarios } from '../../../bench/control/scenarios.ts'
import { simulate } from '../../../bench/control/simulate.ts'

// The fast loop in the simulation of bench:control, on the scenario of a dependency that gets
// 50 ms slower at half load (it holds no slot: nothing queues), and on the 2× step.

const scenario = (name: string) => scenarios().find((s) => s.name === name)!
const governor = ALGORITHMS.find((a) => a.name === 'Governor')!
/** Governor's limit as it was: lowering for any latency over the target (holdWhenNotFromConcurrency false). */
const lowersForAnyLatency = ALGORITHMS.find((a) => a.name === 'Governor (before)')!

describe('a dependency 50 ms slower at half load', () => {
  const slow = scenario('slow-dependency-0.5x')

  it('sheds at most 1 % with Governor, where lowering for any latency sheds most requests', () => {
    for (const seed of [1, 2, 3]) {
      expect(figures(slow, simulate(slow, governor, seed)).shedShare).toBeLessThanOrEqual(0.01)
    }
    expect(figures(slow, simulate(slow, lowersForAnyLatency, 1)).shedShare).toBeGreaterThan(0.5)
  })

  it('holds while the dependency is slow and tracks again once it recovers', () => {
    const run = simulate(slow, governor, 1)
    const limitAt = (seconds: number) => run.recorder.limits.find(([t]) => t >= seconds)![1]
    // Never lowered below where it stood before the dependency slowed (20 s); back to tracking after 50 s.
    for (let t = 20; t < 50; t += 1) expect(limitAt(t)).toBeGreaterThanOrEqual(limitAt(19))
    const shedAfter = run.recorder.windows.slice(52).reduce((n, w) => n + w.shed, 0)
    expect(shedAfter).toBe(0)
  })
})

describe('a CPU-starved server at 0.3× load', () => {
  const starved = scenario('cpu-starved-0.3x')

  it('sheds at most 1 % with Governor while every service time doubles, where lowering for any latency sheds far more', () => {
    for (const seed of [1, 2, 3]) {
      expect(figures(starved, simulate(starved, governor, seed)).shedShare).toBeLessThanOrEqual(0.01)
    }
    expect(figures(starved, simulate(starved, lowersForAnyLatency, 1)).shedShare).toBeGreaterThan(0.1)
  })
})

describe('the 2× step still holds its bars', () => {
  it('goodput ≥ 95 %, p99 within the SLO in ≥ 99 % of windows, shedding within 3 s, recovery within 30 s, limit CV ≤ 5 %', () => {
    const s = scenario('overload-2x')
    for (const seed of [1, 2, 3]) {
      const f = figures(s, simulate(s, governor, seed))
      expect(f.goodput).toBeGreaterThanOrEqual(0.95)
      expect(f.windowsWithinSlo).toBeGreaterThanOrEqual(0.99)
      expect(f.timeToShed).toBeLessThanOrEqual(3)
      expect(f.timeToRecover).toBeLessThanOrEqual(30)
      expect(f.limitCv).toBeLessThanOrEqual(0.05)
    }
  })
})
