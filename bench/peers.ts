/**
 * npm run bench:peers — the same load into Prometheus, VictoriaMetrics and Governor, one
 * after another, each server pinned to core 1 and this load generator to core 0.
 *
 *   Prometheus 2.42       remote write receiver  (--web.enable-remote-write-receiver)
 *   VictoriaMetrics       remote write           /api/v1/write
 *   Governor              remote write           /api/v1/write   (the very same request bytes)
 *   Governor              OTLP protobuf          /v1/metrics     (same series and values)
 *
 * Options: --series 10000,100000 --seconds 20 (per target) --points 1000 (per request)
 *          --senders 8 --targets prometheus,victoria,governor-rw,governor-otlp
 *          --out bench/results/ingest-peers.md (the chart goes next to it, .svg)
 *
 * Each request carries one sample of each of `points` series of one metric; half the
 * metrics are gauges (integer-valued, wandering), half counters. Timestamps are scrape-like:
 * 10 s steps from a day ago. A metric's next step is sent only once its previous one is
 * answered (a FIFO of metrics shared by the senders), so samples of a series always arrive
 * in order, as Prometheus requires, and all series advance together.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { parseArgs } from 'node:util'
import { compressSync } from 'snappy'
import { Agent, request } from 'undici'
import { buildTemplate, patch, type Template } from './lib/otlp-template.ts'
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
import { cpuSeconds, machine, peakRssBytes, percentile } from './lib/proc.ts'
import { buildRemoteWrite, patchRemoteWrite, type RemoteWriteTemplate } from './lib/remote-write-template.ts'
import { barChartSvg } from './lib/bar-chart.ts'

const { values: opt } = parseArgs({
  options: {
    series: { type: 'string', default: '10000,100000' },
    seconds: { type: 'string', default: '20' },
    points: { type: 'string', default: '1000' },
    senders: { type: 'string', default: '8' },
    targets: { type: 'string', default: 'prometheus,victoria,governor-rw,governor-otlp' },
    out: { type: 'string', default: 'bench/results/ingest-peers.md' },
  },
})
const SERIES_RUNS = opt.series!.split(',').map(Number)
const SECONDS = Number(opt.seconds),
  POINTS = Number(opt.points),
  SENDERS = Number(opt.senders)
const TARGETS = opt.targets!.split(',') as TargetName[]
const STEP_MS = 10_000
const JOB = 'bench'
const SERVER_CPU = '1',
  GENERATOR_CPU = '0'

type TargetName = 'prometheus' | 'victoria' | 'governor-rw' | 'governor-otlp'
const LABEL: Record<TargetName, string> = {
  prometheus: 'Prometheus 2.42 (remote write)',
  victoria: 'VictoriaMetrics 1.79 (remote write)',
  'governor-rw': 'Governor (remote write)',
  'governor-otlp': 'Governor (OTLP protobuf)',
}

/** One target's figures for one series count. */
interface Result {
  target: TargetName
  series: number
  seconds: number
  acked: number
  refused: number
  firstError: string
  cpu: number
  generatorCpuShare: number
  /** CPU seconds used on the machine by everything but the server and this generator. */
  otherCpu: number
  p50: number
  p99: number
  rssBytes: number
  stored: number
  storedHow: string
  diskBytes: number
  diskHow: string
  dataBytes: number
  dataHow: string
}

/** The series, templates and step counters one run at a given series count shares. */
class Load {
  readonly series: number
  readonly metrics: number
  readonly rw: RemoteWriteTemplate[]
  readonly otlp: Template[]

  constructor(series: number) {
    this.series = series
    this.metrics = Math.ceil(series / POINTS)
    const count = (m: number): number => Math.min(POINTS, series - m * POINTS)
    this.rw = Array.from({ length: this.metrics }, (_, m) =>
      buildRemoteWrite({ metric: metricName(m), job: JOB, series: count(m), firstSeries: m * POINTS }),
    )
    this.otlp = Array.from({ length: this.metrics }, (_, m) =>
      buildTemplate({
        service: JOB,
        metric: metricName(m),
        kind: m % 2 === 0 ? 'gauge' : 'counter',
        series: count(m),
        firstSeries: m * POINTS,
      }),
    )
  }

