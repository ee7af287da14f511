/**
 * npm run bench:query — PromQL query latency of Governor against Prometheus 2.42 and
 * VictoriaMetrics 1.79 on the same data, and whether Governor's answers equal Prometheus'.
 *
 * The data (24 h at 15 s, byte for byte the same remote write requests into all three):
 *
 *   bench_requests_total{instance, job, route, series}   1,000 counters (20 routes, 10 instances)
 *   bench_temperature{instance, job, series}                100 gauges
 *   bench_latency_seconds_bucket{le, route} + _sum, _count  a classic histogram, 20 routes × 11 buckets
 *   bench_big_total{route, series}                        10,000 counters (query 6 only)
 *
 * Each server is loaded alone, pinned to core 1 (`taskset -c 1`), then all three run together
 * on core 1 for the queries; this client is pinned to core 0. A warm-up round, then `--rounds`
 * rounds: each query asked of each server in turn, the order of the servers rotating per round.
 *
 * Options: --hours 24 --counters 1000 --big 10000 (0: no query 6) --rounds 7 --senders 4
 *          --samples-per-request 10000 (consecutive steps of one group of series)
 *          --out bench/results/query.md --keep <dir> (Governor's data dir kept there, stopped,
 *          for bench/lib/query-stages.ts)
 */
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { parseArgs } from 'node:util'
import { compressSync } from 'snappy'
import { Agent, request } from 'undici'
import {
  dirBytes,
  ensurePackages,
  PROMETHEUS_BIN,
  startGovernor,
  startPrometheus,
  startVictoriaMetrics,
  stop,
  VICTORIA_BIN,
  type Server,
} from './lib/peer-servers.ts'
import { cpuSeconds, machine, percentile } from './lib/proc.ts'
import { buildRemoteWrite, patchRemoteWrite, type RemoteWriteTemplate } from './lib/remote-write-template.ts'
import { TOLERANCE } from '../test/helpers/promql-compare.ts'

const { values: opt } = parseArgs({
  options: {
    hours: { type: 'string', default: '24' },
    counters: { type: 'string', default: '1000' },
    big: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '7' },
    senders: { type: 'string', default: '4' },
    'samples-per-request': { type: 'string', default: '10000' },
    out: { type: 'string', default: 'bench/results/query.md' },
    keep: { type: 'string' },
  },
})
const HOURS = Number(opt.hours),
  COUNTERS = Number(opt.counters),
  BIG = Number(opt.big)
const ROUNDS = Number(opt.rounds),
  SENDERS = Number(opt.senders),
  SAMPLES_PER_REQUEST = Number(opt['samples-per-request'])
const STEP_MS = 15_000
const STEPS = Math.round((HOURS * 3_600_000) / STEP_MS)
const SERVER_CPU = '1',
  CLIENT_CPU = '0'
const JOB = 'bench'
const ROUTES = 20
const BOUNDS = ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '+Inf']
const PER_ROUTE = BOUNDS.length + 2 // buckets, _sum, _count

/**
 * A request body family: one template, patched per step; value(n, k) of its series n at step k.
 * A request carries `steps` consecutive steps of it.
 */
interface Chunk {
  template: RemoteWriteTemplate
  first: number
  value: (n: number, k: number) => number
  steps: number
}

/** A monotonic counter of series n at step k: integer increments that vary with n and k. */
const counter = (n: number, k: number): number =>
  k * (1 + (n % 10)) + Math.floor((k * (n % 7)) / 3) + ((k * k) % ((n % 5) + 2))

