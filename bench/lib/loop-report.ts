/** The report of `npm run bench:loop`: markdown with the per-phase bars and the per-second record, and its chart. */
import { lineChartSvg } from './line-chart.ts'
import { secondP99, secondShedShare, type PhaseFigures, type RunMode } from './loop-phases.ts'
import type { SecondCounts } from './open-loop-load.ts'

/** One run mode's record. */
export interface LoopRun {
  mode: RunMode
  phases: PhaseFigures[]
  record: SecondCounts[]
  /** The app's limiter and knob, sampled every 250 ms; `second` since the load started. */
  samples: { second: number; limit: number; inflight: number; knob: number; reason: string; lateMillis: number }[]
  /** The controller's changes of the knob, from Governor's change log. */
  decisions: { second: number; before: number | undefined; after: number | undefined }[]
  /** The app process's CPU time in each phase, share of one core. */
  appCpu: number[]
  /** The machine's 1-minute load average at the end of each phase. */
  loadAverage: number[]
  /** Load average (1, 5, 15 min) when the run ended. */
  load: string
}

export interface LoopReportInput {
  runs: LoopRun[]
  machine: string
  at: string
  elapsedSeconds: number
  pinned: boolean
  quick: boolean
  capacity: number
  slots: number
  meanMillis: number
  sloMillis: number
  targetMillis: number
  timeoutMillis: number
  knobDefault: number
  exportMillis: number
  svgName: string
}

const TITLE: Record<RunMode, string> = {
  'both-loops': 'Both loops: SloGradientLimit in the app, the gradient controller on its max bound',
  'controller-only': 'The controller alone: a FixedLimit on the knob, no fast loop',
}

const pct = (x: number, digits = 1) => `${(x * 100).toFixed(digits)} %`
const ms = (x: number) => (Number.isFinite(x) ? `${Math.round(x)} ms` : '–')
const verdict = (met: boolean | undefined) => (met === undefined ? 'not judged (phase too short)' : met ? '✓' : '✗')

/** Per second: the last sample of the limiter and knob in it. */
function perSecondSamples(run: LoopRun): (LoopRun['samples'][number] | undefined)[] {
  const out: (LoopRun['samples'][number] | undefined)[] = []
  for (const s of run.samples) {
    const second = Math.floor(s.second)
    if (second >= 0 && second < run.record.length) out[second] = s
  }
  return out
}

function phaseTable(run: LoopRun): string {
  return `| phase | seconds | load average | app CPU | app stalled at most | offered /s | goodput /s (% of capacity) | windows p99 ≤ SLO | p99 | shed | worst second shed | bar | figure | met |
|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|
${run.phases
  .map(
    (f, i) =>
      `| ${f.phase.name} | ${f.from}–${f.to} | ${(run.loadAverage[i] ?? NaN).toFixed(1)} | ${pct(run.appCpu[i] ?? NaN, 0)} | ${ms(stalledIn(run, f))} | ${Math.round(f.offered)} | ${Math.round(f.goodput)} (${pct(f.goodputShare)}) | ${pct(f.windowsWithinSlo)} | ${ms(f.p99)} | ${pct(f.shedShare, 2)} | ${pct(f.worstSecondShed, 1)} | ${f.bar} | ${f.value} | ${verdict(f.met)} |`,
  )
  .join('\n')}`
}

function secondTable(run: LoopRun): string {
  const samples = perSecondSamples(run)
  const stalled = (s: number) => {
    const late = run.samples.filter((x) => Math.floor(x.second) === s).map((x) => x.lateMillis)
    return late.length === 0 ? '> 1 s' : ms(Math.max(...late))
  }
  const phaseAt = (s: number) => run.phases.find((f) => s >= f.from && s < f.to)?.phase.name ?? ''
  const decided = (s: number) =>
    run.decisions
      .filter((d) => Math.floor(d.second) === s)
      .map((d) => `${d.before} → ${d.after}`)
      .join(', ')
  return `| second | phase | offered | goodput | p99 | shed | failed | send lag | app stalled | limit | in flight | knob | limit's reason | controller |
|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|
${run.record
  .map((c, s) => {
    const sample = samples[s]
    return `| ${s} | ${phaseAt(s)} | ${c.offered} | ${c.good} | ${ms(secondP99(c))} | ${pct(secondShedShare(c), 1)} | ${c.failed} | ${ms(c.sendLagMillis)} | ${stalled(s)} | ${sample?.limit ?? '–'} | ${sample?.inflight ?? '–'} | ${sample?.knob ?? '–'} | ${sample?.reason ?? '–'} | ${decided(s)} |`
  })
  .join('\n')}`
}

