/**
 * The phases of `npm run bench:loop` and the bars they are held to, judged on the per-second record of
 * a run. Loads are multiples of the app's nominal capacity (all its slots).
 */
import { percentile } from './proc.ts'
import type { SecondCounts } from './open-loop-load.ts'

/** What a phase is judged on. */
export type PhaseKind = 'baseline' | 'overload' | 'drop' | 'no-shed' | 'controller-step'

/** One phase: the load, the backend's slots, the dependency and the CPU hog for `seconds`. */
export interface Phase {
  name: string
  kind: PhaseKind
  seconds: number
  /** Offered load, × the nominal capacity. */
  load: number
  /** Share of the backend's slots it keeps (0.5: capacity halved). */
  slotShare: number
  dependencyMillis: number
  /** A busy process pinned to the app's core. */
  cpuHog: boolean
}

/** The two run modes: both loops, and the controller alone (a FixedLimit on the knob). */
export type RunMode = 'both-loops' | 'controller-only'

/** The phases of a mode, `seconds` each (the controller's 2× step longer: it is judged at 60 s). */
export function phasesOf(mode: RunMode, seconds: number, stepSeconds: number): Phase[] {
  const phase = (name: string, kind: PhaseKind, load: number, extra: Partial<Phase> = {}): Phase => ({
    name,
    kind,
    seconds,
    load,
    slotShare: 1,
    dependencyMillis: 0,
    cpuHog: false,
    ...extra,
  })
  if (mode === 'controller-only')
    return [
      phase('0.5×', 'baseline', 0.5),
      phase('2×', 'controller-step', 2, { seconds: stepSeconds }),
      phase('0.5× again', 'drop', 0.5),
    ]
  return [
    phase('0.5×', 'baseline', 0.5),
    phase('2×', 'overload', 2),
    phase('0.5× again', 'drop', 0.5),
    phase('0.8×, capacity halved', 'overload', 0.8, { slotShare: 0.5 }),
    phase('0.8×, capacity back', 'drop', 0.8),
    phase('0.5×, dependency +50 ms', 'no-shed', 0.5, { dependencyMillis: 50 }),
    phase('0.5×, CPU hog beside the app', 'no-shed', 0.5, { cpuHog: true }),
  ]
}

/** How a phase is judged: overloads after their first 10 s. */
export const OVERLOAD_SETTLE_SECONDS = 10
/** A drop is judged over its first 30 s at most: no second may shed more than this share after them. */
export const DROP_RECOVERY_SECONDS = 30
export const DROP_SHED_SHARE = 0.001
export const NO_SHED_SHARE = 0.01
export const CONTROLLER_SECONDS = 60

/** The figures of one phase against its bar. */
export interface PhaseFigures {
  phase: Phase
  /** Seconds of the run the phase spans, [from, to). */
  from: number
  to: number
  offered: number
  /** 200s within the timeout a second, mean over the judged seconds. */
  goodput: number
  /** …as a share of the phase's capacity. */
  goodputShare: number
  /** Share of judged 1-s windows whose p99 of 200s is within the SLO. */
  windowsWithinSlo: number
  p99: number
  shedShare: number
  /** The most a second of the phase shed, share of its arrivals. */
  worstSecondShed: number
  /** Drop: seconds until no second sheds more than 0.1 %; controller step: until every later window is within the SLO. */
  settledAfter: number | undefined
  bar: string
  /** The bar's figure, as written in the table. */
  value: string
  met: boolean | undefined
}

const pct = (x: number, digits = 1) => `${(x * 100).toFixed(digits)} %`
const shedShareOf = (s: SecondCounts) => (s.offered === 0 ? 0 : s.shed / s.offered)
const p99Of = (s: SecondCounts) =>
  percentile(
    [...s.latencies].sort((a, b) => a - b),
    0.99,
  )

