/**
 * npm run bench:loop — both feedback loops end to end: a real fastify app with
 * @governor/throttle (bench/lib/loop-server.ts: a bounded backend of 16 slots, lognormal 40 ms,
 * so 400 requests a second; the limiter's max bound on the knob `max-concurrency`, default 256),
 * a real Governor (embedded store) to which the app sends its OTel metrics, with an SLO of
 * p99 ≤ 200 ms on the app's `http.server.request.duration` and an active `gradient` controller
 * on the knob. Open-loop Poisson load (bench/lib/open-loop-load.ts) through phases: 0.5× → 2× →
 * 0.5× capacity, capacity halved then back at 0.8×, a dependency 50 ms slower at 0.5×, a CPU
 * hog pinned beside the app at 0.5× (bench/lib/loop-phases.ts). A second run mode has the
 * fast loop off (a FixedLimit on the knob): the controller alone against a 2× step.
 *
 * Governor and this process (the load) are pinned to core 0, the app to core 1 (the CPU hog
 * too, when it runs); other processes on the machine are not kept off them.
 *
 * The backend is slow (40 ms) rather than wide: the app then needs a small share of its core
 * to serve its capacity, so the figures say more about the loops than about the machine.
 *
 * Options: --seconds 40 (per phase) --step-seconds 90 (the controller-only 2× step)
 *          --quick (15 s phases, a 30 s step: to try the bench, not to judge it)
 *          --modes both-loops,controller-only --slots 16 --mean-ms 40 --export-ms 5000
 *          --out bench/results/loop.md (chart: .svg)
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { seeded } from '../test/helpers/random.ts'
import { judgePhase, phasesOf, type Phase, type RunMode } from './lib/loop-phases.ts'
import { renderLoopReport, type LoopRun } from './lib/loop-report.ts'
import { startOpenLoopLoad, type OpenLoopLoad } from './lib/open-loop-load.ts'
import { startGovernor, stop, waitReady, type Server } from './lib/peer-servers.ts'
import { cpuSeconds, machine } from './lib/proc.ts'

const { values: opt } = parseArgs({
  options: {
    seconds: { type: 'string' },
    'step-seconds': { type: 'string' },
    quick: { type: 'boolean', default: false },
    modes: { type: 'string', default: 'both-loops,controller-only' },
    slots: { type: 'string', default: '16' },
    'mean-ms': { type: 'string', default: '40' },
    'export-ms': { type: 'string', default: '5000' },
    out: { type: 'string', default: 'bench/results/loop.md' },
  },
})
const SECONDS = Number(opt.seconds ?? (opt.quick ? 15 : 40))
const STEP_SECONDS = Number(opt['step-seconds'] ?? (opt.quick ? 30 : 90))
const SLOTS = Number(opt.slots),
  MEAN = Number(opt['mean-ms'])
const CAPACITY = (SLOTS * 1000) / MEAN
const SLO_MILLIS = 200
/** The fast loop holds p90 at half the SLO's threshold, as bench:overload and bench:control do. */
const TARGET_MILLIS = SLO_MILLIS / 2
const TIMEOUT_MILLIS = 1000
const KNOB_DEFAULT = 256
const SERVICE = 'loop-app'
const MODES = opt.modes!.split(',') as RunMode[]
for (const m of MODES)
  if (m !== 'both-loops' && m !== 'controller-only') throw new Error(`--modes: both-loops or controller-only, got ${m}`)

// Pinning needs two cores: Governor and the load on one, the app on the other.
const PINNED = cpus().length >= 2
if (PINNED) execFileSync('taskset', ['-acp', '0', String(process.pid)], { stdio: 'ignore' })
const pinnedTo = (core: string) => (PINNED ? ['taskset', '-c', core] : [])
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function startApp(governorUrl: string, mode: RunMode): Promise<Server> {
  const cmd = [
    ...pinnedTo('1'),
    process.execPath,
    '--import',
    'tsx',
    'bench/lib/loop-server.ts',
    ...['--governor', governorUrl, '--service', SERVICE, '--fast-loop', mode === 'both-loops' ? 'on' : 'off'],
    ...['--slots', String(SLOTS), '--mean-ms', String(MEAN), '--target-ms', String(TARGET_MILLIS)],
    ...['--knob-default', String(KNOB_DEFAULT), '--export-ms', opt['export-ms']!],
  ]
  const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const port = await new Promise<number>((resolve, reject) => {
    const keep = (d: Buffer) => {
      output = (output + d.toString()).slice(-8000)
      const m = /listening (\d+)/.exec(output)
      if (m !== null) resolve(Number(m[1]))
    }
    child.stdout.on('data', keep)
    child.stderr.on('data', keep)
    child.once('exit', (code) => reject(new Error(`the app exited (${code}):\n${output}`)))
  })
  const app: Server = { name: 'app', child, pid: child.pid!, url: `http://127.0.0.1:${port}`, output: () => output }
  await waitReady(app, '/stats')
  return app
}

async function call(url: string, method: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  if (!res.ok) throw new Error(`${method} ${url} answered ${res.status}: ${text}`)
  return JSON.parse(text) as Record<string, unknown>
}

/** The SLO on the app's latency and the active controller on its knob, as an operator defines them. */
async function defineLoop(governorUrl: string): Promise<void> {
  await call(`${governorUrl}/api/v1/slos/${SERVICE}/latency`, 'PUT', {
    sli: { type: 'latency', metric: 'http.server.request.duration', percentile: 99, threshold_ms: SLO_MILLIS },
    objective: 99,
    window: '30d',
    actor: 'bench',
    reason: `p99 within ${SLO_MILLIS} ms`,
  })
  await call(`${governorUrl}/api/v1/controllers/${SERVICE}/concurrency`, 'PUT', {
    knob: 'max-concurrency',
    slo: 'latency',
    algorithm: 'gradient',
    interval_ms: 5000,
    mode: 'active',
    actor: 'bench',
    reason: 'bound the concurrency to hold the latency SLO',
  })
}