/** Two charts of a run stacked: requests a second and p99; limit, in flight and knob. */
function runCharts(run: LoopRun): string[] {
  const second = (f: (c: SecondCounts) => number) =>
    run.record.map((c, s) => [s, f(c)] as [number, number]).filter(([, v]) => Number.isFinite(v))
  const traffic = lineChartSvg({
    title: `${run.mode}: offered, goodput (/s) and p99 of 200s (ms)`,
    xLabel: 'seconds',
    yLabel: 'requests a second · ms',
    series: [
      { label: 'offered /s', points: second((c) => c.offered) },
      { label: 'goodput /s', points: second((c) => c.good) },
      { label: 'p99 ms', points: second(secondP99) },
    ],
  })
  const limits = lineChartSvg({
    title: `${run.mode}: the limiter's limit, in flight, the knob (controller's bound)`,
    xLabel: 'seconds',
    yLabel: 'requests',
    series: [
      { label: 'limit', points: run.samples.map((s) => [s.second, s.limit] as [number, number]) },
      { label: 'in flight', points: run.samples.map((s) => [s.second, s.inflight] as [number, number]) },
      { label: 'knob', points: run.samples.map((s) => [s.second, s.knob] as [number, number]) },
    ],
  })
  return [traffic, limits]
}

/** Stacks standalone SVG charts into one SVG. */
function stack(charts: string[]): string {
  const sizes = charts.map((c) => ({
    width: Number(/width="(\d+)"/.exec(c)?.[1] ?? 0),
    height: Number(/height="(\d+)"/.exec(c)?.[1] ?? 0),
  }))
  const width = Math.max(...sizes.map((s) => s.width))
  let y = 0
  const parts = charts.map((c, i) => {
    const part = c.replace('<svg ', `<svg y="${y}" `)
    y += sizes[i]!.height
    return part
  })
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}">\n${parts.join('\n')}</svg>\n`
}

/** The most a sample of the app came late within a phase, ms. */
function stalledIn(run: LoopRun, f: PhaseFigures): number {
  return Math.max(0, ...run.samples.filter((s) => s.second >= f.from && s.second < f.to).map((s) => s.lateMillis))
}

/** A stall this long (the app's event loop not running) is about a p99 of this bench's SLO on its own. */
const MACHINE_BOUND_MILLIS = 100

/** Every judged bar of every run, one line each. */
function barsTable(runs: LoopRun[]): string {
  const rows = runs.flatMap((run) =>
    run.phases
      .filter((f) => f.phase.kind !== 'baseline')
      .map(
        (f) =>
          `| ${run.mode} | ${f.phase.name} | ${f.bar} | ${f.value} | ${ms(stalledIn(run, f))} | ${verdict(f.met)} |`,
      ),
  )
  const judged = runs.flatMap((run) => run.phases.filter((f) => f.met !== undefined))
  const bound = runs.flatMap((run) => run.phases.filter((f) => stalledIn(run, f) >= MACHINE_BOUND_MILLIS))
  return `${judged.filter((f) => f.met === true).length} of ${judged.length} judged bars hold. In ${bound.length} of ${runs.reduce((n, run) => n + run.phases.length, 0)} phases the app's event loop stood still for ${MACHINE_BOUND_MILLIS} ms or more at least once (*app stalled*: the machine did not give it the CPU, or it was busy): there the figures say as much about the machine as about the loops.

| run | phase | bar | figure | app stalled at most | met |
|---|---|---|---|---:|---|
${rows.join('\n')}`
}

