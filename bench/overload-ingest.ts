/**
 * npm run bench:overload-ingest — does Governor answer every request within bounds when far
 * more remote-write traffic comes in than it can take? 128 senders, each sending a 5,000-point
 * remote-write request (snappy) as soon as its previous one is answered (after Retry-After
 * when refused), for --seconds; meanwhile GET /readyz every 100 ms, on a new connection each.
 * Every answer time is measured, by status; a request not answered within 30 s is given up and
 * counted, and so is a /readyz poll not answered within 2 s.
 *
 * Runs on a fresh server each, side by side: `unbounded` (the limiter timing requests from its
 * own first hook, no wait bound, no body-bytes ceiling: GOVERNOR_INGEST_MAX_WAIT_MILLIS=0,
 * GOVERNOR_MAX_INFLIGHT_INGEST_BODY_BYTES=0), `base` (the defaults of the server as it was at
 * --base, checked out into a temporary worktree) and `after` (this tree's defaults).
 *
 * Options: --seconds 60 (per run) --senders 128 --points 5000 (per request)
 *          --modes unbounded,base,after --base HEAD --slice 5 (seconds, slow /readyz counted by slice)
 *          --rounds 1 (each round runs every mode; the order flips every other round, so that a
 *          machine whose load drifts favours neither; with more than one, medians by mode)
 *          --out bench/results/overload-ingest.md
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadavg } from 'node:os'
import { Worker } from 'node:worker_threads'
import { parseArgs } from 'node:util'
import { compressSync } from 'snappy'
import { Agent, request } from 'undici'
import { SETTINGS } from '../collector/src/settings.ts'
import { baseWorktree } from './lib/base-worktree.ts'
import { spawnServer } from '../test/helpers/server.ts'
import { buildRemoteWrite, patchRemoteWrite } from './lib/remote-write-template.ts'
import { cpuSeconds, machine, percentile } from './lib/proc.ts'

const { values: opt } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    senders: { type: 'string', default: '128' },
    points: { type: 'string', default: '5000' },
    modes: { type: 'string', default: 'unbounded,base,after' },
    base: { type: 'string', default: 'HEAD' },
    slice: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '1' },
    out: { type: 'string', default: 'bench/results/overload-ingest.md' },
  },
})
const SECONDS = Number(opt.seconds),
  SENDERS = Number(opt.senders),
  POINTS = Number(opt.points)
const ANSWER_TIMEOUT_MS = 30_000
const READYZ_EVERY_MS = 100
const READYZ_TIMEOUT_MS = 2_000
/** Slow /readyz polls are counted by slices of the run this long, to tell start-up from steady load. */
const SLICE_SECONDS = Number(opt.slice)
/** Distinct bodies (metric × timestamp), built and compressed once: the senders cycle through them. */
const BODIES = 64
const METRICS = 8

const SHIPPED = { GOVERNOR_INGEST_MAX_WAIT_MILLIS: String(SETTINGS.ingestMaxWaitMillis.default) }
const MODES = {
  unbounded: {
    label: 'this tree with the limiter timing from its first hook, no wait bound, no body-bytes ceiling',
    env: { GOVERNOR_INGEST_MAX_WAIT_MILLIS: '0', GOVERNOR_MAX_INFLIGHT_INGEST_BODY_BYTES: '0' },
  },
  base: { label: 'the server as it was at the base commit, with its defaults', env: SHIPPED },
  after: { label: 'this tree, with its defaults', env: SHIPPED },
} as const
type Mode = keyof typeof MODES
const modes = opt.modes!.split(',') as Mode[]
for (const m of modes) if (!(m in MODES)) throw new Error(`unknown mode ${m}: one of ${Object.keys(MODES).join(', ')}`)

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const base = Math.floor((Date.now() - 3_600_000) / 1000) * 1000
const bodies = Array.from({ length: BODIES }, (_, b) => {
  const t = buildRemoteWrite({
    metric: `overload_metric_${b % METRICS}`,
    job: 'overload',
    series: POINTS,
    firstSeries: 0,
  })
  patchRemoteWrite(t, base + Math.floor(b / METRICS) * 1000, (i) => (i * 7 + b) % 100)
  return compressSync(t.body)
})

