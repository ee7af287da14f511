/**
 * npm run bench:overload — a real fastify app with a bounded backend (bench/lib/overload-server.ts:
 * 16 slots, lognormal 20 ms, so 800 requests a second at most) under open-loop load at 2× its
 * capacity, three times: no protection, @fastify/under-pressure, and Governor's limiter through
 * @governor/throttle/fastify. The server is pinned to core 1 (`taskset -c 1`), the load
 * generator (this process) to core 0.
 *
 * The load (bench/lib/paced-load.ts) is a seeded Poisson schedule of arrivals sent over a fixed
 * set of connections, one request at a time each: the offered rate does not depend on how fast
 * the server answers and does not come in bursts. An arrival the generator cannot send on time
 * (more than --late-ms overdue, or no idle connection) counts as offered and not served.
 *
 * Options: --seconds 20 (per run; the first 5 are not judged) --rate 1600 --connections 2000
 *          --late-ms 20 --slots 16 --mean-ms 20 --timeout-s 1 --seed 1
 *          --out bench/results/overload.md (chart: .svg)
 */
import { execFileSync, spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { seeded } from '../test/helpers/random.ts'
import { lineChartSvg } from './lib/line-chart.ts'
import { startPacedLoad, type PacedSecond } from './lib/paced-load.ts'
import { stop, waitReady, type Server } from './lib/peer-servers.ts'
import { machine, percentile } from './lib/proc.ts'
import { evenness, poissonQuantile, type Evenness } from './lib/send-evenness.ts'

const { values: opt } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    rate: { type: 'string', default: '1600' },
    connections: { type: 'string', default: '2000' },
    'late-ms': { type: 'string', default: '20' },
    instances: { type: 'string' },
    slots: { type: 'string', default: '16' },
    'mean-ms': { type: 'string', default: '20' },
    'timeout-s': { type: 'string', default: '1' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string', default: 'bench/results/overload.md' },
  },
})
if (opt.instances !== undefined)
  throw new Error(
    `--instances is gone (got ${opt.instances}): the load is paced per arrival now; --connections sets how many requests can wait at once`,
  )
const SECONDS = Number(opt.seconds),
  RATE = Number(opt.rate),
  CONNECTIONS = Number(opt.connections),
  LATE_MS = Number(opt['late-ms'])
const SLOTS = Number(opt.slots),
  MEAN = Number(opt['mean-ms']),
  TIMEOUT_S = Number(opt['timeout-s']),
  SEED = Number(opt.seed)
const CAPACITY = (SLOTS * 1000) / MEAN
const SLO_MS = 200
const WARMUP_S = 5
if (!(SECONDS > WARMUP_S))
  throw new Error(`--seconds must be more than the ${WARMUP_S} s not judged; got ${opt.seconds}`)
const MODES = ['none', 'under-pressure', 'governor'] as const
type Mode = (typeof MODES)[number]
const LABEL: Record<Mode, string> = {
  none: 'no protection',
  'under-pressure': '@fastify/under-pressure',
  governor: 'Governor (SloGradientLimit, p90 at 100 ms)',
}

// Pinning needs two cores: the server on one, the load generator on the other.
const CORES = cpus().length
const PINNED = CORES >= 2
if (PINNED) execFileSync('taskset', ['-acp', '0', String(process.pid)], { stdio: 'ignore' })

interface RunFigures {
  mode: Mode
  /** By the second each request was scheduled to arrive in. */
  perSecond: PacedSecond[]
  goodLatencies: number[]
  sends: Evenness
  samples: [number, number | null, number][]
  load: string
}