function chunks(): Chunk[] {
  const out: Chunk[] = []
  const split = (
    metric: string,
    count: number,
    labels: (n: number) => Record<string, string>,
    value: Chunk['value'],
  ): void => {
    for (let first = 0; first < count; first += 1000) {
      const series = Math.min(1000, count - first)
      out.push({
        template: buildRemoteWrite({ metric, job: JOB, series, firstSeries: first, labels }),
        first,
        value,
        steps: Math.max(1, Math.round(SAMPLES_PER_REQUEST / series)),
      })
    }
  }
  split(
    'bench_requests_total',
    COUNTERS,
    (n) => ({ instance: `host-${n % 10}`, job: JOB, route: `/r${n % ROUTES}`, series: String(n) }),
    counter,
  )
  split(
    'bench_temperature',
    100,
    (n) => ({ instance: `host-${n % 10}`, job: JOB, series: String(n) }),
    (n, k) => 100 + ((n * 7 + k * 13) % 50) + (n % 4) * 0.25,
  )
  // Histogram series n: route n / PER_ROUTE, part n % PER_ROUTE (bucket j, then _sum, _count).
  const observed = (route: number, k: number): number => k * (3 + (route % 7)) + Math.floor((k * route) / 5)
  split(
    'bench_latency_seconds_bucket',
    ROUTES * PER_ROUTE,
    (n): Record<string, string> => {
      const route = `/r${Math.floor(n / PER_ROUTE)}`,
        j = n % PER_ROUTE
      if (j < BOUNDS.length) return { __name__: 'bench_latency_seconds_bucket', job: JOB, le: BOUNDS[j]!, route }
      return {
        __name__: j === BOUNDS.length ? 'bench_latency_seconds_sum' : 'bench_latency_seconds_count',
        job: JOB,
        route,
      }
    },
    (n, k) => {
      const route = Math.floor(n / PER_ROUTE),
        j = n % PER_ROUTE,
        c = observed(route, k)
      if (j < BOUNDS.length) return Math.floor((c * (j + 1) * (j + 1)) / (BOUNDS.length * BOUNDS.length))
      return j === BOUNDS.length ? c * 0.125 * (route + 1) : c
    },
  )
  split('bench_big_total', BIG, (n) => ({ job: JOB, route: `/r${n % ROUTES}`, series: String(n) }), counter)
  return out
}

/**
 * The request of chunk c from step k on, snappy-compressed: the same bytes for every server.
 * WriteRequests concatenated are one WriteRequest (its only field is repeated), so the
 * patched template of each step is appended in turn: a series' samples stay in time order.
 */
function body(c: Chunk, k: number): { body: Buffer; steps: number } {
  const steps = Math.min(c.steps, STEPS - k)
  const parts: Buffer[] = []
  for (let s = 0; s < steps; s++) {
    patchRemoteWrite(c.template, base + (k + s) * STEP_MS, (i) => c.value(c.first + i, k + s))
    parts.push(Buffer.from(c.template.body))
  }
  return { body: compressSync(Buffer.concat(parts)), steps }
}

interface Query {
  id: string
  text: string
  kind: 'instant' | 'range'
  hours: number
  stepSeconds: number
}
const QUERIES: Query[] = [
  { id: '1 raw series 1 h', text: 'bench_requests_total{series="17"}[1h]', kind: 'instant', hours: 1, stepSeconds: 0 },
  { id: '2 sum(rate) 24 h', text: 'sum(rate(bench_requests_total[5m]))', kind: 'range', hours: 24, stepSeconds: 60 },
  {
    id: '3 sum by route 6 h',
    text: 'sum by (route) (rate(bench_requests_total[5m]))',
    kind: 'range',
    hours: 6,
    stepSeconds: 60,
  },
  {
    id: '4 avg gauges 24 h',
    text: 'avg by (instance) (bench_temperature)',
    kind: 'range',
    hours: 24,
    stepSeconds: 300,
  },
  {
    id: '5 histogram_quantile 6 h',
    text: 'histogram_quantile(0.99, sum by (le, route) (rate(bench_latency_seconds_bucket[5m])))',
    kind: 'range',
    hours: 6,
    stepSeconds: 60,
  },
  ...(BIG > 0
    ? [
        {
          id: `6 sum(rate) ${fmt(BIG)} counters 24 h`,
          text: 'sum(rate(bench_big_total[5m]))',
          kind: 'range' as const,
          hours: 24,
          stepSeconds: 60,
        },
      ]
    : []),
]

type Name = 'governor' | 'prometheus' | 'victoria'
const LABEL: Record<Name, string> = {
  governor: 'Governor',
  prometheus: 'Prometheus 2.42',
  victoria: 'VictoriaMetrics 1.79',
}
const API: Record<Name, string> = { governor: '/prometheus/api/v1', prometheus: '/api/v1', victoria: '/api/v1' }