  /** The body of metric m at step k: remote write patched then snappy-compressed, or OTLP patched. */
  body(kind: 'rw' | 'otlp', m: number, k: number): { body: Buffer; samples: number } {
    const value =
      m % 2 === 0 ? (i: number) => 100 + ((i * 7 + k * 13) % 50) : (i: number) => k * (1 + (i % 10)) + Math.floor(k / 3)
    const ts = base + k * STEP_MS
    if (kind === 'rw') {
      const t = this.rw[m]!
      patchRemoteWrite(t, ts, value)
      return { body: compressSync(t.body), samples: t.timeAt.length }
    }
    const t = this.otlp[m]!
    patch(t, ts, value)
    return { body: t.body, samples: t.timeAt.length }
  }

  /** Samples per second this core can produce bodies for, with nothing else running. */
  generatorRate(kind: 'rw' | 'otlp'): number {
    let samples = 0,
      k = 0
    const t0 = performance.now()
    while (performance.now() - t0 < 1500) {
      for (let m = 0; m < this.metrics; m++) samples += this.body(kind, m, k).samples
      k++
    }
    return samples / ((performance.now() - t0) / 1000)
  }
}

ensurePackages([
  { pkg: 'prometheus', bin: PROMETHEUS_BIN },
  { pkg: 'victoria-metrics', bin: VICTORIA_BIN },
])
// Every thread of this process (and whatever it spawns without taskset) on core 0.
execFileSync('taskset', ['-acp', GENERATOR_CPU, String(process.pid)], { stdio: 'ignore' })

const workRoot = mkdtempSync(join(tmpdir(), 'governor-peers-'))
const base = Math.floor((Date.now() - 86_400_000) / STEP_MS) * STEP_MS
const results: Result[] = []
const generatorRates: { series: number; rw: number; otlp: number }[] = []
let current: Server | undefined
process.on('SIGINT', () => {
  void stop(current, 5000).finally(() => process.exit(130))
})

try {
  for (const series of SERIES_RUNS) {
    const load = new Load(series)
    generatorRates.push({ series, rw: load.generatorRate('rw'), otlp: load.generatorRate('otlp') })
    console.log(
      `${series} series: generator alone ${fmt(generatorRates.at(-1)!.rw)} samples/s (remote write, patch + snappy), ${fmt(generatorRates.at(-1)!.otlp)} (OTLP, patch)`,
    )
    for (const target of TARGETS) {
      const r = await runTarget(target, load)
      results.push(r)
      console.log(
        `  ${LABEL[target].padEnd(36)} ${fmt(r.acked / r.seconds).padStart(10)} samples/s  ${fmt(r.acked / r.cpu).padStart(10)} per CPU-s  stored ${r.stored}/${r.acked}  refused ${r.refused}${r.firstError ? ` (${r.firstError})` : ''}`,
      )
    }
  }
} finally {
  await stop(current, 5000)
  rmSync(workRoot, { recursive: true, force: true })
}
writeReport()

function metricName(m: number): string {
  return m % 2 === 0 ? `bench_metric_${m}` : `bench_metric_${m}_total`
}

