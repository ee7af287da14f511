import type { Clock } from '../../throttle/src/clock.ts'
import { AimdLimit } from '../../throttle/src/limit/aimd-limit.ts'
import { FixedLimit } from '../../throttle/src/limit/fixed-limit.ts'
import { Gradient2Limit } from '../../throttle/src/limit/gradient2-limit.ts'
import { SloGradientLimit } from '../../throttle/src/limit/slo-gradient-limit.ts'
import { VegasLimit } from '../../throttle/src/limit/vegas-limit.ts'
import { type Admission, limiterAdmission, noAdmission, tooBusyAdmission } from './admission.ts'
import { EnvoyGradientLimit } from './envoy-gradient.ts'
import { WindowedLimit } from './windowed-limit.ts'
import type { Scenario } from './scenarios.ts'
import { SLOTS } from './scenarios.ts'

/** What an algorithm's factory is given: the run's clock, a random source of its own, the scenario. */
export interface AlgorithmContext {
  clock: Clock
  random: () => number
  scenario: Scenario
}

/** One contender. */
export interface Algorithm {
  name: string
  /** How it is configured, for the report. */
  config: string
  make(context: AlgorithmContext): Admission
  /** Bounded by the slow loop's knob where a scenario has one. */
  slowLoop?: boolean
}

/**
 * The contenders. The baselines run with their published defaults; the static limit is what an
 * operator would set from a load test of the nominal server (one queued request per slot).
 * Governor gets what an operator gives it: the SLO (p99 ≤ 200 ms), from which it holds the p90
 * of its windows at half the threshold (see README-section.md for the rule). 'Governor
 * (before)' is the same limit as it was before it held for latency it does not cause: old and
 * new side by side in one run.
 */
export const ALGORITHMS: readonly Algorithm[] = [
  { name: 'none', config: 'admits everything', make: () => noAdmission() },
  {
    name: 'static',
    config: `FixedLimit(2 × the server's nominal slots): ${2 * SLOTS} for ${SLOTS} slots`,
    make: ({ clock, scenario }) => limiterAdmission(new FixedLimit(2 * scenario.slots(0)), clock),
  },
  {
    name: 'toobusy',
    config: 'maxLag 70 ms, interval 500 ms, smoothing 1/3, on the queueing delay',
    make: ({ random }) => tooBusyAdmission(random),
  },
  {
    name: 'AIMD',
    config: 'AimdLimit: start 20, [20, 200], backoff 0.9, timeout 5 s (Netflix defaults)',
    make: ({ clock }) =>
      limiterAdmission(
        new AimdLimit({ initialLimit: 20, minLimit: 20, maxLimit: 200, backoffRatio: 0.9, timeoutMillis: 5000 }),
        clock,
      ),
  },
  {
    name: 'Gradient2',
    config: 'Gradient2Limit defaults: start 20, [20, 200], smoothing 0.2, queue 4, tolerance 1.5, long window 600',
    make: ({ clock }) => limiterAdmission(new Gradient2Limit(), clock),
  },
  {
    name: 'Gradient2 (windowed)',
    config:
      'as its README configures it: WindowedLimit defaults (windows of 1 s and ≥ 10 samples, their average RTT) around Gradient2Limit defaults',
    make: ({ clock }) => limiterAdmission(new WindowedLimit(new Gradient2Limit()), clock),
  },
  {
    name: 'Vegas',
    config: 'VegasLimit defaults: start 20, [1, 1000], probe every ~30 × limit samples',
    make: ({ clock, random }) => limiterAdmission(new VegasLimit({ random }), clock),
  },
  {
    name: 'Envoy',
    config:
      'gradient controller: update 100 ms, p50, minRTT every 60 s (+10 % jitter) over 50 requests at concurrency 3, buffer 25 %, max 1000',
    make: ({ clock, random }) => limiterAdmission(new EnvoyGradientLimit({ random }), clock),
  },
  {
    name: 'Governor',
    config: 'SloGradientLimit: p90 held at 100 ms (half the SLO threshold), other options default',
    make: ({ clock, scenario }) =>
      limiterAdmission(new SloGradientLimit({ targetMillis: scenario.sloMillis / 2, percentile: 0.9 }), clock),
    slowLoop: true,
  },
  {
    name: 'Governor (before)',
    config:
      'as Governor, with holdWhenNotFromConcurrency: false: lowers for any latency over the target, as it did before',
    make: ({ clock, scenario }) =>
      limiterAdmission(
        new SloGradientLimit({
          targetMillis: scenario.sloMillis / 2,
          percentile: 0.9,
          holdWhenNotFromConcurrency: false,
        }),
        clock,
      ),
    slowLoop: true,
  },
]
