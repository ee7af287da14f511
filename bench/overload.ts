/**
 * npm run bench:overload — a real fastify app with a bounded backend (bench/lib/overload-server.ts:
 * 16 slots, lognormal 20 ms, so 800 requests a second at most) driven by autocannon at 2× its
 * capacity, three times: no protection, @fastify/under-pressure, and Governor's limiter through
 * @governor/throttle/fastify. The server is pinned to core 1 (`taskset -c 1`), autocannon in
 * this process on core 0.
 *
 * autocannon paces a rate per connection with a quota that refills once a second, so one
 * instance sends its whole second's worth in a burst as soon as answers come back (a 503 comes
 * back at once). To offer a steadier load the connections are split over `--instances`
 * autocannon instances started 1000 / instances ms apart: bursts of rate / instances requests.
 *
 * Options: --seconds 20 (per run; the first 5 are not judged) --rate 1600 --connections 800
 *          --instances 40 --slots 16 --mean-ms 20 --timeout-s 1
 *          --out bench/results/overload.md (chart: .svg)
 */
import { execFileSync, spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import autocannon from 'autocannon'
import { lineChartSvg } from './lib/line-chart.ts'
import { stop, waitReady, type Server } from './lib/peer-servers.ts'
import { machine, percentile } from './lib/proc.ts'

const { values: opt } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    rate: { type: 'string', default: '1600' },
    connections: { type: 'string', default: '800' },
    instances: { type: 'string', default: '40' },
    slots: { type: 'string', default: '16' },
    'mean-ms': { type: 'string', default: '20' },
    'timeout-s': { type: 'string', default: '1' },
    out: { type: 'string', default: 'bench/results/overload.md' },
  },
})
const SECONDS = Number(opt.seconds),
  RATE = Number(opt.rate),
  CONNECTIONS = Number(opt.connections),
  INSTANCES = Number(opt.instances)
const SLOTS = Number(opt.slots),
  MEAN = Number(opt['mean-ms']),
  TIMEOUT_S = Number(opt['timeout-s'])