/** A busy process on the app's core. */
function startCpuHog(): ChildProcess {
  const cmd = [...pinnedTo('1'), process.execPath, '-e', 'for (;;) {}']
  return spawn(cmd[0]!, cmd.slice(1), { stdio: 'ignore' })
}

/** Runs the phases against the app, changing its backend and the load at each; the seconds each spans and the app's CPU in each. */
async function runPhases(
  app: Server,
  load: OpenLoopLoad & { startedAt: number },
  phases: Phase[],
): Promise<{ spans: [number, number][]; appCpu: number[]; loadAverage: number[] }> {
  const spans: [number, number][] = []
  const appCpu: number[] = []
  const loadAverage: number[] = []
  let at = 0
  for (const phase of phases) {
    const cpuBefore = cpuSeconds(app.pid)
    console.log(`${phase.name} for ${phase.seconds} s`)
    await call(`${app.url}/control`, 'POST', {
      slots: Math.round(SLOTS * phase.slotShare),
      dependencyMillis: phase.dependencyMillis,
    })
    const hog = phase.cpuHog ? startCpuHog() : undefined
    try {
      load.setRate(phase.load * CAPACITY)
      spans.push([at, at + phase.seconds])
      at += phase.seconds
      await sleep(load.startedAt + at * 1000 - performance.now())
      appCpu.push((cpuSeconds(app.pid) - cpuBefore) / phase.seconds)
      loadAverage.push(loadavg()[0]!)
    } finally {
      hog?.kill('SIGKILL')
    }
  }
  return { spans, appCpu, loadAverage }
}

interface ChangeLogEvent {
  time: string
  actor: string
  title: string
  data: { before?: number; after?: number }
}

/** The controller's changes of the knob, from Governor's change log, in seconds since `startedAtEpoch`. */
async function decisions(governorUrl: string, startedAtEpoch: number): Promise<LoopRun['decisions']> {
  const { events } = (await call(`${governorUrl}/api/v1/events?kind=knob&service=${SERVICE}&limit=1000`, 'GET')) as {
    events: ChangeLogEvent[]
  }
  return events
    .filter((e) => e.actor.startsWith('controller:'))
    .map((e) => ({ second: (Date.parse(e.time) - startedAtEpoch) / 1000, before: e.data.before, after: e.data.after }))
    .sort((a, b) => a.second - b.second)
}

async function runMode(mode: RunMode): Promise<LoopRun> {
  const dataDir = `bench/.work/loop-${process.pid}-${mode}`
  rmSync(dataDir, { recursive: true, force: true })
  mkdirSync(dataDir, { recursive: true })
  const governor = await startGovernor(dataDir, PINNED ? { cpu: '0' } : {})
  let app: Server | undefined
  let load: (OpenLoopLoad & { startedAt: number }) | undefined
  try {
    app = await startApp(governor.url, mode)
    await defineLoop(governor.url)
    console.log(`${mode}:`)
    const phases = phasesOf(mode, SECONDS, STEP_SECONDS)
    load = startOpenLoopLoad({
      origin: app.url,
      path: '/work',
      timeoutMillis: TIMEOUT_MILLIS,
      connections: 4096,
      random: seeded(7),
    })
    const startedAtEpoch = Date.now() - (performance.now() - load.startedAt)
    const { spans, appCpu, loadAverage } = await runPhases(app, load, phases)
    load.setRate(0)
    await load.stop()
    const { samples } = (await call(`${app.url}/stats`, 'GET')) as {
      samples: [number, number, number, number, string, number][]
    }
    const capacityOf = (phase: Phase) => (Math.round(SLOTS * phase.slotShare) * 1000) / MEAN
    return {
      mode,
      phases: phases.map((phase, i) =>
        judgePhase(phase, load!.seconds, spans[i]![0], spans[i]![1], capacityOf(phase), SLO_MILLIS),
      ),
      record: load.seconds.slice(0, spans.at(-1)![1]),
      appCpu,
      loadAverage,
      samples: samples.map(([t, limit, inflight, knob, reason, lateMillis]) => ({
        second: (t - startedAtEpoch) / 1000,
        limit,
        inflight,
        knob,
        reason,
        lateMillis,
      })),
      decisions: await decisions(governor.url, startedAtEpoch),
      load: loadavg()
        .map((l) => l.toFixed(2))
        .join(' '),
    }
  } finally {
    await load?.stop()
    await stop(app, 5000)
    await stop(governor, 10_000)
    rmSync(dataDir, { recursive: true, force: true })
  }
}

const started = performance.now()
const runs: LoopRun[] = []
for (const mode of MODES) runs.push(await runMode(mode))
const svgName = opt.out!.replace(/\.md$/, '.svg')
const { md, svg } = renderLoopReport({
  runs,
  machine: machine(),
  at: new Date().toISOString(),
  elapsedSeconds: (performance.now() - started) / 1000,
  pinned: PINNED,
  quick: opt.quick!,
  capacity: CAPACITY,
  slots: SLOTS,
  meanMillis: MEAN,
  sloMillis: SLO_MILLIS,
  targetMillis: TARGET_MILLIS,
  timeoutMillis: TIMEOUT_MILLIS,
  knobDefault: KNOB_DEFAULT,
  exportMillis: Number(opt['export-ms']),
  svgName: svgName.split('/').at(-1)!,
})
writeFileSync(opt.out!, md)
writeFileSync(svgName, svg)
console.log(`wrote ${opt.out} and ${svgName}`)
