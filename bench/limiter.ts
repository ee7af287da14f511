/**
 * npm run bench:limiter — what the concurrency limiter costs an app per request, and how the
 * limits compare under one overload:
 *
 *  1. median ns per `acquire()` + `onSuccess()` with each Limit, on the real clock
 *     (performance.now, read twice per request), with --inflight requests held in flight (a
 *     ring: each round acquires one and finishes the oldest), against the bare cost of the two
 *     clock reads and of a FixedLimit (admission without an algorithm);
 *  2. the four adaptive limits in the queueing model of the tests (16 servers × 5 ms, 5,000
 *     requests/s offered, seeded): the limit they settle at, p90 latency, throughput.
 *
 * Each case runs in a process of its own, so that the call sites see one Limit class, as in an
 * app (one after the other in one process, the later cases would pay for megamorphic calls).
 *
 * Options: --ops 1000000 (per run) --runs 21 --inflight 16 --target-ns 200 --out bench/results/limiter.md
 */
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { AimdLimit } from '../throttle/src/limit/aimd-limit.ts'
import { FixedLimit } from '../throttle/src/limit/fixed-limit.ts'
import { Gradient2Limit } from '../throttle/src/limit/gradient2-limit.ts'
import type { Limit } from '../throttle/src/limit/limit.ts'
import { Limiter, type LimiterListener } from '../throttle/src/limit/limiter.ts'
import { SloGradientLimit } from '../throttle/src/limit/slo-gradient-limit.ts'
import { VegasLimit } from '../throttle/src/limit/vegas-limit.ts'
import { seeded } from '../test/helpers/random.ts'
import { runModel } from '../test/throttle/limit/queue-model.ts'
import { machine, percentile } from './lib/proc.ts'

const LOAD = loadavg().map((l) => l.toFixed(2)).join(', ')
const { values: opt } = parseArgs({
  options: {
    ops: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '21' },
    inflight: { type: 'string', default: '16' },
    'target-ns': { type: 'string', default: '200' },
    out: { type: 'string', default: 'bench/results/limiter.md' },
    case: { type: 'string' },
  },
})
const OPS = Number(opt.ops), RUNS = Number(opt.runs), INFLIGHT = Number(opt.inflight), TARGET_NS = Number(opt['target-ns'])
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b)

/** ns per operation of `body(ops)`, one figure per run, after a warm-up run. */
function measure(body: (ops: number) => void): { median: number; p10: number; p90: number } {
  body(OPS) // warm-up: let the JIT settle
  const perRun: number[] = []
  for (let r = 0; r < RUNS; r++) {
    const t0 = process.hrtime.bigint()
    body(OPS)
    perRun.push(Number(process.hrtime.bigint() - t0) / OPS)
  }
  const s = sorted(perRun)
  return { median: percentile(s, 0.5), p10: percentile(s, 0.1), p90: percentile(s, 0.9) }
}

/** acquire + onSuccess with INFLIGHT requests held: the oldest finishes as the next one starts. */
function limiterLoop(limit: Limit, clock?: () => number): (ops: number) => void {
  const limiter = new Limiter({ limit, criticalReserve: 0, clock })
  limiter.setBounds(INFLIGHT + 1, Math.max(limit.max, INFLIGHT + 1)) // never shed here: the bench is the admitted path
  const ring: (LimiterListener | undefined)[] = new Array(INFLIGHT)
  let i = 0
  let shed = 0
  return (ops) => {
    for (let n = 0; n < ops; n++) {
      ring[i]?.onSuccess()
      const l = limiter.acquire()
      if (l === undefined) shed++
      ring[i] = l
      i = i + 1 === INFLIGHT ? 0 : i + 1
    }
    if (shed > 0) throw new Error(`the bench shed ${shed} requests: it measures the admitted path`)
  }
}

let sink = 0
const clockFloor = (ops: number) => {
  for (let n = 0; n < ops; n++) sink += performance.now() - performance.now()
  if (sink === 0.5) console.log('') // keep the loop from being optimised away
}
const limits: [string, () => Limit][] = [
  ['FixedLimit (admission only)', () => new FixedLimit(1000)],
  ['SloGradientLimit (ours, target 250 ms, window 100)', () => new SloGradientLimit({ targetMillis: 250 })],
  ['AimdLimit', () => new AimdLimit({ maxLimit: 1000 })],
  ['Gradient2Limit', () => new Gradient2Limit({ maxLimit: 1000 })],
  ['VegasLimit', () => new VegasLimit({ random: seeded(1) })],
]
const cases: [string, () => (ops: number) => void][] = [
  ['two `performance.now()` reads (the floor: the limiter reads the clock at acquire and at onSuccess)', () => clockFloor],
  ...limits.map(([name, make]): [string, () => (ops: number) => void] => [`acquire + onSuccess, ${name}`, () => limiterLoop(make())]),
  // The limiter's own work: a counter for a clock (1 µs a read), so that no clock cost is in the figure.
  ...limits.slice(0, 2).map(([name, make]): [string, () => (ops: number) => void] => {
    let t = 0
    return [`acquire + onSuccess, ${name}, a counter for a clock (the limiter's own work)`, () => limiterLoop(make(), () => (t += 0.001))]
  }),
]
if (opt.case !== undefined) {
  // A child: measure one case, print it as JSON.
  process.stdout.write(JSON.stringify(measure(cases[Number(opt.case)]![1]())))
  process.exit(0)
}
const rows: [string, ReturnType<typeof measure>][] = cases.map(([name], i) => {
  const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--case', String(i), '--ops', String(OPS), '--runs', String(RUNS), '--inflight', String(INFLIGHT)], { encoding: 'utf8' })
  if (child.status !== 0) throw new Error(`case ${name} failed: ${child.stderr}`)
  return [name, JSON.parse(child.stdout) as ReturnType<typeof measure>]
})