/** GET /readyz every `everyMs` for `seconds`; posts every answer time (a poll given up counts its timeout). */
const POLLER = `
const { workerData, parentPort } = require('node:worker_threads')
const http = require('node:http')
const { url, everyMs, timeoutMs, seconds } = workerData
const results = []
function poll() {
  return new Promise((resolve) => {
    const started = performance.now()
    let finished = false
    const done = (status) => { if (finished) return; finished = true; results.push({ at: started - t0, millis: performance.now() - started, status }); resolve() }
    // A connection of its own each time, as a load balancer's probe: never queued behind another poll.
    const req = http.get(url, { agent: false, signal: AbortSignal.timeout(timeoutMs) }, (res) => { res.resume(); res.on('end', () => done(String(res.statusCode))) })
    req.on('error', () => done('unanswered'))
  })
}
const polls = []
const t0 = performance.now()
const timer = setInterval(() => {
  if (performance.now() - t0 >= seconds * 1000) {
    clearInterval(timer)
    Promise.all(polls).then(() => parentPort.postMessage(results))
  } else polls.push(poll())
}, everyMs)
`

interface Run {
  mode: Mode
  /** `mode`, with the round when there are several. */
  name: string
  /** Answer times by status ('timeout' and 'error' too), ms. */
  answers: Map<string, number[]>
  readyz: number[]
  /** Polls over 100 ms in each slice of SLICE_SECONDS of the run, from its start. */
  readyzSlowBySlice: number[]
  readyzStatus: Map<string, number>
  readyzUnanswered: number
  ackedPoints: number
  seconds: number
  serverCpuPercent: number
  shed: Record<string, number>
  load: string
  /** The server's event-loop delay over the run (prom-client's histogram, never reset: no scrape before the end), ms. */
  loopLag: { p99: number; max: number }
}

async function run(mode: Mode, name: string, bin?: string): Promise<Run> {
  const dataDir = `bench/.work/overload-ingest-${process.pid}-${mode}`
  rmSync(dataDir, { recursive: true, force: true })
  mkdirSync(dataDir, { recursive: true })
  const { child, url } = await spawnServer(
    {
      GOVERNOR_DATA_DIR: dataDir,
      // One address sends everything: the per-client rate limits are not what is measured.
      GOVERNOR_RATE_LIMIT_INGEST_PER_MINUTE: '0',
      GOVERNOR_RATE_LIMIT_API_PER_MINUTE: '0',
      ...MODES[mode].env,
    },
    bin === undefined ? {} : { bin },
  )
  console.log(`${mode}: server at ${url}`)
  const senders = new Agent({ connections: SENDERS, pipelining: 1, headersTimeout: 0, bodyTimeout: 0 })
  const answers = new Map<string, number[]>()
  const note = (key: string, ms: number) => {
    let a = answers.get(key)
    if (a === undefined) answers.set(key, (a = []))
    a.push(ms)
  }
  const readyz: number[] = []
  const readyzSlowBySlice = Array.from({ length: Math.ceil(SECONDS / SLICE_SECONDS) }, () => 0)
  const readyzStatus = new Map<string, number>()
  let readyzUnanswered = 0,
    ackedPoints = 0,
    next = 0
  let stop = false

  async function sender(): Promise<void> {
    while (!stop) {
      const body = bodies[next++ % BODIES]!
      const started = performance.now()
      let retryAfterMs = 0
      try {
        const res = await request(`${url}/api/v1/write`, {
          method: 'POST',
          body,
          dispatcher: senders,
          signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS),
          headers: {
            'content-type': 'application/x-protobuf',
            'content-encoding': 'snappy',
            'x-prometheus-remote-write-version': '0.1.0',
          },
        })
        await res.body.arrayBuffer()
        note(String(res.statusCode), performance.now() - started)
        if (res.statusCode === 204) ackedPoints += POINTS
        else retryAfterMs = 1000 * Number(res.headers['retry-after'] ?? 1)
      } catch (err) {
        const timedOut = (err as Error).name === 'TimeoutError' || (err as Error).name === 'AbortError'
        note(timedOut ? 'unanswered in 30 s' : 'error', performance.now() - started)
        retryAfterMs = 1000
      }
      if (retryAfterMs > 0) await sleep(retryAfterMs)
    }
  }

  const cpu0 = cpuSeconds(child.pid!)
  const t0 = performance.now()
  // The poller in a thread of its own: its timing must not include this thread's event loop,
  // busy with the senders.
  const poller = new Worker(POLLER, {
    eval: true,
    workerData: { url: `${url}/readyz`, everyMs: READYZ_EVERY_MS, timeoutMs: READYZ_TIMEOUT_MS, seconds: SECONDS },
  })
  const polled = new Promise<{ at: number; millis: number; status: string }[]>((resolve, reject) => {
    poller.once('message', resolve)
    poller.once('error', reject)
  })
  const running = Array.from({ length: SENDERS }, () => sender())
  await sleep(SECONDS * 1000)
  stop = true
  await Promise.all(running)
  for (const p of await polled) {
    readyz.push(p.millis)
    if (p.millis > 100)
      readyzSlowBySlice[Math.min(readyzSlowBySlice.length - 1, Math.floor(p.at / 1000 / SLICE_SECONDS))]!++
    if (p.status === 'unanswered') readyzUnanswered++
    else readyzStatus.set(p.status, (readyzStatus.get(p.status) ?? 0) + 1)
  }
  const seconds = (performance.now() - t0) / 1000
  const serverCpuPercent = (100 * (cpuSeconds(child.pid!) - cpu0)) / seconds
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ')
  const metrics = await (await fetch(`${url}/metrics`)).text()
  const loopLag = {
    p99: 1000 * metricValue(metrics, 'governor_nodejs_eventloop_lag_p99_seconds'),
    max: 1000 * metricValue(metrics, 'governor_nodejs_eventloop_lag_max_seconds'),
  }
  const shed: Record<string, number> = { limiter: metricValue(metrics, 'governor_ingest_shed_requests_total') }
  for (const m of metrics.matchAll(/^governor_ingest_admission_refused_total\{reason="([a-z_]+)"\} (\S+)$/gm))
    shed[m[1]!] = Number(m[2])
  child.kill('SIGTERM')
  await new Promise((r) => child.once('exit', r))
  await senders.close()
  rmSync(dataDir, { recursive: true, force: true })
  return {
    mode,
    name,
    answers,
    readyz,
    readyzSlowBySlice,
    readyzStatus,
    readyzUnanswered,
    ackedPoints,
    seconds,
    serverCpuPercent,
    shed,
    load,
    loopLag,
  }
}