ensurePackages([
  { pkg: 'prometheus', bin: PROMETHEUS_BIN },
  { pkg: 'victoria-metrics', bin: VICTORIA_BIN },
])
execFileSync('taskset', ['-acp', CLIENT_CPU, String(process.pid)], { stdio: 'ignore' })
// A 24 h query over 10,000 series reads ~58 M samples, past Governor's default limit of 50 M.
process.env.GOVERNOR_PROMQL_MAX_SAMPLES = '1000000000'
process.env.GOVERNOR_PROMQL_TIMEOUT_MILLIS = '600000'

const workRoot = mkdtempSync(join(tmpdir(), 'governor-query-'))
// The last sample over a minute ago, on a 5 min grid (every query's step divides it: no
// server's alignment of start and end to the step moves them).
const end = Math.floor((Date.now() - 60_000) / 300_000) * 300_000
const base = end - (STEPS - 1) * STEP_MS
const servers = new Map<Name, Server>()
const loadavgStart = loadavg()
process.on('SIGINT', () => {
  void Promise.all([...servers.values()].map((s) => stop(s, 5000))).finally(() => {
    rmSync(workRoot, { recursive: true, force: true })
    process.exit(130)
  })
})

interface Load {
  seconds: number
  cpu: number
  samples: number
  diskBytes: number
}
const loads = new Map<Name, Load>()
const allChunks = chunks()
const samplesPerStep = allChunks.reduce((n, c) => n + c.template.timeAt.length, 0)
console.log(
  `${fmt(samplesPerStep)} series × ${fmt(STEPS)} steps = ${fmt(samplesPerStep * STEPS)} samples per server, the last at ${end} (epoch ms)`,
)

/** Seconds each server took to fall idle after its load (or to reach the bound, SETTLE_MAX_SECONDS). */
const settled = new Map<Name, number>()
const SETTLE_MAX_SECONDS = 180
/** CPU-seconds per 3 s below which a server counts as idle. */
const IDLE_CPU_SECONDS = 0.15

async function settle(server: Server): Promise<number> {
  const t0 = performance.now()
  for (;;) {
    const before = cpuSeconds(server.pid)
    await new Promise((r) => setTimeout(r, 3000))
    const seconds = (performance.now() - t0) / 1000
    if (cpuSeconds(server.pid) - before < IDLE_CPU_SECONDS || seconds >= SETTLE_MAX_SECONDS) return seconds
  }
}

type Timings = Map<string, Map<Name, number[]>>
const timings: Timings = new Map()
const mismatches = new Map<string, { points: number; of: number; first: string }>()
try {
  for (const name of ['governor', 'prometheus', 'victoria'] as const) {
    const dir = join(workRoot, name)
    mkdirSync(dir, { recursive: true })
    const server = await start(name, dir)
    servers.set(name, server)
    loads.set(name, await load(server, dir))
    const l = loads.get(name)!
    console.log(
      `${LABEL[name]}: loaded ${fmt(l.samples)} samples in ${l.seconds.toFixed(0)} s (${fmt(l.samples / l.seconds)}/s, ${l.cpu.toFixed(0)} CPU-s), ${(l.diskBytes / 2 ** 20).toFixed(0)} MiB on disk`,
    )
  }
  // Every server settles before it is asked anything: merges and compactions after a load
  // would otherwise share the servers' core with the first rounds of queries.
  for (const [name, server] of servers) settled.set(name, await settle(server))
  console.log(`settled: ${[...settled].map(([n, s]) => `${LABEL[n]} ${s.toFixed(0)} s`).join(', ')}`)
  await checkAnswers()
  await measure()
} finally {
  await Promise.all([...servers.values()].map((s) => stop(s)))
  // Only once Governor has loaded: a failure before that must not hide behind a missing directory.
  if (opt.keep !== undefined && existsSync(join(workRoot, 'governor', 'data')))
    cpSync(join(workRoot, 'governor', 'data'), opt.keep, { recursive: true })
  rmSync(workRoot, { recursive: true, force: true })
}
writeReport()

