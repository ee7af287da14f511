/**
 * npm run bench:soak — Governor under steady load for a long time: does memory stay flat, does
 * the event loop stay responsive, is every acknowledged point stored?
 *
 *  1. starts `governor start` (embedded store) in a process of its own;
 *  2. connects --clients throttle clients (`connect()`, each its own SSE stream) in this process;
 *  3. measures the maximum ingest rate with a short closed-loop run (--calibrate-seconds, as
 *     bench:ingest does), unless --rate gives it;
 *  4. ingests OTLP protobuf open-loop at --share (80 %) of it for --minutes, while a knob of the
 *     clients' is changed every --knob-seconds and every client must see each change;
 *  5. every --sample-seconds: the server's RSS (/proc), its JS heap and event-loop delay p99
 *     (GET /metrics: prom-client's monitorEventLoopDelay histogram, reset at each scrape, so
 *     each sample is the window since the last), acknowledged and refused points, errors;
 *  6. stops the load, SIGTERMs the server, opens its store and checks that every acknowledged
 *     request's points are there.
 *
 * Options: --minutes 10 --rate N (points/s; default: measured) --share 0.8 --calibrate-seconds 20
 *          --clients 100 --knob-seconds 3 --sample-seconds 10 --series 10000 --points 1000
 *          --senders 8 --out bench/results/soak.md (the chart goes next to it, .svg)
 * A quick check: npm run bench:soak -- --minutes 1 --calibrate-seconds 5 --out /tmp/soak.md
 */
import { spawn } from 'node:child_process'
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { basename } from 'node:path'
import { parseArgs } from 'node:util'
import { Agent, request } from 'undici'
import { loadSettings } from '../collector/src/settings.ts'
import { connectStore } from '../collector/src/store/connect.ts'
import type { ThrottleClient } from '../throttle/src/client.ts'
import { connect } from '../throttle/src/connect.ts'
import type { Knob } from '../throttle/src/knob.ts'
import { freePort } from '../test/helpers/server.ts'
import { buildTemplate, patch, type Template } from './lib/otlp-template.ts'
import { cpuSeconds, machine, percentile, rssBytes } from './lib/proc.ts'
import { soakReport, type Sample } from './lib/soak-report.ts'

const { values: opt } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    rate: { type: 'string' },
    share: { type: 'string', default: '0.8' },
    'calibrate-seconds': { type: 'string', default: '20' },
    clients: { type: 'string', default: '100' },
    'knob-seconds': { type: 'string', default: '3' },
    'sample-seconds': { type: 'string', default: '10' },
    series: { type: 'string', default: '10000' },
    points: { type: 'string', default: '1000' },
    senders: { type: 'string', default: '8' },
    out: { type: 'string', default: 'bench/results/soak.md' },
  },
})
const MINUTES = Number(opt.minutes),
  SHARE = Number(opt.share),
  CALIBRATE_SECONDS = Number(opt['calibrate-seconds'])
const CLIENTS = Number(opt.clients),
  KNOB_SECONDS = Number(opt['knob-seconds']),
  SAMPLE_SECONDS = Number(opt['sample-seconds'])
const SERIES = Number(opt.series),
  POINTS = Number(opt.points),
  SENDERS = Number(opt.senders)
const METRICS = Math.ceil(SERIES / POINTS)
/** Request r carries metric r % METRICS at time BASE + floor(r / METRICS) * STEP_MS: (metric, time) names it. */
const STEP_MS = 1000
const BASE = Math.floor((Date.now() - 3 * 86_400_000) / STEP_MS) * STEP_MS
/** Open-loop requests in flight at most; past it the generator falls behind its schedule (reported). */
const MAX_IN_FLIGHT = 64
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

