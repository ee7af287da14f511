/**
 * npm run bench:limiter — what the concurrency limiter costs an app per request, and how the
 * limits compare under one overload:
 *
 *  1. median ns per `acquire()` + `onSuccess()`, old clock against new side by side in one
 *     run: `performance.now()` (read twice per request; the default before) and `coarseClock`
 *     (a variable a 1 ms timer updates; the default now), with --inflight requests held in
 *     flight (a ring: each round acquires one and finishes the oldest); the bare cost of the
 *     two clock reads; the limiter's own work with a counter for a clock; and what the coarse
 *     clock's timer costs, per second and per request at a few request rates;
 *  2. the four adaptive limits in the queueing model of the tests (16 servers × 5 ms, 5,000
 *     requests/s offered, seeded): the limit they settle at, p90 latency, throughput.
 *
 * Each case runs in a process of its own, so that the call sites see one Limit class and one
 * clock, as in an app (one after the other in one process, the later cases would pay for
 * megamorphic calls). The cases run interleaved, round after round, so that a noisy
 * neighbour slows old and new alike.
 *
 * Options: --ops 1000000 (per run) --runs 21 --inflight 16 --target-ns 100 --out bench/results/limiter.md
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
import { type Clock, coarseClock, monotonicClock } from '../throttle/src/clock.ts'
import { SloGradientLimit } from '../throttle/src/limit/slo-gradient-limit.ts'
import { VegasLimit } from '../throttle/src/limit/vegas-limit.ts'
import { seeded } from '../test/helpers/random.ts'
import { runModel } from '../test/throttle/limit/queue-model.ts'
import { machine, percentile } from './lib/proc.ts'

const LOAD = loadavg()
  .map((l) => l.toFixed(2))
  .join(', ')
const { values: opt } = parseArgs({
  options: {
    ops: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '21' },
    inflight: { type: 'string', default: '16' },
    'target-ns': { type: 'string', default: '100' },
    out: { type: 'string', default: 'bench/results/limiter.md' },
    case: { type: 'string' },
    'child-runs': { type: 'string' },
  },
})
const OPS = Number(opt.ops),
  RUNS = Number(opt.runs),
  INFLIGHT = Number(opt.inflight),
  TARGET_NS = Number(opt['target-ns'])
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b)

/** ns per operation of one run of `body(ops)`. */
function once(body: (ops: number) => void): number {
  const t0 = process.hrtime.bigint()
  body(OPS)
  return Number(process.hrtime.bigint() - t0) / OPS
}