/** Judges one phase spanning seconds [from, to) of `record`; `capacity` is the phase's (slots ÷ mean). */
export function judgePhase(
  phase: Phase,
  record: SecondCounts[],
  from: number,
  to: number,
  capacity: number,
  sloMillis: number,
): PhaseFigures {
  const span = record.slice(from, to)
  const judged = phase.kind === 'overload' ? span.slice(OVERLOAD_SETTLE_SECONDS) : span
  const sum = (xs: SecondCounts[], f: (s: SecondCounts) => number) => xs.reduce((a, s) => a + f(s), 0)
  const goodput = judged.length === 0 ? 0 : sum(judged, (s) => s.good) / judged.length
  const within = judged.filter((s) => s.latencies.length === 0 || p99Of(s) <= sloMillis).length
  const all = judged.flatMap((s) => s.latencies).sort((a, b) => a - b)
  const offered = sum(judged, (s) => s.offered)
  const base = {
    phase,
    from,
    to,
    offered: judged.length === 0 ? 0 : offered / judged.length,
    goodput,
    goodputShare: goodput / capacity,
    windowsWithinSlo: judged.length === 0 ? 0 : within / judged.length,
    p99: percentile(all, 0.99),
    shedShare: offered === 0 ? 0 : sum(judged, (s) => s.shed) / offered,
    worstSecondShed: Math.max(0, ...span.map(shedShareOf)),
  }
  if (judged.length === 0)
    return { ...base, settledAfter: undefined, bar: '–', value: 'no second to judge', met: undefined }
  switch (phase.kind) {
    case 'overload':
      return {
        ...base,
        settledAfter: undefined,
        bar: `after ${OVERLOAD_SETTLE_SECONDS} s: ≥ 99 % of 1-s windows p99 ≤ ${sloMillis} ms, goodput ≥ 95 % of capacity`,
        value: `${pct(base.windowsWithinSlo)} of windows, goodput ${pct(base.goodputShare)}`,
        met: base.windowsWithinSlo >= 0.99 && base.goodputShare >= 0.95,
      }
    case 'drop': {
      const over = (s: SecondCounts) => shedShareOf(s) > DROP_SHED_SHARE
      const first = span.findIndex((s) => !over(s))
      const after = span.findLastIndex(over) + 1
      const late = span.slice(DROP_RECOVERY_SECONDS).filter(over).length
      const judgeable = span.length > DROP_RECOVERY_SECONDS || after > DROP_RECOVERY_SECONDS
      return {
        ...base,
        settledAfter: after,
        bar: `no second sheds > ${pct(DROP_SHED_SHARE)} from ${DROP_RECOVERY_SECONDS} s after the drop`,
        value:
          after === 0
            ? 'no second over'
            : `admitting all from ${first < 0 ? 'never' : `${first} s`}, last second over ${pct(DROP_SHED_SHARE)} at ${after - 1} s (${late} over after ${DROP_RECOVERY_SECONDS} s)`,
        met: judgeable ? after <= DROP_RECOVERY_SECONDS : undefined,
      }
    }
    case 'no-shed':
      return {
        ...base,
        settledAfter: undefined,
        bar: `shedding ≤ ${pct(NO_SHED_SHARE, 0)}`,
        value: `${pct(base.shedShare, 2)} shed`,
        met: base.shedShare <= NO_SHED_SHARE,
      }
    case 'controller-step': {
      const last = span.findLastIndex((s) => s.latencies.length > 0 && p99Of(s) > sloMillis)
      const after = last + 1
      const judgeable = span.length > CONTROLLER_SECONDS || after > CONTROLLER_SECONDS
      return {
        ...base,
        settledAfter: after,
        bar: `controller alone: every 1-s window p99 ≤ ${sloMillis} ms from ${CONTROLLER_SECONDS} s after the step`,
        value: last < 0 ? 'within from the start' : `within from ${after} s`,
        met: judgeable ? after <= CONTROLLER_SECONDS : undefined,
      }
    }
    case 'baseline':
      return { ...base, settledAfter: undefined, bar: '–', value: `${pct(base.shedShare, 2)} shed`, met: undefined }
  }
}

/** The p99 of one second's 200s, ms (NaN without any). */
export function secondP99(s: SecondCounts): number {
  return p99Of(s)
}

/** The share of one second's arrivals shed. */
export function secondShedShare(s: SecondCounts): number {
  return shedShareOf(s)
}
