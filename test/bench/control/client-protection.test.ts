import { describe, expect, it } from 'vitest'
import { ALGORITHMS } from '../../../bench/control/algorithms.ts'
import { figures } from '../../../bench/control/figures.ts'
import { scenarios } from '../../../bench/control/scenarios.ts'
import { simulate } from '../../../bench/control/simulate.ts'

// Clients retrying at once up to 3 times, with and without what throttledFetch adds by
// default (the library's AdaptiveThrottle and RetryBudget, on the simulation's clock).

const scenario = (name: string) => scenarios().find((s) => s.name === name)!
const governor = ALGORITHMS.find((a) => a.name === 'Governor')!

describe('retry storms against Governor', () => {
  it('amplify at most 1.1× with client throttling and a retry budget, at 1.4×, 2× and 4× overload; over 2× without', () => {
    for (const factor of [1.4, 2, 4]) {
      const f = figures(
        scenario(`retry-storm-protected-${factor}x`),
        simulate(scenario(`retry-storm-protected-${factor}x`), governor, 1),
      )
      expect(f.retryAmplification).toBeLessThanOrEqual(1.1)
      expect(f.goodput).toBeGreaterThanOrEqual(0.95) // the server still runs at capacity
    }
    const bare = scenario('retry-storm')
    expect(figures(bare, simulate(bare, governor, 1)).retryAmplification).toBeGreaterThan(2)
  })

  it('at 4× the clients reject locally much of what the server would shed', () => {
    const s = scenario('retry-storm-protected-4x')
    const run = simulate(s, governor, 1)
    const local = run.recorder.windows.reduce((n, w) => n + w.rejectedLocally, 0)
    const firsts = run.recorder.windows.reduce((n, w) => n + w.firsts, 0)
    expect(local / firsts).toBeGreaterThan(0.2)
    expect(figures(s, run).retryAmplification).toBeLessThan(1)
  })
})