/** The markdown report and the SVG. */
export function renderLoopReport(r: LoopReportInput): { md: string; svg: string } {
  const svg = stack(r.runs.flatMap(runCharts))
  const md = `# Both feedback loops, end to end

Generated by \`npm run bench:loop\`${r.quick ? ' --quick (short phases: a try of the bench, not a judgement)' : ''} (\`bench/loop.ts\`, app \`bench/lib/loop-server.ts\`, phases and bars \`bench/lib/loop-phases.ts\`).
Machine: ${r.machine}. Run at ${r.at}, in ${Math.round(r.elapsedSeconds)} s. ${
    r.pinned
      ? 'Governor and the load generator (the bench process) are pinned to core 0, the app (and the CPU hog, in its phase) to core 1 (`taskset`); the machine is shared with other benchmarks, which are not kept off those cores.'
      : 'Fewer than 2 cores: nothing is pinned.'
  } Load average (1, 5, 15 min) at the end of each run: ${r.runs.map((run) => `${run.mode} ${run.load}`).join('; ')}.

## Setup

- **The app**: fastify, one route that waits for a bounded backend (a semaphore of ${r.slots} slots held for a lognormal time, mean ${r.meanMillis} ms, σ 0.5: ${r.capacity} requests a second at most), then for a dependency that holds no slot (0 ms, 50 ms in its phase). In front of it \`@governor/throttle/fastify\` with its defaults (critical reserve 20 %, \`Retry-After\` from the limiter); the limiter's max bound is the knob \`max-concurrency\` (default ${r.knobDefault}, [1, 1000]) through \`bindBounds\`. Both loops: \`SloGradientLimit\` holding p90 at ${r.targetMillis} ms, other options default. Controller alone: \`FixedLimit\` bound to the knob.
- **Its metrics**: the OTel SDK's \`http.server.request.duration\` (seconds, every status, as the HTTP conventions have it) and the limiter's metrics (\`governor.limiter.*\`, naming the knob) over OTLP/HTTP to Governor every ${r.exportMillis / 1000} s.
- **Governor**: \`governor start\`, embedded store, an SLO \`latency\`: p99 of \`http.server.request.duration\` ≤ ${r.sloMillis} ms, objective 99 %; an active \`gradient\` controller on \`max-concurrency\` every 5 s (its defaults: the p99 of the last 30 s, a 30 s cooldown; while lowering, the step grows and the cooldown shrinks with the burn rate).
- **Load**: open loop, Poisson arrivals at the phase's rate (× ${r.capacity} a second), each request on a connection of its own from a pool of up to 4,096 (undici), timed from its scheduled arrival; a request not answered within ${r.timeoutMillis / 1000} s counts as failed. Per second (by arrival): offered, goodput (200s within the timeout), p99 of the 200s, shed (503) share, failed (timeouts, errors), and send lag (how late the generator sent the second's latest request: latency the client adds). *App CPU*: the app process's CPU time over the phase, share of one core; *app stalled*: the most a 250 ms timer in the app fired late (time its event loop did not run: busy, or not given the CPU); *load average*: the machine's, 1 minute, at the phase's end.
- **Bars**: after 10 s of each overload, ≥ 99 % of 1-s windows with p99 ≤ ${r.sloMillis} ms and goodput ≥ 95 % of the phase's capacity; within 30 s of each drop no second sheds more than 0.1 %; at half load with a slow dependency or a CPU hog beside the app, shedding ≤ 1 %; the controller alone brings p99 within the SLO within 60 s of a 2× step (judged strictly: every later 1-s window of the step within it). Figures of overload phases are over their seconds after the first 10; of other phases over all their seconds.

## The bars

${barsTable(r.runs)}

${r.runs
  .map(
    (run) => `## ${TITLE[run.mode]}

${phaseTable(run)}

Controller decisions (Governor's change log): ${run.decisions.length === 0 ? 'none' : run.decisions.map((d) => `${d.second.toFixed(0)} s: ${d.before} → ${d.after}`).join('; ')}.

<details><summary>Per second</summary>

${secondTable(run)}

</details>
`,
  )
  .join('\n')}
![offered, goodput, p99; limit, in flight and knob, per run](${r.svgName})
`
  return { md, svg }
}