async function start(name: Name, dir: string): Promise<Server> {
  switch (name) {
    case 'prometheus':
      return startPrometheus(
        dir,
        () => 'global:\n  scrape_interval: 1h\nstorage:\n  tsdb:\n    out_of_order_time_window: 30d\n',
        {
          cpu: SERVER_CPU,
          extraArgs: ['--web.enable-remote-write-receiver', '--query.max-samples=2000000000', '--query.timeout=10m'],
        },
      )
    case 'victoria':
      return startVictoriaMetrics(join(dir, 'data'), {
        cpu: SERVER_CPU,
        extraArgs: ['-search.disableCache', '-search.maxSamplesPerQuery=2000000000', '-search.latencyOffset=0s'],
      })
    case 'governor':
      return startGovernor(join(dir, 'data'), { cpu: SERVER_CPU })
  }
}

/**
 * Sends every chunk's steps in order (a chunk's next step only once its previous one is
 * answered, so each series arrives in time order), `SENDERS` requests in flight.
 */
async function load(server: Server, dir: string): Promise<Load> {
  const dispatcher = new Agent({ connections: SENDERS, pipelining: 1 })
  const headers = {
    'content-type': 'application/x-protobuf',
    'content-encoding': 'snappy',
    'x-prometheus-remote-write-version': '0.1.0',
  }
  const ready = allChunks.map((_, i) => i)
  const step = new Int32Array(allChunks.length)
  let samples = 0,
    remaining = allChunks.length,
    lastReport = performance.now()
  const cpu0 = cpuSeconds(server.pid),
    t0 = performance.now()
  const sender = async (): Promise<void> => {
    while (remaining > 0) {
      const i = ready.shift()
      if (i === undefined) {
        await new Promise((r) => setTimeout(r, 5))
        continue
      }
      const c = allChunks[i]!,
        k = step[i]!
      const req = body(c, k)
      for (let attempt = 1; ; attempt++) {
        const res = await request(server.url + '/api/v1/write', { method: 'POST', body: req.body, headers, dispatcher })
        const text = await res.body.text()
        if (res.statusCode < 300) break
        if (attempt >= 50) throw new Error(`${server.name} remote write: ${res.statusCode} ${text.slice(0, 300)}`)
        await new Promise((r) => setTimeout(r, 100 * Math.min(attempt, 10)))
      }
      samples += c.template.timeAt.length * req.steps
      step[i] = k + req.steps
      if (k + req.steps < STEPS)
        ready.push(i) // ≤ a few dozen chunks: shift() costs nothing next to a request
      else remaining--
      if (performance.now() - lastReport > 30_000) {
        lastReport = performance.now()
        process.stderr.write(`  ${server.name}: ${fmt(samples)} samples, ${((lastReport - t0) / 1000).toFixed(0)} s\n`)
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(SENDERS, allChunks.length) }, () => sender()))
  if (server.name === 'VictoriaMetrics') {
    const flushed = await fetch(`${server.url}/internal/force_flush`)
    if (!flushed.ok) throw new Error(`VictoriaMetrics force_flush: ${flushed.status}`)
  }
  const seconds = (performance.now() - t0) / 1000
  const cpu = cpuSeconds(server.pid) - cpu0
  await dispatcher.close()
  return { seconds, cpu, samples, diskBytes: dirBytes(join(dir, 'data')) }
}

function params(q: Query): { path: string; form: Record<string, string> } {
  const t = String(end / 1000)
  if (q.kind === 'instant') return { path: '/query', form: { query: q.text, time: t } }
  const hours = Math.min(q.hours, HOURS)
  return {
    path: '/query_range',
    form: { query: q.text, start: String((end - hours * 3_600_000) / 1000), end: t, step: String(q.stepSeconds) },
  }
}

interface Answer {
  status: string
  error?: string
  data?: {
    resultType: string
    result: { metric: Record<string, string>; value?: [number, string]; values?: [number, string][] }[]
  }
}