function metricValue(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `))
  return line === undefined ? NaN : Number(line.slice(line.lastIndexOf(' ') + 1))
}

const ms = (n: number) => (Number.isFinite(n) ? (n >= 100 ? n.toFixed(0) : n.toFixed(1)) : '-')
function stats(values: number[]): string {
  const s = Float64Array.from(values).sort()
  return `${s.length} | ${ms(percentile(s, 0.5))} | ${ms(percentile(s, 0.99))} | ${ms(s.at(-1) ?? NaN)}`
}

const loadBefore = loadavg()
  .map((l) => l.toFixed(2))
  .join(' / ')
const runs: Run[] = []
const worktree = modes.includes('base') ? baseWorktree(opt.base!, 'governor-overload-base-') : undefined
const ROUNDS = Number(opt.rounds)
try {
  for (let round = 1; round <= ROUNDS; round++) {
    for (const mode of round % 2 === 1 ? modes : [...modes].reverse()) {
      const name = ROUNDS > 1 ? `${mode} ${round}` : mode
      console.log(`${name}: ${SENDERS} senders × ${POINTS} points for ${SECONDS} s …`)
      runs.push(await run(mode, name, mode === 'base' ? join(worktree!.dir, 'collector/bin/governor.js') : undefined))
    }
  }
} finally {
  worktree?.remove()
}

const rows: string[] = []
for (const r of runs) {
  const all = [...r.answers.values()].flat()
  const keys = [...r.answers.keys()].sort()
  rows.push(`| ${r.name} | all answers | ${stats(all)} |`)
  for (const k of keys) rows.push(`| ${r.name} | ${/^\d+$/.test(k) ? `HTTP ${k}` : k} | ${stats(r.answers.get(k)!)} |`)
  rows.push(`| ${r.name} | GET /readyz every 100 ms | ${stats(r.readyz)} |`)
}
const summary = runs.map((r) => {
  const all = Float64Array.from([...r.answers.values()].flat()).sort()
  const over = r.readyz.filter((t) => t > 100).length
  return `| ${r.name} | ${Math.round(r.ackedPoints / r.seconds).toLocaleString('en-US')} | ${ms(percentile(all, 0.99))} | ${r.answers.get('unanswered in 30 s')?.length ?? 0} | ${ms(Math.max(...r.readyz))} | ${over} of ${r.readyz.length} | ${r.readyzUnanswered} | ${[...r.readyzStatus].map(([s, n]) => `${s}: ${n}`).join(', ')} | ${Object.entries(
    r.shed,
  )
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')} | ${r.serverCpuPercent.toFixed(0)} % | ${ms(r.loopLag.p99)} / ${ms(r.loopLag.max)} | ${r.load} |`
})
/** Medians over the rounds, by mode, and each mode's ratio to the first. */
function medians(): string {
  const figures: [string, (r: Run) => number][] = [
    ['/readyz over 100 ms (polls)', (r) => r.readyz.filter((t) => t > 100).length],
    ['/readyz over 100 ms after the first 5 s', (r) => r.readyzSlowBySlice.slice(1).reduce((a, b) => a + b, 0)],
    ['/readyz worst (ms)', (r) => Math.max(...r.readyz)],
    ['/readyz p99 (ms)', (r) => percentile(Float64Array.from(r.readyz).sort(), 0.99)],
    ['points/s acknowledged', (r) => r.ackedPoints / r.seconds],
    ['p99 answer (ms)', (r) => percentile(Float64Array.from([...r.answers.values()].flat()).sort(), 0.99)],
    ['server CPU (%)', (r) => r.serverCpuPercent],
  ]
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b)
    return s.length % 2 === 1 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
  }
  const by = modes.map((m) => runs.filter((r) => r.mode === m))
  const lines = figures.map(([label, f]) => {
    const meds = by.map((rs) => median(rs.map(f)))
    return `| ${label} | ${meds.map((v, i) => `${ms(v)}${i > 0 && meds[0]! !== 0 ? ` (${(v / meds[0]!).toFixed(2)}×)` : ''}`).join(' | ')} | ${by.map((rs) => rs.map((r) => ms(f(r))).join(', ')).join(' | ')} |`
  })
  return `
Medians of the ${ROUNDS} rounds (ratio to ${modes[0]}), then every round:

| figure | ${modes.join(' | ')} | ${modes.map((m) => `every ${m}`).join(' | ')} |
|---|${modes.map(() => '---|---|').join('')}
${lines.join('\n')}
`
}

