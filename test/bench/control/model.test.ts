import { describe, expect, it } from 'vitest'
import { FixedLimit } from '../../../throttle/src/limit/fixed-limit.ts'
import { type Admission, limiterAdmission, noAdmission } from '../../../bench/control/admission.ts'
import type { Algorithm } from '../../../bench/control/algorithms.ts'
import { exponential } from '../../../bench/control/distributions.ts'
import { figures } from '../../../bench/control/figures.ts'
import { sum } from '../../../bench/control/metrics.ts'
import type { Scenario } from '../../../bench/control/scenarios.ts'
import { simulate } from '../../../bench/control/simulate.ts'

/** A plain queueing scenario: constant Poisson load, `slots` servers, exponential service. */
function queueing(o: {
  perSecond: number
  slots: number
  meanMillis: number
  seconds: number
  timeoutMillis?: number
  retries?: number
}): Scenario {
  return {
    name: 'test',
    title: 'test',
    about: '',
    seconds: o.seconds,
    rate: () => o.perSecond,
    slots: () => o.slots,
    meanServiceMillis: () => o.meanMillis,
    sigma: 0,
    drawService: (_t, random) => exponential(random, o.meanMillis),
    sloMillis: 200,
    timeoutMillis: o.timeoutMillis ?? 1e9,
    retry: { max: o.retries ?? 0, baseMillis: 0 },
    measure: [0, o.seconds],
    isOverload: false,
  }
}
const algorithm = (make: (clock: () => number) => Admission): Algorithm => ({
  name: 'x',
  config: '',
  make: ({ clock }) => make(clock),
})
const NONE = algorithm(() => noAdmission())

/** Erlang C: mean time in system of an M/M/c queue, ms. */
function mmcResponseMillis(lambdaPerMs: number, meanMillis: number, c: number): number {
  const mu = 1 / meanMillis,
    a = lambdaPerMs / mu,
    rho = a / c
  let sum = 0,
    term = 1
  for (let k = 0; k < c; k++) {
    sum += term
    term *= a / (k + 1)
  }
  const tail = term / (1 - rho) // a^c / c! / (1 − ρ)
  const waitProbability = tail / (sum + tail)
  return waitProbability / (c * mu - lambdaPerMs) + meanMillis
}

function meanLatency(scenario: Scenario, seed: number): { mean: number; throughput: number; utilisation: number } {
  const run = simulate(scenario, NONE, seed)
  const w = run.recorder.windows
  return {
    mean: run.meanLatency,
    throughput: sum(w, 0, w.length, 'completed') / scenario.seconds,
    utilisation: run.utilisation,
  }
}

describe('the simulated server against queueing theory', () => {
  it('M/M/1 at ρ = 0.5: mean time in system 2 × the service time, utilisation ρ, throughput λ', () => {
    const r = meanLatency(queueing({ perSecond: 25, slots: 1, meanMillis: 20, seconds: 2000 }), 1)
    expect(r.mean).toBeGreaterThan(40 * 0.92)
    expect(r.mean).toBeLessThan(40 * 1.08)
    expect(r.utilisation).toBeCloseTo(0.5, 1)
    expect(Math.abs(r.throughput - 25) / 25).toBeLessThan(0.02)
  })

  it('M/M/4 at ρ = 0.7: mean time in system as Erlang C gives (27 ms, of which 7 ms queueing)', () => {
    const expected = mmcResponseMillis(0.14, 20, 4)
    expect(expected).toBeCloseTo(27.14, 1)
    for (const seed of [1, 2]) {
      const r = meanLatency(queueing({ perSecond: 140, slots: 4, meanMillis: 20, seconds: 600 }), seed)
      expect(Math.abs(r.mean - expected) / expected).toBeLessThan(0.06)
      expect(Math.abs(r.utilisation - 0.7)).toBeLessThan(0.02)
      expect(Math.abs(r.throughput - 140) / 140).toBeLessThan(0.02)
    }
  })

  it("adds a dependency's wait to the time in system without holding a slot: M/M/1 at ρ = 0.5 plus 100 ms", () => {
    const plain = queueing({ perSecond: 25, slots: 1, meanMillis: 20, seconds: 600 })
    const base = meanLatency(plain, 1)
    const r = meanLatency({ ...plain, dependencyMillis: () => 100 }, 1)
    expect(r.mean).toBeCloseTo(base.mean + 100, 2) // the same service draws, each 100 ms later; no more queueing (the last ones of the run end past it)
    expect(r.utilisation).toBeCloseTo(base.utilisation, 2)
  })

  it('is deterministic for a seed and differs between seeds', () => {
    const s = queueing({ perSecond: 140, slots: 4, meanMillis: 20, seconds: 20 })
    expect(meanLatency(s, 5)).toEqual(meanLatency(s, 5))
    expect(meanLatency(s, 5).mean).not.toBe(meanLatency(s, 6).mean)
  })
})