async function runTarget(target: TargetName, load: Load): Promise<Result> {
  const dir = join(workRoot, `${target}-${load.series}`)
  mkdirSync(dir, { recursive: true })
  const server = (current = await startTarget(target, dir))
  const kind = target === 'governor-otlp' ? 'otlp' : 'rw'
  const path = kind === 'otlp' ? '/v1/metrics' : '/api/v1/write'
  const headers: Record<string, string> =
    kind === 'otlp'
      ? { 'content-type': 'application/x-protobuf' }
      : {
          'content-type': 'application/x-protobuf',
          'content-encoding': 'snappy',
          'x-prometheus-remote-write-version': '0.1.0',
        }
  const dispatcher = new Agent({ connections: SENDERS, pipelining: 1 })
  const url = server.url + path

  // Metrics ready to send, oldest step first; a metric is out of it while its request is in flight.
  const ready: number[] = Array.from({ length: load.metrics }, (_, m) => m)
  const step = new Int32Array(load.metrics)
  const latencies = new Float64Array(10_000_000)
  let acked = 0,
    requests = 0,
    refused = 0,
    firstError = '',
    stopped = false
  const sender = async (): Promise<void> => {
    while (!stopped) {
      // At most senders-1 other metrics are in flight and senders ≤ metrics: one is always ready.
      const m = ready.shift()!
      const k = step[m]!
      if (base + k * STEP_MS > Date.now() - 3_600_000)
        throw new Error('the run outran its time range: use fewer seconds or more series')
      const { body, samples } = load.body(kind, m, k)
      const started = performance.now()
      try {
        const res = await request(url, { method: 'POST', body, headers, dispatcher })
        const text = await res.body.text()
        if (res.statusCode >= 200 && res.statusCode < 300) {
          latencies[requests++] = performance.now() - started
          acked += samples
          step[m] = k + 1
        } else {
          refused++
          if (firstError === '') firstError = `${res.statusCode} ${text.slice(0, 200)}`
          await new Promise((r) => setTimeout(r, 100))
        }
      } catch (err) {
        refused++
        if (firstError === '') firstError = String(err)
        await new Promise((r) => setTimeout(r, 100))
      }
      ready.push(m) // ≤ a few hundred entries: shift() here costs nothing next to a request
    }
  }
  const cpu0 = cpuSeconds(server.pid)
  const busy0 = machineBusySeconds()
  const gen0 = process.cpuUsage()
  const wall0 = performance.now()
  const senders = Array.from({ length: Math.min(SENDERS, load.metrics) }, () => sender())
  await new Promise((r) => setTimeout(r, SECONDS * 1000))
  stopped = true
  await Promise.all(senders)
  const seconds = (performance.now() - wall0) / 1000
  const cpu = cpuSeconds(server.pid) - cpu0
  const gen = process.cpuUsage(gen0)
  const busy = machineBusySeconds() - busy0
  const rssBytes = peakRssBytes(server.pid)
  await dispatcher.close()
  const lat = latencies.slice(0, requests).sort()
  const lastStep = Math.max(...step)
  const figures = await storedFigures(target, server, dir, lastStep)
  current = undefined
  return {
    target,
    series: load.series,
    seconds,
    acked,
    refused,
    firstError,
    cpu,
    generatorCpuShare: (gen.user + gen.system) / 1e6 / seconds,
    otherCpu: Math.max(0, busy - cpu - (gen.user + gen.system) / 1e6),
    p50: percentile(lat, 0.5),
    p99: percentile(lat, 0.99),
    rssBytes,
    ...figures,
  }
}

async function startTarget(target: TargetName, dir: string): Promise<Server> {
  switch (target) {
    case 'prometheus':
      return startPrometheus(dir, () => 'global:\n  scrape_interval: 1m\n', {
        cpu: SERVER_CPU,
        extraArgs: ['--web.enable-remote-write-receiver', '--query.max-samples=2000000000', '--query.timeout=10m'],
      })
    case 'victoria':
      return startVictoriaMetrics(join(dir, 'data'), { cpu: SERVER_CPU })
    case 'governor-rw':
    case 'governor-otlp':
      return startGovernor(join(dir, 'data'), { cpu: SERVER_CPU })
  }
}

/** Samples stored, read back from the server (or its store), and bytes on disk; stops the server. */
async function storedFigures(
  target: TargetName,
  server: Server,
  dir: string,
  lastStep: number,
): Promise<Pick<Result, 'stored' | 'storedHow' | 'diskBytes' | 'diskHow' | 'dataBytes' | 'dataHow'>> {
  const dataDir = join(dir, 'data')
  if (target === 'governor-rw' || target === 'governor-otlp') {
    await stop(server)
    const diskBytes = dirBytes(dataDir)
    // The embedded engine is opened in a process of its own (one chDB per process).
    const out = spawnSync(process.execPath, ['--import', 'tsx', 'bench/lib/store-figures-cli.ts', dataDir], {
      encoding: 'utf8',
    })
    if (out.status !== 0) throw new Error(`store figures: ${out.stderr}`)
    const f = JSON.parse(out.stdout.trim().split('\n').at(-1)!) as { storedPoints: number; bytesPerPoint: number }
    return {
      stored: f.storedPoints,
      storedHow: 'count() of the samples table',
      diskBytes,
      diskHow: 'data dir after shutdown, before merges',
      dataBytes: f.bytesPerPoint * f.storedPoints,
      dataHow: 'samples table after OPTIMIZE FINAL',
    }
  }
  // Evaluated just after the last step, over a range reaching back past the first.
  const at = (base + (lastStep + 1) * STEP_MS) / 1000
  const range = `${((lastStep + 2) * STEP_MS) / 1000}s`
  const query = `sum(count_over_time({job="${JOB}"}[${range}]))`
  if (target === 'victoria') {
    const flushed = await fetch(`${server.url}/internal/force_flush`)
    if (!flushed.ok) throw new Error(`VictoriaMetrics force_flush: ${flushed.status}`)
    const stored = await promQuery(server, query, at)
    await stop(server)
    return {
      stored,
      storedHow: 'PromQL sum(count_over_time(...)) after /internal/force_flush',
      diskBytes: dirBytes(dataDir),
      diskHow: 'storage dir after shutdown (data + indexdb)',
      dataBytes: dirBytes(join(dataDir, 'data')),
      dataHow: 'data/ part of the storage dir (without indexdb)',
    }
  }
  const stored = await promQuery(server, query, at)
  await stop(server)
  const bytes = dirBytes(dataDir)
  return {
    stored,
    storedHow: 'PromQL sum(count_over_time(...))',
    diskBytes: bytes,
    diskHow: 'storage dir after shutdown: WAL + head chunks, no block compacted yet',
    dataBytes: bytes,
    dataHow: 'same (the WAL holds the samples)',
  }
}