// ---------------------------------------------------------------- the server
const workDir = `bench/.work/soak-${process.pid}`
rmSync(workDir, { recursive: true, force: true })
mkdirSync(workDir, { recursive: true })
const dataDir = `${workDir}/data`
const port = await freePort()
const server = spawn(process.execPath, ['collector/bin/governor.js', 'start'], {
  env: {
    ...process.env,
    GOVERNOR_PORT: String(port),
    GOVERNOR_DATA_DIR: dataDir,
    GOVERNOR_LOG_LEVEL: process.env.GOVERNOR_LOG_LEVEL ?? 'warn',
  },
  stdio: ['ignore', 'pipe', 'pipe'],
})
// SOAK_SERVER_LOG=<file> keeps everything the server prints (with GOVERNOR_LOG_LEVEL=info, its requests).
const teeTo = process.env.SOAK_SERVER_LOG
// Warnings and errors the server logs (pino JSON lines: level 40 and up), kept for the report.
const serverLog = { warn: 0, error: 0, samples: [] as string[] }
const onLog = (d: Buffer) => {
  if (teeTo !== undefined) appendFileSync(teeTo, d)
  for (const line of d.toString().split('\n')) {
    const level = Number(/"level":(\d+)/.exec(line)?.[1] ?? (line.trim() === '' ? 0 : 50))
    if (level >= 50) serverLog.error++
    else if (level >= 40) serverLog.warn++
    if (level >= 40 && serverLog.samples.length < 5) serverLog.samples.push(line.slice(0, 300))
  }
}
server.stdout!.on('data', onLog)
server.stderr!.on('data', onLog)
const exited = new Promise<number | null>((r) => server.once('exit', (code) => r(code)))
const url = `http://127.0.0.1:${port}`
for (let i = 0; ; i++) {
  try {
    if ((await fetch(`${url}/readyz`)).ok) break
  } catch {
    /* starting */
  }
  if (i > 300) throw new Error('the server did not start')
  await sleep(100)
}
const serverPid = server.pid!

// ---------------------------------------------------------------- knob clients
const clientErrors = new Map<string, number>()
const clients: ThrottleClient[] = []
const knobs: Knob<number>[] = []
for (let i = 0; i < CLIENTS; i++) {
  const c = connect({
    url,
    service: 'soak',
    startupTimeoutMillis: 30_000,
    onError: (e) => clientErrors.set(e.code, (clientErrors.get(e.code) ?? 0) + 1),
  })
  knobs.push(c.knob('level', { type: 'int', default: 0, min: 0, max: 1_000_000_000, description: 'soak knob' }))
  clients.push(c)
}
await Promise.all(clients.map((c) => c.ready()))
const streaming = clients.filter((c) => c.status === 'streaming').length
console.log(`${streaming} of ${CLIENTS} knob clients streaming`)

// ---------------------------------------------------------------- ingest
const dispatcher = new Agent({ connections: MAX_IN_FLIGHT, pipelining: 1 })
const templates: Template[] = Array.from({ length: METRICS }, (_, m) =>
  buildTemplate({
    service: 'soak',
    metric: `soak.metric_${m}`,
    kind: m % 2 === 0 ? 'gauge' : 'counter',
    series: Math.min(POINTS, SERIES - m * POINTS),
    firstSeries: m * POINTS,
  }),
)
const acked: number[] = [] // request numbers answered 200
const ingest = { ackedPoints: 0, refused: 0, failed: new Map<string, number>(), inFlight: 0 }
const latencies: number[] = []
let nextRequest = 0

/** Sends request r; resolves once it is answered (or failed). */
async function send(r: number): Promise<void> {
  const m = r % METRICS,
    k = Math.floor(r / METRICS)
  const t = templates[m]!
  patch(t, BASE + k * STEP_MS, m % 2 === 0 ? (i) => 100 + ((i * 7 + k * 13) % 50) : (i) => k * (1 + (i % 10)))
  const body = Buffer.from(t.body) // a copy: the template is patched again before this is sent
  ingest.inFlight++
  const started = performance.now()
  try {
    const res = await request(`${url}/v1/metrics`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-protobuf' },
      dispatcher,
    })
    await res.body.arrayBuffer()
    if (res.statusCode === 200) {
      acked.push(r)
      ingest.ackedPoints += t.timeAt.length
      latencies.push(performance.now() - started)
    } else if (res.statusCode === 503) ingest.refused++
    else ingest.failed.set(`HTTP ${res.statusCode}`, (ingest.failed.get(`HTTP ${res.statusCode}`) ?? 0) + 1)
  } catch (err) {
    const key = (err as { code?: string }).code ?? (err as Error).message
    ingest.failed.set(key, (ingest.failed.get(key) ?? 0) + 1)
  } finally {
    ingest.inFlight--
  }
}