const CAPACITY = (SLOTS * 1000) / MEAN
const SLO_MS = 200
const WARMUP_S = 5
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
  perSecond: { good: number; goodSlo: number; shed: number; other: number }[]
  goodLatencies: number[]
  timeouts: number
  shed: number
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
    const perSecond = Array.from({ length: SECONDS }, () => ({ good: 0, goodSlo: 0, shed: 0, other: 0 }))
    const goodLatencies: number[] = []
    const start = performance.now()
    const onResponse = (_client: unknown, status: number, _bytes: number, responseTime: number) => {
      const second = Math.floor((performance.now() - start) / 1000)
      const w = perSecond[second]
      if (w === undefined) return
      if (status === 200) {
        w.good++
        if (responseTime <= SLO_MS) w.goodSlo++
        if (second >= WARMUP_S) goodLatencies.push(responseTime)
      } else if (status === 503) w.shed++
      else w.other++
    }
    const runs: Promise<autocannon.Result>[] = []
    for (let i = 0; i < INSTANCES; i++) {
      const instance = autocannon({
        url: `${server.url}/work`,
        connections: CONNECTIONS / INSTANCES,
        overallRate: RATE / INSTANCES,
        duration: SECONDS - i / INSTANCES,
        timeout: TIMEOUT_S,
      })
      instance.on('response', onResponse)
      runs.push(instance)
      await new Promise((resolve) => setTimeout(resolve, 1000 / INSTANCES))
    }
    const done = await Promise.all(runs)
    const timeouts = done.reduce((s, r) => s + r.timeouts, 0)
    const res = await fetch(`${server.url}/stats`)
    if (!res.ok) throw new Error(`GET /stats of the ${mode} server answered ${res.status}: ${await res.text()}`)
    const stats = (await res.json()) as { samples: [number, number | null, number][] }
    return {
      mode,
      perSecond,
      goodLatencies: goodLatencies.sort((a, b) => a - b),
      timeouts,
      shed: perSecond.reduce((s, w) => s + w.shed, 0),
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
const goodput = (r: RunFigures) => judged(r).reduce((s, w) => s + w.good, 0) / judged(r).length
const withinSlo = (r: RunFigures) => judged(r).reduce((s, w) => s + w.goodSlo, 0) / judged(r).length
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
const svgName = opt.out!.replace(/\.md$/, '.svg')
writeFileSync(svgName, chart)
writeFileSync(
  opt.out!,
  `# Overload of a real fastify app

Generated by \`npm run bench:overload\` (\`bench/overload.ts\`, server \`bench/lib/overload-server.ts\`).
Machine: ${machine()}. Run at ${new Date().toISOString()}.

A fastify app whose route waits for a bounded backend: a semaphore of ${SLOTS} slots held for a
lognormal time (mean ${MEAN} ms, σ 0.5) by setTimeout, so at most ${CAPACITY} requests a second; the rest
queue in the app. autocannon offers ${RATE} requests a second (${(RATE / CAPACITY).toFixed(1)}× capacity) over ${CONNECTIONS} connections
(${INSTANCES} instances started ${1000 / INSTANCES} ms apart: autocannon refills each instance's quota once a second, so one instance
alone would send each second's requests in one burst) for
${SECONDS} s per run, with a ${TIMEOUT_S} s timeout; the first ${WARMUP_S} s are not judged. ${
    PINNED
      ? 'The server is pinned to core 1 (`taskset -c 1`), autocannon (in the bench process) to core 0; other processes on the machine are not kept off them.'
      : 'Fewer than 2 cores: server and load generator share the CPU (not pinned).'
  }
Each connection has one request outstanding at a time, so at most ${CONNECTIONS} wait at once: once the
unprotected app's queue passes ${TIMEOUT_S} s the offered load falls to about ${CONNECTIONS / TIMEOUT_S} requests a second (a closed loop), which
caps its queue and leaves it a partial collapse where open-loop arrivals would leave none (see \`npm run bench:control\`).
Capacity is the nominal ${SLOTS} ÷ ${MEAN} ms; the service times drawn average a little off that mean, so a saturated
backend can show slightly more than 100 %.
The machine is shared: 1-minute load average after each run ${results.map((r) => `${r.mode} ${r.load}`).join(', ')} (${CORES} cores).

| run | goodput (200 within ${TIMEOUT_S} s, % of capacity) | 200s within ${SLO_MS} ms, % of capacity | p50 of 200s | p99 of 200s | shed (503) | client timeouts | other statuses | peak in flight |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
${results.map((r) => `| ${LABEL[r.mode]} | ${((goodput(r) / CAPACITY) * 100).toFixed(1)} % | ${((withinSlo(r) / CAPACITY) * 100).toFixed(1)} % | ${ms(percentile(r.goodLatencies, 0.5))} | ${ms(percentile(r.goodLatencies, 0.99))} | ${r.shed.toLocaleString('en-US')} | ${r.timeouts.toLocaleString('en-US')} | ${r.perSecond.reduce((s, w) => s + w.other, 0).toLocaleString('en-US')} | ${Math.max(...r.samples.map(([, , i]) => i)).toLocaleString('en-US')} |`).join('\n')}

Governor's limit, sampled every 250 ms (seconds ${WARMUP_S}–${SECONDS}): min ${Math.min(...gov.samples.filter(([t]) => t >= WARMUP_S * 1000).map(([, l]) => l ?? 0))}, max ${Math.max(...gov.samples.filter(([t]) => t >= WARMUP_S * 1000).map(([, l]) => l ?? 0))}; the plugin sheds sheddable routes at the limit less its default critical reserve (20 %).

Responses per second (200 / 503):

| second | ${results.map((r) => r.mode).join(' | ')} |
|---:|${results.map(() => '---:').join('|')}|
${results[0]!.perSecond.map((_, s) => `| ${s + 1} | ${results.map((r) => `${r.perSecond[s]!.good} / ${r.perSecond[s]!.shed}`).join(' | ')} |`).join('\n')}

![Governor: in flight and limit](${svgName.split('/').at(-1)})
`,
)
console.log(`wrote ${opt.out} and ${svgName}`)