/** Asks one server; the time is until the whole body is in, JSON parsing excluded. */
async function ask(name: Name, q: Query): Promise<{ ms: number; answer: Answer }> {
  const { path, form } = params(q)
  const t0 = performance.now()
  const res = await fetch(servers.get(name)!.url + API[name] + path, {
    method: 'POST',
    body: new URLSearchParams(form),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  })
  const text = await res.text()
  const ms = performance.now() - t0
  const answer = JSON.parse(text) as Answer
  if (answer.status !== 'success') throw new Error(`${LABEL[name]} ${q.text}: ${text.slice(0, 300)}`)
  return { ms, answer }
}

/** Points of `got` that are missing from or differ from `want` (1e-6 relative, NaN = NaN), and the reference's point count. */
function countMismatches(got: Answer, want: Answer): { points: number; of: number; first: string } {
  const key = (m: Record<string, string>): string =>
    JSON.stringify(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : 1)))
  const points = (s: { value?: [number, string]; values?: [number, string][] }): [number, string][] =>
    s.values ?? (s.value === undefined ? [] : [s.value])
  const mine = new Map(got.data!.result.map((s) => [key(s.metric), new Map(points(s).map(([t, v]) => [t, v]))]))
  let bad = 0,
    of = 0,
    first = ''
  const note = (what: string): void => {
    bad++
    if (first === '') first = what
  }
  for (const s of want.data!.result) {
    const k = key(s.metric),
      g = mine.get(k)
    mine.delete(k)
    for (const [t, v] of points(s)) {
      of++
      const gv = g?.get(t)
      g?.delete(t)
      if (gv === undefined) note(`${k} at ${t}: missing, Prometheus ${v}`)
      else if (!sameFloat(gv, v)) note(`${k} at ${t}: ${gv}, Prometheus ${v}`)
    }
    for (const [t, v] of g ?? []) note(`${k} at ${t}: ${v}, not in Prometheus' answer`)
  }
  for (const [k, g] of mine) for (const [t, v] of g) note(`${k} at ${t}: ${v}, series not in Prometheus' answer`)
  return { points: bad, of, first }
}

function sameFloat(a: string, b: string): boolean {
  const x = Number(a),
    y = Number(b)
  if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) && Number.isNaN(y)
  return x === y || Math.abs(x - y) <= TOLERANCE * Math.max(Math.abs(x), Math.abs(y))
}

/** Every query once on every server (the warm-up round): Governor's and VictoriaMetrics' answers against Prometheus'. */
async function checkAnswers(): Promise<void> {
  for (const q of QUERIES) {
    const want = (await ask('prometheus', q)).answer
    for (const name of ['governor', 'victoria'] as const) {
      const m = countMismatches((await ask(name, q)).answer, want)
      mismatches.set(`${q.id}|${name}`, m)
      console.log(
        `${q.id}: ${LABEL[name]} ${m.points} of ${m.of} points differ from Prometheus${m.first === '' ? '' : ` (first: ${m.first})`}`,
      )
    }
  }
}

async function measure(): Promise<void> {
  const names: Name[] = ['governor', 'prometheus', 'victoria']
  for (let r = 0; r < ROUNDS; r++) {
    for (const q of QUERIES) {
      const per = timings.get(q.id) ?? new Map<Name, number[]>()
      timings.set(q.id, per)
      for (let i = 0; i < names.length; i++) {
        const name = names[(i + r) % names.length]!
        const { ms } = await ask(name, q)
        per.set(name, [...(per.get(name) ?? []), ms])
      }
    }
    console.log(`round ${r + 1}/${ROUNDS} done, load average ${loadavg()[0]!.toFixed(2)}`)
  }
}