/** Closed loop, SENDERS at a time, each sending again when answered: the most it takes. */
async function calibrate(seconds: number): Promise<number> {
  const points0 = ingest.ackedPoints
  const t0 = performance.now()
  const end = t0 + seconds * 1000
  await Promise.all(
    Array.from({ length: SENDERS }, async () => {
      while (performance.now() < end) await send(nextRequest++)
    }),
  )
  return (ingest.ackedPoints - points0) / ((performance.now() - t0) / 1000)
}

let maxRate = Number(opt.rate ?? NaN)
if (opt.rate === undefined) {
  console.log(`calibrating: closed loop, ${SENDERS} senders, ${CALIBRATE_SECONDS} s`)
  maxRate = await calibrate(CALIBRATE_SECONDS)
}
const targetRate = maxRate * SHARE
const requestsPerSecond = targetRate / POINTS
console.log(
  `max ${Math.round(maxRate)} points/s; soak at ${Math.round(targetRate)} points/s (${requestsPerSecond.toFixed(1)} requests/s) for ${MINUTES} min`,
)

// ---------------------------------------------------------------- knob changes
const knobRounds: { postMillis: number; allSeenMillis: number; missed: number; status: number }[] = []
let knobValue = 0
let stopping = false
async function changeKnobs(): Promise<void> {
  while (!stopping) {
    const started = performance.now()
    const value = ++knobValue
    let status = 0
    try {
      const res = await fetch(`${url}/api/v1/knobs/soak/level/value`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ value, actor: 'soak', reason: `change ${value}` }),
      })
      await res.arrayBuffer()
      status = res.status
    } catch {
      status = -1
    }
    const posted = performance.now()
    const deadline = started + KNOB_SECONDS * 1000
    while (knobs.some((k) => k.value !== value) && performance.now() < deadline) await sleep(5)
    const missed = knobs.filter((k) => k.value !== value).length
    knobRounds.push({
      postMillis: posted - started,
      allSeenMillis: missed === 0 ? performance.now() - posted : NaN,
      missed,
      status,
    })
    await sleep(Math.max(0, deadline - performance.now()))
  }
}

// ---------------------------------------------------------------- samples
async function scrape(): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line === '') continue
    const at = line.lastIndexOf(' ')
    out.set(line.slice(0, at), Number(line.slice(at + 1)))
  }
  return out
}
const samples: Sample[] = []
const failedCount = () => [...ingest.failed.values()].reduce((a, b) => a + b, 0)
let soakStart = performance.now()
let lastSample = { t: soakStart, points: 0, refused: 0, failed: 0, cpu: 0 }
async function takeSample(): Promise<void> {
  const now = performance.now()
  const m = await scrape()
  const cpu = cpuSeconds(serverPid)
  const seconds = (now - lastSample.t) / 1000
  samples.push({
    minute: (now - soakStart) / 60_000,
    rssMiB: rssBytes(serverPid) / 2 ** 20,
    heapMiB: (m.get('governor_nodejs_heap_size_used_bytes') ?? NaN) / 2 ** 20,
    loopP99Millis: (m.get('governor_nodejs_eventloop_lag_p99_seconds') ?? NaN) * 1000,
    loopMaxMillis: (m.get('governor_nodejs_eventloop_lag_max_seconds') ?? NaN) * 1000,
    pointsPerSecond: (ingest.ackedPoints - lastSample.points) / seconds,
    refused: ingest.refused - lastSample.refused,
    failed: failedCount() - lastSample.failed,
    cpuPercent: (100 * (cpu - lastSample.cpu)) / seconds,
    pending: m.get('governor_pipeline_pending_points') ?? NaN,
    load: Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]),
  })
  lastSample = { t: now, points: ingest.ackedPoints, refused: ingest.refused, failed: failedCount(), cpu }
  const s = samples.at(-1)!
  console.log(
    `${s.minute.toFixed(1)} min: RSS ${s.rssMiB.toFixed(0)} MiB, heap ${s.heapMiB.toFixed(0)} MiB, loop p99 ${s.loopP99Millis.toFixed(1)} ms, ${Math.round(s.pointsPerSecond)} points/s, CPU ${s.cpuPercent.toFixed(0)} %, load ${s.load}, refused ${s.refused}, failed ${s.failed}`,
  )
}

