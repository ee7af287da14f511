/**
 * npm run bench:ingest — OTLP protobuf into a running Governor, then the engine's own
 * INSERT … SELECT of the same rows as the ceiling, in one run.
 *
 * Options: --series 10000 --points 1000 (per request) --seconds 20 --senders 8
 *          --server-cpu N (taskset the server to core N; the generator takes the others)
 *          --profile DIR (write a V8 CPU profile of the server)
 */
import { spawn } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { Agent, request } from 'undici'
import { freePort } from '../test/helpers/server.ts'
import { buildTemplate, patch, type Template } from './lib/otlp-template.ts'
import { cpuSeconds, machine, peakRssBytes, percentile } from './lib/proc.ts'
import { storeFigures } from './lib/store-figures.ts'

const { values: opt } = parseArgs({
  options: {
    series: { type: 'string', default: '10000' },
    points: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '20' },
    senders: { type: 'string', default: '8' },
    'server-cpu': { type: 'string' },
    out: { type: 'string', default: 'bench/results/ingest.md' },
    profile: { type: 'string' },
  },
})
const SERIES = Number(opt.series),
  POINTS = Number(opt.points),
  SECONDS = Number(opt.seconds),
  SENDERS = Number(opt.senders)
const METRICS = Math.ceil(SERIES / POINTS)
const STEP_MS = 10_000
const workDir = `bench/.work/ingest-${process.pid}`
rmSync(workDir, { recursive: true, force: true })
mkdirSync(workDir, { recursive: true })

const port = await freePort()
const taskset = opt['server-cpu'] !== undefined ? ['taskset', '-c', opt['server-cpu']] : []
// --profile DIR writes a V8 CPU profile of the server there.
const profile = opt.profile !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${opt.profile}`] : []
const cmd = [...taskset, process.execPath, ...profile, 'collector/bin/governor.js', 'start']
const server = spawn(cmd[0]!, cmd.slice(1), {
  env: {
    ...process.env,
    GOVERNOR_PORT: String(port),
    GOVERNOR_DATA_DIR: `${workDir}/data`,
    GOVERNOR_LOG_LEVEL: 'warn',
    // Load from one address, far past the per-client request rate limits: off.
    GOVERNOR_RATE_LIMIT_INGEST_PER_MINUTE: '0',
    GOVERNOR_RATE_LIMIT_API_PER_MINUTE: '0',
    // OTLP/gRPC is not benched, and its fixed port may be taken by another Governor on the machine.
    GOVERNOR_GRPC_PORT: '0',
  },
  stdio: ['ignore', 'inherit', 'inherit'],
})
const url = `http://127.0.0.1:${port}`
for (let i = 0; ; i++) {
  try {
    if ((await fetch(`${url}/readyz`)).ok) break
  } catch {
    /* starting */
  }
  if (i > 300) throw new Error('server did not start')
  await new Promise((r) => setTimeout(r, 100))
}
// taskset execs the command, so the pid is node's either way.
const serverPid = server.pid!

// Half the metrics are gauges (integer-valued, wandering), half cumulative counters.
const templates: Template[][] = Array.from({ length: SENDERS }, () =>
  Array.from({ length: METRICS }, (_, m) =>
    buildTemplate({
      service: 'bench',
      metric: `bench.metric_${m}`,
      kind: m % 2 === 0 ? 'gauge' : 'counter',
      series: Math.min(POINTS, SERIES - m * POINTS),
      firstSeries: m * POINTS,
    }),
  ),
)
const base = Math.floor((Date.now() - 86_400_000) / STEP_MS) * STEP_MS
const dispatcher = new Agent({ connections: SENDERS, pipelining: 1 })
const latencies = new Float64Array(10_000_000)
let acked = 0,
  ackedPoints = 0,
  refused = 0,
  nextRequest = 0
let stop = false