const figure = (part: string, own: boolean) => rows.find(([name]) => name.includes(part) && name.includes('counter') === own)![1]
const slo = figure('SloGradientLimit', false)
const fmt = (n: number) => n.toFixed(0)

// ---------------------------------------------------------------- 2. the queueing model
const MODEL = { arrivalsPerSecond: 5000, servers: 16, serviceMillis: 5, seconds: 60, seed: 1 }
const TARGET = 30
const models: [string, () => Limit][] = [
  [`SloGradientLimit (target p90 ${TARGET} ms)`, () => new SloGradientLimit({ targetMillis: TARGET, initialLimit: 20 })],
  ['Gradient2Limit (bounds [1, 1000])', () => new Gradient2Limit({ minLimit: 1, maxLimit: 1000 })],
  ['VegasLimit', () => new VegasLimit({ random: seeded(9) })],
  ['AimdLimit (timeout 100 ms)', () => new AimdLimit({ maxLimit: 1000, timeoutMillis: 100 })],
]
const modelRows = models.map(([name, make]) => {
  const settled = runModel(make(), MODEL).perSecond.slice(20)
  const avg = (k: 'limit' | 'p90' | 'done') => settled.reduce((a, s) => a + s[k], 0) / settled.length
  const lim = settled.map((s) => s.limit)
  return `| ${name} | ${avg('limit').toFixed(0)} (${Math.min(...lim)}–${Math.max(...lim)}) | ${avg('p90').toFixed(1)} ms | ${avg('done').toFixed(0)} /s |`
})

const md = `# Limiter benchmark

\`npm run bench:limiter -- --ops ${OPS} --runs ${RUNS} --inflight ${INFLIGHT}\`

Machine: ${machine()}. Run at ${new Date().toISOString()}.

## Cost per request

Median of ${RUNS} runs of ${OPS.toLocaleString('en-US')} requests each (p10–p90 of the runs in brackets),
${INFLIGHT} requests in flight, the real clock (\`performance.now\`).

| | ns per request | bar | |
|---|---|---|---|
${rows.map(([name, m]) => `| ${name} | ${fmt(m.median)} (${fmt(m.p10)}–${fmt(m.p90)}) | ${m === slo ? `≤ ${TARGET_NS}` : '-'} | ${m === slo ? (m.median <= TARGET_NS ? 'met' : 'NOT met') : ''} |`).join('\n')}

- Load average when the run started: ${LOAD}; on a shared machine the medians of many
  runs are the figures to read, the spread says how noisy it was.
- The limiter's own work, with a counter for a clock: ${fmt(figure('SloGradientLimit', true).median)} ns with SloGradientLimit,
  ${fmt(figure('FixedLimit', true).median)} ns with FixedLimit (admission alone); the rest is the two \`performance.now()\` reads. Per request it is one small object (the listener:
  a pooled one could be ended twice by a late caller), two field reads and a compare at
  \`acquire\`, and at \`onSuccess\` one store into a preallocated window; once per 100 requests a
  quickselect over the window.
- A coarse clock would take most of the rest away, but round trips under a millisecond
  would then all read 0 ms: not taken.

## The four limits under one overload

The queueing model of \`test/throttle/limit/queue-model.ts\`: ${MODEL.servers} servers at ${MODEL.serviceMillis} ms
(exponential) behind one FIFO queue, ${MODEL.arrivalsPerSecond.toLocaleString('en-US')} requests/s offered (Poisson; capacity
${(MODEL.servers / MODEL.serviceMillis * 1000).toLocaleString('en-US')}/s), seed ${MODEL.seed}, ${MODEL.seconds} s simulated, figures averaged over the
last ${MODEL.seconds - 20} s.

| limit | limit settled at (range) | p90 latency | throughput |
|---|---|---|---|
${modelRows.join('\n')}

- SloGradientLimit holds p90 at the SLO's ${TARGET} ms (the +1 ms is the model's 1 ms step)
  with the servers busy: as much concurrency as the SLO allows.
- Gradient2 and Vegas settle near the concurrency at which latency starts to rise (their
  baseline is their own measurement), below the number of servers: latency well under the
  SLO, but they shed work the servers could have done.
- AIMD only sees the timeout: it saws between a few requests and hundreds.
`
writeFileSync(opt.out, md)
console.log(md)