async function runMode(mode: Mode): Promise<RunFigures> {
  const cmd = [
    ...(PINNED ? ['taskset', '-c', '1'] : []),
    process.execPath,
    '--import',
    'tsx',
    'bench/lib/overload-server.ts',
    '--mode',
    mode,
    '--slots',
    String(SLOTS),
    '--mean-ms',
    String(MEAN),
    '--target-ms',
    String(SLO_MS / 2),
  ]
  const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString()
      const m = /listening (\d+)/.exec(output)
      if (m !== null) resolve(Number(m[1]))
    })
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString()
    })
    child.once('exit', (code) => reject(new Error(`the ${mode} server exited (${code}):\n${output}`)))
  })
  const server: Server = { name: mode, child, pid: child.pid!, url: `http://127.0.0.1:${port}`, output: () => output }
  try {
    await waitReady(server, '/stats')
    const load = startPacedLoad({
      origin: server.url,
      path: '/work',
      ratePerSecond: RATE,
      connections: CONNECTIONS,
      timeoutMillis: TIMEOUT_S * 1000,
      lateMillis: LATE_MS,
      random: seeded(SEED),
    })
    // A little past the last second, so that the generator has reached every arrival in it.
    await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000 + 50))
    await load.stop()
    const res = await fetch(`${server.url}/stats`)
    if (!res.ok) throw new Error(`GET /stats of the ${mode} server answered ${res.status}: ${await res.text()}`)
    const stats = (await res.json()) as { samples: [number, number | null, number][] }
    const perSecond = load.seconds.slice(0, SECONDS)
    return {
      mode,
      perSecond,
      goodLatencies: perSecond
        .slice(WARMUP_S)
        .flatMap((s) => s.latencies)
        .sort((a, b) => a - b),
      sends: evenness(load.sentPer10Millis().subarray(WARMUP_S * 100, SECONDS * 100)),
      samples: stats.samples,
      load: loadavg()[0]!.toFixed(2),
    }
  } finally {
    await stop(server, 5000)
  }
}

const results: RunFigures[] = []
for (const mode of MODES) {
  console.log(`${mode}: ${SECONDS} s at ${RATE} requests/s …`)
  results.push(await runMode(mode))
}

const judged = (r: RunFigures) => r.perSecond.slice(WARMUP_S)
const sum = (r: RunFigures, f: (s: PacedSecond) => number) => judged(r).reduce((t, s) => t + f(s), 0)
const perSecondShare = (r: RunFigures, f: (s: PacedSecond) => number) =>
  `${((sum(r, f) / judged(r).length / CAPACITY) * 100).toFixed(1)} %`