async function promQuery(server: Server, query: string, at: number): Promise<number> {
  const res = await fetch(`${server.url}/api/v1/query?${new URLSearchParams({ query, time: String(at) })}`)
  const body = (await res.json()) as { status: string; data?: { result: { value: [number, string] }[] } }
  if (body.status !== 'success') throw new Error(`${server.name} query ${query}: ${JSON.stringify(body).slice(0, 300)}`)
  return Number(body.data!.result[0]?.value[1] ?? 0)
}

function writeReport(): void {
  const command = `npm run bench:peers -- --series ${SERIES_RUNS.join(',')} --seconds ${SECONDS} --points ${POINTS} --senders ${SENDERS}${opt.targets === 'prometheus,victoria,governor-rw,governor-otlp' ? '' : ` --targets ${opt.targets}`}`
  const rows = results.map((r) => [
    fmt(r.series),
    LABEL[r.target],
    fmt(r.acked / r.seconds),
    fmt(r.acked / r.cpu),
    `${((100 * r.cpu) / r.seconds).toFixed(0)}%`,
    `${r.p50.toFixed(1)} / ${r.p99.toFixed(1)}`,
    `${(r.rssBytes / 2 ** 20).toFixed(0)}`,
    (r.dataBytes / r.stored).toFixed(2),
    (r.diskBytes / r.stored).toFixed(2),
    `${r.stored === r.acked ? 'yes' : '**NO**'}: ${fmt(r.stored)} / ${fmt(r.acked)}`,
    String(r.refused),
    `${(100 * r.generatorCpuShare).toFixed(0)}%`,
    (r.otherCpu / r.seconds).toFixed(2),
  ])
  const ratios = SERIES_RUNS.map((series) => {
    const per = (t: TargetName): number | undefined => {
      const r = results.find((x) => x.series === series && x.target === t)
      return r === undefined ? undefined : r.acked / r.cpu
    }
    const parts: string[] = []
    for (const g of ['governor-rw', 'governor-otlp'] as const) {
      for (const p of ['prometheus', 'victoria'] as const) {
        const a = per(g),
          b = per(p)
        if (a !== undefined && b !== undefined)
          parts.push(`${LABEL[g]} / ${LABEL[p].replace(/ \(.*/, '')} = ${(a / b).toFixed(2)}`)
      }
    }
    return `- ${fmt(series)} series: ${parts.join('; ')}`
  })
  const svgName = opt.out!.replace(/\.md$/, '') + '.svg'
  const svg = barChartSvg({
    title: 'Samples ingested per server CPU-second (higher is better)',
    groups: SERIES_RUNS.map((series) => ({
      label: `${fmt(series)} series`,
      bars: results.filter((r) => r.series === series).map((r) => ({ label: LABEL[r.target], value: r.acked / r.cpu })),
    })),
  })
  mkdirSync(dirname(opt.out!), { recursive: true })
  writeFileSync(svgName, svg)
  const failures = results.filter((r) => r.stored !== r.acked)
  // A server far from a full core was waiting, not working: its throughput was bound by its
  // acknowledgement latency times the senders, and fixed background work weighs on its CPU per sample.
  const unsaturated = results.filter((r) => r.cpu / r.seconds < 0.8)
  const errors = results.filter((r) => r.firstError !== '')
  const report = `# Ingest against peers: Prometheus, VictoriaMetrics, Governor

\`${command}\`

Machine: ${machine()}. Run at ${new Date().toISOString()}.

Each server in turn, alone, pinned to core 1 (\`taskset -c 1\`); the load generator (this
script) pinned to core 0. ${SENDERS} concurrent senders (undici Agent, ${SENDERS} connections),
${POINTS} samples per request (one per series of one metric), ${SECONDS} s per target. Half
the metrics are gauges (integer-valued, wandering), half counters; timestamps in 10 s steps
from a day ago, in order per series. Prometheus, VictoriaMetrics and Governor (remote write) get
byte-for-byte the same snappy-compressed remote write 1.0 requests; Governor (OTLP) gets the same
series and values as uncompressed OTLP protobuf. Each target starts empty, with no warm-up: the
first requests create the series.

| series | target | samples/s acked | samples per server CPU-s | server CPU used | p50 / p99 latency (ms) | peak RSS (MiB) | bytes/sample, sample data | bytes/sample, whole dir | stored = acked | refused requests | generator CPU (core 0) | other processes' CPU (cores) |
|---|---|---|---|---|---|---|---|---|---|---|---|---|
${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}

![samples per server CPU-second](${svgName.replace(/^.*\//, '')})

Samples per server CPU-second, Governor against the peers (ratio > 1: Governor uses less CPU per sample):

${ratios.join('\n')}

${unsaturated.length > 0 ? `Not saturated (server CPU under 80% of its core): ${unsaturated.map((r) => `${LABEL[r.target]} at ${fmt(r.series)} series`).join(', ')}. With ${SENDERS} senders these were bound by their acknowledgement latency (${SENDERS} requests of ${POINTS} samples in flight at most), not by CPU; their samples per CPU-second also carry background work that does not grow with load. Run with more \`--senders\` to see them saturated.\n\n` : ''}Generator alone on core 0 (building bodies, no HTTP): ${generatorRates.map((g) => `${fmt(g.series)} series: ${fmt(g.rw)} samples/s remote write (patch + snappy), ${fmt(g.otlp)} samples/s OTLP (patch)`).join('; ')}.
The "generator CPU" column is the share of core 0 this process used during the load window,
HTTP client included: below 100% the generator had room to send more. The last column is the
CPU (in cores, averaged over the window) that everything else on the machine used meanwhile,
from /proc/stat: other work competing for the two cores (a build or test run) shows there.