const report = `# Overload: remote write past capacity

\`npm run bench:overload-ingest -- ${process.argv.slice(2).join(' ')}\`

${SENDERS} senders, each sending a ${POINTS.toLocaleString('en-US')}-point remote-write request (snappy,
${(bodies[0]!.length / 1024).toFixed(0)} KiB) as soon as its previous one is answered, after Retry-After
when refused, for ${SECONDS} s a run; GET /readyz every ${READYZ_EVERY_MS} ms throughout,
from a thread of its own, each poll on a new connection (as a load balancer's probe). A request
not answered within ${ANSWER_TIMEOUT_MS / 1000} s is given up; a /readyz poll not answered within ${READYZ_TIMEOUT_MS / 1000} s is counted unanswered. Each run starts a fresh server
(embedded store, write-ahead log on, rate limits off). The load generator runs on the same machine.

${modes.map((m) => `- **${m}**: ${MODES[m].label}${m === 'base' ? ` (${worktree!.commit})` : ''}`).join('\n')}

Machine: ${machine()}. Run at ${new Date().toISOString()}; load average (1 / 5 / 15 min) ${loadBefore} before,
after each run as in the table. The machine is shared with other work and noisy: figures move
from run to run.

| run | points/s acknowledged | p99 answer (ms) | unanswered in 30 s | /readyz worst (ms) | /readyz over 100 ms | /readyz unanswered in 2 s | /readyz status | shed by the server | server CPU | server event-loop delay p99 / max (ms) | load after |
|---|---|---|---|---|---|---|---|---|---|---|---|
${summary.join('\n')}

Answer times, ms:

| run | answers | count | p50 | p99 | max |
|---|---|---|---|---|---|
${rows.join('\n')}

/readyz polls over 100 ms, by ${SLICE_SECONDS}-second slice of the run (the senders all connect in the first):

| run | ${runs[0]!.readyzSlowBySlice.map((_, i) => `${i * SLICE_SECONDS}–${(i + 1) * SLICE_SECONDS} s`).join(' | ')} |
|---|${runs[0]!.readyzSlowBySlice.map(() => '---|').join('')}
${runs.map((r) => `| ${r.name} | ${r.readyzSlowBySlice.join(' | ')} |`).join('\n')}
${ROUNDS > 1 ? medians() : ''}`
process.stdout.write(report)
mkdirSync('bench/results', { recursive: true })
writeFileSync(opt.out!, report)