// ---------------------------------------------------------------- the soak
await scrape() // resets the event-loop histogram: the first sample covers the soak only
const ackedBefore = ingest.ackedPoints
soakStart = performance.now()
lastSample = {
  t: soakStart,
  points: ingest.ackedPoints,
  refused: ingest.refused,
  failed: failedCount(),
  cpu: cpuSeconds(serverPid),
}
const knobLoop = changeKnobs()
const soakMillis = MINUTES * 60_000
let issued = 0,
  behindMax = 0
const inFlight = new Set<Promise<void>>()
let nextSampleAt = soakStart + SAMPLE_SECONDS * 1000
const sampling: Promise<void>[] = []
while (performance.now() - soakStart < soakMillis) {
  const due = Math.floor(((performance.now() - soakStart) / 1000) * requestsPerSecond)
  while (issued < due && inFlight.size < MAX_IN_FLIGHT) {
    issued++
    const p = send(nextRequest++).finally(() => inFlight.delete(p))
    inFlight.add(p)
  }
  behindMax = Math.max(behindMax, due - issued)
  if (performance.now() >= nextSampleAt) {
    nextSampleAt += SAMPLE_SECONDS * 1000
    sampling.push(takeSample())
  }
  await sleep(2)
}
const soakSeconds = (performance.now() - soakStart) / 1000
stopping = true
await Promise.all([...inFlight, knobLoop, ...sampling])
const soakPoints = ingest.ackedPoints - ackedBefore
const final = await scrape()
await Promise.all(clients.map((c) => c.close()))
await dispatcher.close()
const stopStarted = performance.now()
server.kill('SIGTERM')
const exitCode = await exited
const stopMillis = performance.now() - stopStarted

// ---------------------------------------------------------------- stored = acknowledged?
const { client } = await connectStore(loadSettings({ dataDir }, {}))
const rs = await client.query({
  query: `SELECT s.metric AS metric, p.ts AS ts, count() AS n
FROM governor.samples AS p INNER JOIN (SELECT DISTINCT series_id, metric FROM governor.series) AS s USING (series_id)
GROUP BY metric, ts`,
  format: 'JSONCompactEachRow',
})
const stored = new Map<string, number>()
for (const [metric, ts, n] of await rs.json<[string, string, string]>()) stored.set(`${metric}@${ts}`, Number(n))
await client.close()
let missingRequests = 0,
  missingPoints = 0
for (const r of acked) {
  const m = r % METRICS
  const n = stored.get(`soak.metric_${m}@${BASE + Math.floor(r / METRICS) * STEP_MS}`) ?? 0
  const want = templates[m]!.timeAt.length
  if (n < want) {
    missingRequests++
    missingPoints += want - n
  }
}
const storedPoints = [...stored.values()].reduce((a, b) => a + b, 0)

const lat = latencies.sort((a, b) => a - b)
const report = soakReport({
  command: `npm run bench:soak -- --minutes ${MINUTES}${opt.rate !== undefined ? ` --rate ${opt.rate}` : ''} --share ${SHARE} --clients ${CLIENTS} --knob-seconds ${KNOB_SECONDS}`,
  machine: machine(),
  at: new Date().toISOString(),
  chart: `${basename(opt.out!, '.md')}.svg`,
  series: SERIES,
  pointsPerRequest: POINTS,
  senders: SENDERS,
  calibrateSeconds: opt.rate === undefined ? CALIBRATE_SECONDS : 0,
  maxRate,
  targetRate,
  soakSeconds,
  soakPoints,
  behindMax,
  sampleSeconds: SAMPLE_SECONDS,
  latencyP50: percentile(lat, 0.5),
  latencyP99: percentile(lat, 0.99),
  samples,
  clients: CLIENTS,
  streaming,
  knobSeconds: KNOB_SECONDS,
  knobRounds,
  clientErrors,
  refused: ingest.refused,
  failed: ingest.failed,
  serverLog,
  commitFailures: final.get('governor_commit_failures_total') ?? NaN,
  ackedRequests: acked.length,
  ackedPoints: ingest.ackedPoints,
  storedPoints,
  missingRequests,
  missingPoints,
  exitCode,
  stopMillis,
  cores: availableParallelism(),
})
process.stdout.write(report.markdown)
mkdirSync('bench/results', { recursive: true })
writeFileSync(opt.out!, report.markdown)
writeFileSync(opt.out!.replace(/\.md$/, '.svg'), report.svg)
rmSync(workDir, { recursive: true, force: true })
if (missingRequests > 0 || exitCode !== 0) process.exitCode = 1