const count = (r: RunFigures, f: (s: PacedSecond) => number) => sum(r, f).toLocaleString('en-US')
const withinSlo = (s: PacedSecond) => s.latencies.filter((l) => l <= SLO_MS).length
const ms = (x: number) => (Number.isFinite(x) ? `${Math.round(x)} ms` : '–')
// Governor alone: the unprotected runs' queues reach thousands and would flatten its lines.
const gov = results[2]!
const chart = lineChartSvg({
  title: `Governor under a 2× overload of a real fastify app`,
  xLabel: 'seconds',
  yLabel: 'requests',
  series: [
    { label: 'in flight', points: gov.samples.map(([t, , i]) => [t / 1000, i] as [number, number]) },
    { label: 'limit', points: gov.samples.map(([t, l]) => [t / 1000, l ?? 0] as [number, number]) },
  ],
})
const govLimits = gov.samples.filter(([t]) => t >= WARMUP_S * 1000).map(([, l]) => l ?? 0)
const svgName = opt.out!.replace(/\.md$/, '.svg')
writeFileSync(svgName, chart)
writeFileSync(
  opt.out!,
  `# Overload of a real fastify app

Generated by \`npm run bench:overload\` (\`bench/overload.ts\`, server \`bench/lib/overload-server.ts\`, load
\`bench/lib/paced-load.ts\`). Machine: ${machine()}. Run at ${new Date().toISOString()}.

A fastify app whose route waits for a bounded backend: a semaphore of ${SLOTS} slots held for a
lognormal time (mean ${MEAN} ms, σ 0.5) by setTimeout, so at most ${CAPACITY} requests a second; the rest
queue in the app. It is offered ${RATE} requests a second (${(RATE / CAPACITY).toFixed(1)}× capacity) for ${SECONDS} s per run, with a
${TIMEOUT_S} s timeout; the first ${WARMUP_S} s are not judged. ${
    PINNED
      ? 'The server is pinned to core 1 (`taskset -c 1`), the load generator (the bench process) to core 0; other processes on the machine are not kept off them.'
      : 'Fewer than 2 cores: server and load generator share the CPU (not pinned).'
  }

**How the load is generated.** Open loop: arrivals follow a Poisson schedule (seed ${SEED}) fixed in advance,
whatever the server answers, and go out over ${CONNECTIONS.toLocaleString('en-US')} keep-alive connections, one request at a time
each. A timer every ~1 ms sends each arrival that has come due on an idle connection. An arrival more
than ${LATE_MS} ms overdue when the generator gets to it, or with no idle connection, is not sent and counts as
offered and not served (column "not sent"): nothing is queued on the client, and after a stall at most
${LATE_MS} ms of arrivals go out together. Many not sent means the generator was not given its core: those runs
measure the machine as much as the server (a run whose requests time out also costs the generator a new
connection per request).
Latency runs from the scheduled arrival, not from the send; a request with no answer ${TIMEOUT_S} s after its
arrival is a client timeout, and its connection is closed, as a client that gives up closes it.
Every request is counted in the second it was scheduled to arrive in. Since the arrivals do not wait
for answers, the unprotected app's queue grows by the excess every second without bound, and the
backend goes on serving requests whose clients have left (fastify does not cancel their handlers).
How evenly the requests went out, sent per 10 ms over the judged seconds (a Poisson process at this rate
has a mean of ${RATE / 100} and a 99th percentile of ${poissonQuantile(RATE / 100, 0.99)}):
${results.map((r) => `${r.mode} mean ${r.sends.mean.toFixed(1)}, p99 ${r.sends.p99}, max ${r.sends.max}`).join('; ')}.

Capacity is the nominal ${SLOTS} ÷ ${MEAN} ms; the service times drawn average a little off that mean, so a saturated
backend can show slightly more than 100 %.
The machine is shared: 1-minute load average after each run ${results.map((r) => `${r.mode} ${r.load}`).join(', ')} (${CORES} cores).

| run | offered | not sent (late / no connection) | goodput (200 within ${TIMEOUT_S} s, % of capacity) | 200s within ${SLO_MS} ms, % of capacity | p50 of 200s | p99 of 200s | shed (503) | client timeouts | other statuses and errors | peak in flight |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${results.map((r) => `| ${LABEL[r.mode]} | ${count(r, (s) => s.offered)} | ${count(r, (s) => s.late)} / ${count(r, (s) => s.noConnection)} | ${perSecondShare(r, (s) => s.good)} | ${perSecondShare(r, withinSlo)} | ${ms(percentile(r.goodLatencies, 0.5))} | ${ms(percentile(r.goodLatencies, 0.99))} | ${count(r, (s) => s.shed)} | ${count(r, (s) => s.timedOut)} | ${count(r, (s) => s.other)} | ${Math.max(...r.samples.map(([, , i]) => i)).toLocaleString('en-US')} |`).join('\n')}

Counts are over the judged seconds (${WARMUP_S}–${SECONDS}); peak in flight over the whole run.
Governor's limit, sampled every 250 ms (seconds ${WARMUP_S}–${SECONDS}): min ${Math.min(...govLimits)}, max ${Math.max(...govLimits)}; the plugin sheds sheddable routes at the limit less its default critical reserve (20 %).

Requests by the second they were scheduled in, 200 within ${TIMEOUT_S} s / 503:

| second | ${results.map((r) => r.mode).join(' | ')} |
|---:|${results.map(() => '---:').join('|')}|
${results[0]!.perSecond.map((_, s) => `| ${s + 1} | ${results.map((r) => `${r.perSecond[s]?.good ?? 0} / ${r.perSecond[s]?.shed ?? 0}`).join(' | ')} |`).join('\n')}

![Governor: in flight and limit](${svgName.split('/').at(-1)})
`,
)
console.log(`wrote ${opt.out} and ${svgName}`)