function writeReport(): void {
  const stat = (name: Name, q: Query): { p50: number; p90: number } => {
    const xs = Float64Array.from(timings.get(q.id)?.get(name) ?? []).sort()
    return { p50: percentile(xs, 0.5), p90: percentile(xs, 0.9) }
  }
  const ms = (x: number): string => (x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0))
  const rows = QUERIES.map((q) => {
    const g = stat('governor', q),
      p = stat('prometheus', q),
      v = stat('victoria', q)
    const mg = mismatches.get(`${q.id}|governor`)!,
      mv = mismatches.get(`${q.id}|victoria`)!
    return `| ${q.id} | \`${q.text}\` | ${ms(g.p50)} / ${ms(g.p90)} | ${ms(p.p50)} / ${ms(p.p90)} | ${ms(v.p50)} / ${ms(v.p90)} | ${(g.p50 / p.p50).toFixed(2)} | ${(g.p50 / v.p50).toFixed(2)} | ${mg.points} / ${fmt(mg.of)} | ${mv.points} / ${fmt(mv.of)} |`
  })
  const firsts = [...mismatches]
    .filter(([, m]) => m.first !== '')
    .map(([k, m]) => `- ${k.replace('|', ', ')}: ${m.points} points, first ${m.first}`)
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()
  const dirty =
    execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim() !== ''
  const la = (l: number[]): string => l.map((x) => x.toFixed(2)).join(', ')
  const command = `npm run bench:query -- --hours ${HOURS} --counters ${COUNTERS} --big ${BIG} --rounds ${ROUNDS}`
  const report = `# PromQL queries against peers: Governor, Prometheus, VictoriaMetrics

\`${command}\`

Machine: ${machine()}. Commit ${commit}${dirty ? ' (with uncommitted changes)' : ''}. Run at ${new Date().toISOString()}.
Load average (1, 5, 15 min) at the start ${la(loadavgStart)}, at the end ${la(loadavg())}: other work shared the two cores.

Data, byte for byte the same snappy-compressed remote write requests into each server:
${fmt(COUNTERS)} counters \`bench_requests_total\` (20 routes, 10 instances), 100 gauges \`bench_temperature\`,
a classic histogram \`bench_latency_seconds\` of 20 routes × 11 buckets (with \`_sum\` and \`_count\`)${BIG > 0 ? `, ${fmt(BIG)} counters \`bench_big_total\`` : ''};
${HOURS} h at 15 s: ${fmt(samplesPerStep)} series, ${fmt(samplesPerStep * STEPS)} samples. Each server loaded alone, in time order
per series, requests of about ${fmt(SAMPLES_PER_REQUEST)} samples (consecutive steps of one group of up to 1,000 series), ${SENDERS} in flight.

| server | load time | samples/s | server CPU-s | on disk after load | idle after load |
|---|---|---|---|---|---|
${(['governor', 'prometheus', 'victoria'] as const)
  .map((n) => {
    const l = loads.get(n)!
    return `| ${LABEL[n]} | ${l.seconds.toFixed(0)} s | ${fmt(l.samples / l.seconds)} | ${l.cpu.toFixed(0)} | ${(l.diskBytes / 2 ** 20).toFixed(0)} MiB | ${(settled.get(n) ?? 0).toFixed(0)} s |`
  })
  .join('\n')}

Before the queries each server was left until it used under ${IDLE_CPU_SECONDS} CPU-s in 3 s (at most ${SETTLE_MAX_SECONDS} s),
so that merges or compactions after its load do not share the core with the queries.

Query latency in ms, median / p90 of ${ROUNDS} rounds (a warm-up round first, not counted), each
query asked of each server in turn with the order of the servers rotating per round. Range
queries end at the last sample; 1 is an instant query there. Time until the whole answer is in
(JSON parsing excluded). All three servers pinned to core 1, this client to core 0. VictoriaMetrics
with its result cache off (\`-search.disableCache\`). Ratios are of medians (below 1: Governor faster).

| query | PromQL | Governor | Prometheus | VictoriaMetrics | Governor / Prometheus | Governor / VictoriaMetrics | Governor points ≠ Prometheus | VictoriaMetrics points ≠ Prometheus |
|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}

Points ≠ Prometheus: points of the answer missing, extra, or differing by more than ${TOLERANCE} relative
from Prometheus' answer, over the points of Prometheus' answer.
${firsts.length > 0 ? `\n${firsts.join('\n')}\n` : ''}`
  process.stdout.write(report)
  mkdirSync(dirname(opt.out!), { recursive: true })
  writeFileSync(opt.out!, report)
}

function fmt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-'
}