describe('clients: timeouts, retries and their accounting', () => {
  it('retries a shed request exactly `max` times: amplification 1 + max, every attempt shed', () => {
    const scenario = queueing({ perSecond: 50, slots: 1, meanMillis: 20, seconds: 10, retries: 2 })
    const run = simulate(
      scenario,
      algorithm((clock) => limiterAdmission(new FixedLimit(0), clock)),
      3,
    )
    const w = run.recorder.windows
    const firsts = sum(w, 0, 10, 'firsts')
    expect(firsts).toBeGreaterThan(400)
    expect(sum(w, 0, 10, 'attempts')).toBe(3 * firsts) // retries at once: all inside the run
    expect(sum(w, 0, 10, 'shed')).toBe(3 * firsts)
    expect(figures(scenario, run).retryAmplification).toBe(3)
  })

  it('retries an attempt whose client timed out while the server still serves the first: wasted work, no goodput', () => {
    // One slot, service 1 s on average, clients wait 100 ms: almost every attempt times out.
    const scenario = queueing({
      perSecond: 2,
      slots: 1,
      meanMillis: 1000,
      seconds: 200,
      timeoutMillis: 100,
      retries: 1,
    })
    const run = simulate(scenario, NONE, 4)
    const w = run.recorder.windows
    const f = figures(scenario, run)
    expect(f.retryAmplification).toBeGreaterThan(1.9) // nearly every first attempt is retried once
    expect(f.retryAmplification).toBeLessThanOrEqual(2)
    expect(sum(w, 0, 200, 'completed')).toBeGreaterThan(0)
    expect(sum(w, 0, 200, 'good') / sum(w, 0, 200, 'completed')).toBeLessThan(0.2) // served, but too late
    expect(run.utilisation).toBeGreaterThan(0.95) // the slot is kept busy by work nobody waits for
  })

  it('reports to the limiter the real round trip, and a drop when the deadline passed', () => {
    const samples: { rtt: number; didDrop: boolean }[] = []
    const limit = new FixedLimit(1000)
    const recording = {
      get limit() {
        return limit.limit
      },
      get min() {
        return limit.min
      },
      get max() {
        return limit.max
      },
      setBounds: (a: number, b: number) => limit.setBounds(a, b),
      onSample(_s: number, rtt: number, _i: number, didDrop: boolean) {
        samples.push({ rtt, didDrop })
        return limit.limit
      },
    }
    const scenario = queueing({ perSecond: 20, slots: 1, meanMillis: 30, seconds: 100, timeoutMillis: 150 })
    const run = simulate(
      scenario,
      algorithm((c) => limiterAdmission(recording, c)),
      9,
    )
    const latencies = run.recorder.windows.flatMap((w) => w.latencies)
    expect(samples.length).toBe(latencies.length)
    expect(samples.map((s) => s.rtt).sort((a, b) => a - b)).toEqual([...latencies].sort((a, b) => a - b))
    for (const s of samples) expect(s.didDrop).toBe(s.rtt > 150)
    expect(samples.some((s) => s.didDrop)).toBe(true)
  })
})