/** acquire + onSuccess with INFLIGHT requests held: the oldest finishes as the next one starts. */
function limiterLoop(limit: Limit, clock: Clock): (ops: number) => void {
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
const clockFloor = (clock: Clock) => (ops: number) => {
  for (let n = 0; n < ops; n++) sink += clock() - clock()
  if (sink === 0.5) console.log('') // keep the loop from being optimised away
}
const limits: [string, () => Limit][] = [
  ['FixedLimit (admission only)', () => new FixedLimit(1000)],
  ['SloGradientLimit (ours, target 250 ms, window 100)', () => new SloGradientLimit({ targetMillis: 250 })],
  ['AimdLimit', () => new AimdLimit({ maxLimit: 1000 })],
  ['Gradient2Limit', () => new Gradient2Limit({ maxLimit: 1000 })],
  ['VegasLimit', () => new VegasLimit({ random: seeded(1) })],
]
const OLD = 'performance.now (old default)',
  NEW = 'coarseClock (new default)'
interface Case {
  name: string
  clock: string
  make: () => (ops: number) => void
}
const cases: Case[] = [
  {
    name: 'two clock reads (the floor: the limiter reads its clock at acquire and at onSuccess)',
    clock: OLD,
    make: () => clockFloor(monotonicClock),
  },
  {
    name: 'two clock reads (the floor: the limiter reads its clock at acquire and at onSuccess)',
    clock: NEW,
    make: () => clockFloor(coarseClock),
  },
  ...limits.flatMap(([name, make]): Case[] => [
    { name: `acquire + onSuccess, ${name}`, clock: OLD, make: () => limiterLoop(make(), monotonicClock) },
    { name: `acquire + onSuccess, ${name}`, clock: NEW, make: () => limiterLoop(make(), coarseClock) },
  ]),
  // The limiter's own work: a counter for a clock (1 µs a read), so that no clock cost is in the figure.
  ...limits.slice(0, 2).map(([name, make]): Case => {
    let t = 0
    return {
      name: `acquire + onSuccess, ${name}`,
      clock: "a counter (the limiter's own work)",
      make: () => limiterLoop(make(), () => (t += 0.001)),
    }
  }),
]

/**
 * CPU the coarse clock's timer costs: an idle process that reads a clock every 100 ms for
 * `seconds` (so that the coarse timer keeps ticking), µs of CPU per second, with `clock`.
 */
async function idleCpu(clock: Clock, seconds: number): Promise<number> {
  const reader = setInterval(() => {
    sink += clock()
  }, 100)
  const before = process.cpuUsage()
  await new Promise((r) => setTimeout(r, seconds * 1000))
  const used = process.cpuUsage(before)
  clearInterval(reader)
  return (used.user + used.system) / seconds
}

/**
 * acquire + onSuccess with SloGradientLimit, one request per turn of the event loop (as a server
 * handles them: the coarse clock's timer ticks between), `ops` requests: CPU ns per request.
 */
async function perTurn(clock: Clock, ops: number): Promise<number> {
  const body = limiterLoop(new SloGradientLimit({ targetMillis: 250 }), clock)
  const before = process.cpuUsage()
  await new Promise<void>((resolve) => {
    let left = ops
    const turn = () => {
      body(1)
      if (--left > 0) setImmediate(turn)
      else resolve()
    }
    setImmediate(turn)
  })
  const used = process.cpuUsage(before)
  return ((used.user + used.system) * 1000) / ops
}

if (opt.case !== undefined) {
  // A child: warm up, then one run of one case, printed as JSON; or the timer's cost.
  if (opt.case === 'turns') {
    const n = Math.max(50_000, OPS / 5)
    await perTurn(monotonicClock, n) // warm-up
    await perTurn(coarseClock, n)
    const out: { old: number; coarse: number }[] = []
    for (let r = 0; r < 3; r++)
      out.push({ old: await perTurn(monotonicClock, n), coarse: await perTurn(coarseClock, n) })
    process.stdout.write(JSON.stringify(out))
    process.exit(0)
  }
  if (opt.case === 'timer') {
    const old = await idleCpu(monotonicClock, 2)
    const coarse = await idleCpu(coarseClock, 2)
    process.stdout.write(JSON.stringify({ old, coarse }))
    process.exit(0)
  }
  const body = cases[Number(opt.case)]!.make()
  body(OPS) // warm-up: let the JIT settle
  const runs = Number(opt['child-runs'] ?? '1')
  const out: number[] = []
  for (let r = 0; r < runs; r++) out.push(once(body))
  process.stdout.write(JSON.stringify(out))
  process.exit(0)
}

const child = (args: string[]) => {
  const c = spawnSync(
    process.execPath,
    [
      ...process.execArgv,
      fileURLToPath(import.meta.url),
      ...args,
      '--ops',
      String(OPS),
      '--inflight',
      String(INFLIGHT),
    ],
    { encoding: 'utf8' },
  )
  if (c.status !== 0) throw new Error(`bench child ${args.join(' ')} failed: ${c.stderr}`)
  return JSON.parse(c.stdout) as unknown
}
// Interleaved: round r runs every case once (3 runs a process, after its warm-up).
const PER_CHILD = 3
const perCase: number[][] = cases.map(() => [])
for (let r = 0; r < Math.ceil(RUNS / PER_CHILD); r++) {
  cases.forEach((_, i) =>
    perCase[i]!.push(...(child(['--case', String(i), '--child-runs', String(PER_CHILD)]) as number[])),
  )
}
const stats = (xs: number[]) => {
  const s = sorted(xs)
  return { median: percentile(s, 0.5), p10: percentile(s, 0.1), p90: percentile(s, 0.9), n: s.length }
}
const rows = cases.map((c, i) => ({ ...c, ...stats(perCase[i]!) }))
const timers: { old: number; coarse: number }[] = []
for (let r = 0; r < 5; r++) timers.push(child(['--case', 'timer']) as { old: number; coarse: number })
const timerCpu = percentile(sorted(timers.map((t) => t.coarse - t.old)), 0.5) // µs of CPU a second
const turns: { old: number; coarse: number }[] = []
for (let r = 0; r < 3; r++) turns.push(...(child(['--case', 'turns']) as { old: number; coarse: number }[]))
const turnOld = percentile(sorted(turns.map((t) => t.old)), 0.5),
  turnNew = percentile(sorted(turns.map((t) => t.coarse)), 0.5)
const turnRatio = percentile(sorted(turns.map((t) => t.coarse / t.old)), 0.5)
const fmt = (n: number) => n.toFixed(0)
const row = (name: string, clock: string) => rows.find((r) => r.name === name && r.clock === clock)!
const sloName = `acquire + onSuccess, ${limits[1]![0]}`
const sloNew = row(sloName, NEW)
const pairs = [...new Set(rows.filter((r) => r.clock === OLD).map((r) => r.name))]
// ---------------------------------------------------------------- 2. the queueing model
const MODEL = { arrivalsPerSecond: 5000, servers: 16, serviceMillis: 5, seconds: 60, seed: 1 }
const TARGET = 30
const models: [string, () => Limit][] = [
  [
    `SloGradientLimit (target p90 ${TARGET} ms)`,
    () => new SloGradientLimit({ targetMillis: TARGET, initialLimit: 20 }),
  ],
  ['Gradient2Limit (bounds [1, 1000])', () => new Gradient2Limit({ minLimit: 1, maxLimit: 1000 })],
  ['VegasLimit', () => new VegasLimit({ random: seeded(9) })],
  ['AimdLimit (timeout 100 ms)', () => new AimdLimit({ maxLimit: 1000, timeoutMillis: 100 })],
]
const settledAt = new Map<string, { limit: number; p90: number }>()
const modelRows = models.map(([name, make]) => {
  const settled = runModel(make(), MODEL).perSecond.slice(20)
  const avg = (k: 'limit' | 'p90' | 'done') => settled.reduce((a, s) => a + s[k], 0) / settled.length
  const lim = settled.map((s) => s.limit)
  settledAt.set(name.split(' ')[0]!, { limit: avg('limit'), p90: avg('p90') })
  return `| ${name} | ${avg('limit').toFixed(0)} (${Math.min(...lim)}–${Math.max(...lim)}) | ${avg('p90').toFixed(1)} ms | ${avg('done').toFixed(0)} /s |`
})

/** What the run shows of the baselines, from its own figures (so that no sentence outlives the code it describes). */
function describeModel(): string {
  const lines: string[] = []
  for (const name of ['Gradient2Limit', 'VegasLimit']) {
    const m = settledAt.get(name)!
    lines.push(
      m.limit < MODEL.servers
        ? `- ${name} settles at ${m.limit.toFixed(0)} in flight, below the ${MODEL.servers} servers: its setpoint is its own measured latency, so it keeps the p90 at ${m.p90.toFixed(1)} ms, well under the SLO, and sheds work the servers could have done.`
        : `- ${name} settles at ${m.limit.toFixed(0)} in flight (its bound), the p90 at ${m.p90.toFixed(1)} ms: its setpoint is its own long-term latency, which rises with the queue it lets build, so nothing in it stops at the SLO.`,
    )
  }
  lines.push('- AIMD only sees the timeout: it saws between a few requests and hundreds.')
  return lines.join('\n')
}

const md = `# Limiter benchmark

\`npm run bench:limiter -- --ops ${OPS} --runs ${RUNS} --inflight ${INFLIGHT}\`

Machine: ${machine()}. Run at ${new Date().toISOString()}.

## Cost per request

Median of ${rows[0]!.n} runs of ${OPS.toLocaleString('en-US')} requests each (p10–p90 of the runs in brackets), ${INFLIGHT} requests
in flight, each case in a process of its own, old and new interleaved (${PER_CHILD} runs a process, after a
warm-up run). Load average when the run started: ${LOAD} (2 cores shared with other work: read the
medians and the ratios, the spread says how noisy it was).

| | \`performance.now\` (old default) | \`coarseClock\` (new default) | new ÷ old |
|---|---:|---:|---:|
${pairs
  .map((name) => {
    const o = row(name, OLD),
      n = row(name, NEW)
    return `| ${name} | ${fmt(o.median)} ns (${fmt(o.p10)}–${fmt(o.p90)}) | ${fmt(n.median)} ns (${fmt(n.p10)}–${fmt(n.p90)}) | ${(n.median / o.median).toFixed(2)} |`
  })
  .join('\n')}

The bar, ≤ ${TARGET_NS} ns a request including the clock, with SloGradientLimit on the new default clock:
**${fmt(sloNew.median)} ns, ${sloNew.median <= TARGET_NS ? 'met' : 'NOT met'}**.

- The limiter's own work, with a counter for a clock (a closure adding 1 µs a read, itself
  dearer than the coarse clock's variable load, and measured in processes of their own: on a
  busy machine it can come out above the coarse-clock figure): ${fmt(row(sloName, "a counter (the limiter's own work)").median)} ns with SloGradientLimit,
  ${fmt(row(`acquire + onSuccess, ${limits[0]![0]}`, "a counter (the limiter's own work)").median)} ns with FixedLimit (admission alone). Per request it is one small object (the listener:
  a pooled one could be ended twice by a late caller), two field reads and a compare at
  \`acquire\`, and at \`onSuccess\` two stores into preallocated windows; once per 100 requests two
  quickselects over the window (three when it judges whether latency comes from concurrency).
- In these loops nothing yields to the event loop, so the coarse clock's timer never ticks: its
  readings are one variable load, and every round trip reads 0 ms (the algorithms do the same
  work whatever the value). What the clock costs besides is its timer, per tick and not per
  request. It stops at the first tick without a reading, so a process read every 100 ms (a
  quiet app: ten requests a second) pays a restart a reading, not a thousand ticks a second:
  ${fmt(timerCpu)} µs of CPU a second against one reading \`performance.now()\` (median difference of ${timers.length} pairs of
  two-second runs; ${Math.abs(timerCpu) < 2000 ? 'within the noise of this machine' : 'above the noise'}).
- With the event loop turning between requests, as in a server (one request a \`setImmediate\`
  turn, SloGradientLimit, as fast as the loop goes, so the timer ticks every millisecond): CPU a
  request, the turn included, ${fmt(turnOld)} ns on \`performance.now\` and ${fmt(turnNew)} ns on the coarse clock
  (median of ${turns.length} runs each, interleaved; median ratio ${turnRatio.toFixed(2)}). The timer's ticks are in that figure.
- What the coarse clock gives up: a reading is late by up to a tick (1 ms) plus whatever the
  event loop is busy with, the same at both ends of a round trip. Latency targets of tens of
  ms do not notice; for round trips of a few ms pass \`clock: monotonicClock\`.

## The four limits under one overload

The queueing model of \`test/throttle/limit/queue-model.ts\`: ${MODEL.servers} servers at ${MODEL.serviceMillis} ms
(exponential) behind one FIFO queue, ${MODEL.arrivalsPerSecond.toLocaleString('en-US')} requests/s offered (Poisson; capacity
${((MODEL.servers / MODEL.serviceMillis) * 1000).toLocaleString('en-US')}/s), seed ${MODEL.seed}, ${MODEL.seconds} s simulated, figures averaged over the
last ${MODEL.seconds - 20} s.

| limit | limit settled at (range) | p90 latency | throughput |
|---|---|---|---|
${modelRows.join('\n')}

- SloGradientLimit holds p90 at the SLO's ${TARGET} ms (the +1 ms is the model's 1 ms step)
  with the servers busy: as much concurrency as the SLO allows.
${describeModel()}
`
writeFileSync(opt.out, md)
console.log(md)
