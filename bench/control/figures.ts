import { limitCv, quantile, shareWithinSlo, sum, timeToRecover, timeToShed, type Window } from './metrics.ts'
import type { Scenario } from './scenarios.ts'
import type { RunResult } from './simulate.ts'

/** The figures of one run, over the scenario's measured span unless said otherwise. */
export interface Figures {
  /** Responses within the client's timeout per second ÷ the server's capacity. */
  goodput: number
  /** Responses within the SLO threshold per second ÷ the server's capacity. */
  goodputSlo: number
  /** p99 of the latencies of all responses in the span, ms. */
  p99: number
  /** Share of the span's 1-second windows whose p99 is within the SLO. */
  windowsWithinSlo: number
  /** Seconds from the overload's onset until ≥ 10 % of a second's attempts were shed; undefined without an overload. */
  timeToShed: number | undefined
  /** Seconds from the overload's end until no second sheds more than 0.1 %; undefined when the overload does not end or nothing was shed. */
  timeToRecover: number | undefined
  /** Coefficient of variation of the limit over the span (NaN without a limit). */
  limitCv: number
  /** Attempts ÷ first attempts over the whole run. */
  retryAmplification: number
  /** Share of the span's attempts that were shed. */
  shedShare: number
  /** Busy slot time ÷ slot time over the whole run. */
  utilisation: number
}

/** Requests per second the server could complete in window i (slots ÷ mean service time, at mid-window). */
export function capacityAt(scenario: Scenario, i: number): number {
  const t = i * 1000 + 500
  return (scenario.slots(t) * 1000) / scenario.meanServiceMillis(t)
}

/** Derives the figures of a run from what it recorded. */
export function figures(scenario: Scenario, run: RunResult): Figures {
  const w: readonly Window[] = run.recorder.windows
  const [from, to] = scenario.measure
  let capacity = 0
  for (let i = from; i < to; i++) capacity += capacityAt(scenario, i)
  const latencies = w.slice(from, to).flatMap((x) => x.latencies)
  const attempts = sum(w, from, to, 'attempts')
  const shedAfter = scenario.overload === undefined ? undefined : timeToShed(w, scenario.overload.onset)
  return {
    goodput: sum(w, from, to, 'good') / capacity,
    goodputSlo: sum(w, from, to, 'goodSlo') / capacity,
    p99: quantile(latencies, 0.99),
    windowsWithinSlo: shareWithinSlo(w, from, to, scenario.sloMillis),
    timeToShed: shedAfter,
    // An admission that never shed has nothing to recover from.
    timeToRecover:
      scenario.overload?.end === undefined || shedAfter === Infinity
        ? undefined
        : timeToRecover(w, scenario.overload.end),
    limitCv: limitCv(run.recorder.limits, from, to),
    retryAmplification: sum(w, 0, w.length, 'attempts') / sum(w, 0, w.length, 'firsts'),
    shedShare: attempts === 0 ? 0 : sum(w, from, to, 'shed') / attempts,
    utilisation: run.utilisation,
  }
}

/** The bars, checked on Governor's figures: each with the value and whether it is met. */
export interface Bar {
  bar: string
  scenario: string
  value: string
  met: boolean
}

/**
 * Checks the bars: 2× overload figures, the false rejections of the heavy-tailed 0.8× run and,
 * when given, the shedding at half load with a slow dependency and on a CPU-starved server
 * (latency no limit can lower).
 */
export function checkBars(
  overload2x: Figures,
  heavyTail: Figures,
  slowDependency?: Figures,
  cpuStarved?: Figures,
): Bar[] {
  const pct = (x: number, d = 1) => `${(x * 100).toFixed(d)} %`
  return [
    {
      bar: 'goodput ≥ 95 % of capacity',
      scenario: 'overload-2x',
      value: pct(overload2x.goodput),
      met: overload2x.goodput >= 0.95,
    },
    {
      bar: 'p99 within the SLO in ≥ 99 % of 1-s windows once converged',
      scenario: 'overload-2x',
      value: pct(overload2x.windowsWithinSlo),
      met: overload2x.windowsWithinSlo >= 0.99,
    },
    {
      bar: 'shedding starts within 3 s',
      scenario: 'overload-2x',
      value: `${overload2x.timeToShed} s`,
      met: (overload2x.timeToShed ?? Infinity) <= 3,
    },
    {
      bar: 'full admission back within 30 s after the overload',
      scenario: 'overload-2x',
      value: `${overload2x.timeToRecover} s`,
      met: (overload2x.timeToRecover ?? Infinity) <= 30,
    },
    {
      bar: 'steady-state limit variation ≤ 5 %',
      scenario: 'overload-2x',
      value: pct(overload2x.limitCv),
      met: overload2x.limitCv <= 0.05,
    },
    {
      bar: 'false rejections ≤ 0.1 % at 0.8× load, heavy-tailed service',
      scenario: 'heavy-tail-0.8x',
      value: pct(heavyTail.shedShare, 3),
      met: heavyTail.shedShare <= 0.001,
    },
    ...(slowDependency === undefined
      ? []
      : [
          {
            bar: 'shedding ≤ 1 % at half load, a dependency 50 ms slower',
            scenario: 'slow-dependency-0.5x',
            value: pct(slowDependency.shedShare, 2),
            met: slowDependency.shedShare <= 0.01,
          },
        ]),
    ...(cpuStarved === undefined
      ? []
      : [
          {
            bar: 'shedding ≤ 1 % on a CPU-starved server, service times doubled',
            scenario: 'cpu-starved-0.3x',
            value: pct(cpuStarved.shedShare, 2),
            met: cpuStarved.shedShare <= 0.01,
          },
        ]),
  ]
}