async function sender(s: number): Promise<void> {
  while (!stop) {
    const r = nextRequest++
    const m = r % METRICS,
      k = Math.floor(r / METRICS)
    const t = templates[s]![m]!
    patch(
      t,
      base + k * STEP_MS,
      m % 2 === 0 ? (i) => 100 + ((i * 7 + k * 13) % 50) : (i) => k * (1 + (i % 10)) + Math.floor(k / 3),
    )
    const started = performance.now()
    const res = await request(`${url}/v1/metrics`, {
      method: 'POST',
      body: t.body,
      headers: { 'content-type': 'application/x-protobuf' },
      dispatcher,
    })
    await res.body.arrayBuffer()
    if (res.statusCode === 200) {
      latencies[acked++] = performance.now() - started
      ackedPoints += t.timeAt.length
    } else {
      refused++
      await new Promise((r) => setTimeout(r, 100))
    }
  }
}

const cpu0 = cpuSeconds(serverPid)
const wall0 = performance.now()
const senders = Array.from({ length: SENDERS }, (_, s) => sender(s))
await new Promise((r) => setTimeout(r, SECONDS * 1000))
stop = true
await Promise.all(senders)
const wall = (performance.now() - wall0) / 1000
const cpu = cpuSeconds(serverPid) - cpu0
const rss = peakRssBytes(serverPid)
const self = await (await fetch(`${url}/metrics`)).text()
const commits = metricValue(self, 'governor_commit_points_count'),
  commitPoints = metricValue(self, 'governor_commit_points_sum')
const commitSeconds = metricValue(self, 'governor_commit_duration_seconds_sum')
server.kill('SIGTERM')
await new Promise((r) => server.once('exit', r))
await dispatcher.close()

const lat = latencies.slice(0, acked).sort()
const store = await storeFigures(`${workDir}/data`, ackedPoints)
const rows = [
  ['points/s acknowledged', fmt(ackedPoints / wall), fmt(store.ceilingPointsPerSecond)],
  ['points per server CPU-second', fmt(ackedPoints / cpu), fmt(store.ceilingPointsPerCpuSecond)],
  [
    'p50 / p99 acknowledgement latency',
    `${lat.length ? percentile(lat, 0.5).toFixed(1) : '-'} / ${lat.length ? percentile(lat, 0.99).toFixed(1) : '-'} ms`,
    '-',
  ],
  ['server peak RSS', `${(rss / 2 ** 20).toFixed(0)} MiB`, '-'],
  ['bytes per point on disk (after merges)', store.bytesPerPoint.toFixed(3), '-'],
  ['points stored / acknowledged', `${store.storedPoints} / ${ackedPoints}`, '-'],
  ['requests refused (503)', String(refused), '-'],
  [
    'group commits: count, mean points, mean duration',
    `${commits}, ${fmt(commitPoints / commits)}, ${((1000 * commitSeconds) / commits).toFixed(1)} ms`,
    '-',
  ],
]
const report = `# Ingest benchmark

\`npm run bench:ingest -- --series ${SERIES} --points ${POINTS} --seconds ${SECONDS} --senders ${SENDERS}${opt['server-cpu'] !== undefined ? ` --server-cpu ${opt['server-cpu']}` : ''}\`

OTLP protobuf, ${SERIES} series (half gauges, half cumulative counters), ${POINTS} points a request,
${SENDERS} concurrent senders for ${wall.toFixed(1)} s. The ceiling is the same engine running
\`INSERT INTO samples SELECT …\` of ${fmt(store.ceilingRows)} generated rows in-process (no HTTP, no parsing).

Machine: ${machine()}. Run at ${new Date().toISOString()}.

| | Governor (OTLP protobuf over HTTP) | engine INSERT … SELECT (ceiling) |
|---|---|---|
${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}

Bytes per point by column: ${store.columns.map((c) => `${c.name} ${c.bytesPerPoint.toFixed(3)}`).join(', ')}.
`
process.stdout.write(report)
writeFileSync(opt.out!, report)
rmSync(workDir, { recursive: true, force: true })

function metricValue(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
  return line === undefined ? NaN : Number(line.slice(line.lastIndexOf(' ') + 1))
}

function fmt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-'
}
