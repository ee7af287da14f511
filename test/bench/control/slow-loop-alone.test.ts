import { describe, expect, it } from 'vitest'
import { limiterAdmission } from '../../../bench/control/admission.ts'
import type { Algorithm } from '../../../bench/control/algorithms.ts'
import { windowP99s } from '../../../bench/control/metrics.ts'
import { scenarios, type Scenario } from '../../../bench/control/scenarios.ts'
import { simulate } from '../../../bench/control/simulate.ts'
import { FixedLimit } from '../../../throttle/src/limit/fixed-limit.ts'

// The slow loop alone, no fast loop: a fixed limit that is the knob, turned by the `gradient`
// controller as the collector runs it (every 5 s, the p99 of the last 30 s, a cooldown of one
// window), on the 2× step on 8 slots with an SLO of 100 ms, the knob at 64 when it starts.

const slowLoopAlone: Algorithm = {
  name: 'slow loop alone',
  config: '',
  make: ({ clock }) => limiterAdmission(new FixedLimit(1000), clock),
  slowLoop: true,
}
const base = scenarios().find((s) => s.name === 'overload-2x-8-slots')!
const scenario = (params: Record<string, number> = {}): Scenario => ({
  ...base,
  knobDelayMillis: 0,
  knobStart: 64,
  slowLoopParams: params,
})

/** Seconds from the overload's onset until every later second of it has its p99 within the SLO. */
function secondsToSlo(s: Scenario, seed: number): number {
  const p99s = windowP99s(simulate(s, slowLoopAlone, seed).recorder.windows)
  const onset = s.overload!.onset,
    end = s.overload!.end!
  let last = onset
  for (let t = onset; t < end; t++) if (!(p99s[t]! <= s.sloMillis)) last = t + 1
  return last - onset
}

describe('the slow loop alone', () => {
  it('brings the p99 within the SLO within 60 s of a 2× step, stepping with the burn rate; fixed steps take longer', () => {
    for (const seed of [1, 2, 3]) {
      const scaled = secondsToSlo(scenario(), seed)
      const fixed = secondsToSlo(scenario({ burnSpeedup: 1 }), seed)
      expect(scaled).toBeLessThanOrEqual(60)
      expect(fixed).toBeGreaterThan(scaled)
    }
  })
})