How each figure was taken:

- Server CPU: user + system ticks of the server process, all threads, from \`/proc/<pid>/stat\`
  just before the first and just after the last request of the load window. Work a server
  defers past its acknowledgement (VictoriaMetrics flushes in-memory parts about every second
  and merges in the background, Prometheus writes head chunks and compacts blocks later,
  Governor's engine merges parts) is only counted while it happens inside the window.
- What an acknowledgement means differs: Governor answers once the points are committed to
  the data directory; Prometheus once the samples are appended to its head and WAL;
  VictoriaMetrics once they are in its in-memory buffers (flushed to disk within about a second).
- Peak RSS: VmHWM of the server process after the load window.
- Bytes per sample: ${[...new Set(results.map((r) => `${LABEL[r.target].replace(/ \(.*/, '')}: sample data = ${r.dataHow}; whole dir = ${r.diskHow}`))].join('. ')}.
  Apparent file sizes divided by samples stored. The values are synthetic and very regular
  (periodic gauges, counters with constant steps, timestamps exactly 10 s apart), which
  flatters every compressor; compare the servers with one another, not with real data. Prometheus' WAL is compressed (snappy, the
  2.42 default) but far from its 2-hour blocks' size, which a run this short never reaches.
- Stored: ${[...new Set(results.map((r) => `${LABEL[r.target].replace(/ \(.*/, '')}: ${r.storedHow}`))].join('; ')}.
${failures.length > 0 ? `\n**Loss**: ${failures.map((r) => `${LABEL[r.target]} at ${r.series} series stored ${r.stored} of ${r.acked} acknowledged samples`).join('; ')}.\n` : ''}${errors.length > 0 ? `\nRefused requests (retried after 100 ms, same step): ${errors.map((r) => `${LABEL[r.target]} at ${fmt(r.series)} series: ${r.refused}, first: \`${r.firstError.replace(/`/g, "'").replace(/\n/g, ' ')}\``).join('; ')}.\n` : ''}`
  process.stdout.write(report)
  writeFileSync(opt.out!, report)
  if (failures.length > 0) process.exitCode = 1
}

/** Non-idle CPU seconds of the whole machine so far, from the first line of /proc/stat. */
function machineBusySeconds(): number {
  const [, user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]!
    .trim()
    .split(/\s+/)
    .map(Number)
  return (user! + nice! + system! + irq! + softirq! + steal!) / 100
}

function fmt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-'
}
