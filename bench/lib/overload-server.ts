/**
 * The server of `npm run bench:overload`, run as a child process (pinned to a core by the
 * parent): a fastify app whose one route waits for a bounded backend, a semaphore of `--slots`
 * slots held for a lognormal time (mean `--mean-ms`, σ 0.5, seeded) by setTimeout, so the
 * backend completes slots ÷ mean requests a second at most and the rest queue in the app.
 * `--mode` puts in front of it nothing, @fastify/under-pressure (its README's latency checks), or
 * Governor's limiter through @governor/throttle/fastify. `GET /stats` (not limited) answers the
 * limit and in-flight count sampled every 250 ms. Prints `listening <port>` when ready.
 */
import { parseArgs } from 'node:util'
import underPressure from '@fastify/under-pressure'
import Fastify from 'fastify'
import { seeded } from '../../test/helpers/random.ts'
import { lognormal } from '../control/distributions.ts'
import { throttlePlugin } from '../../throttle/src/fastify.ts'
import { Limiter } from '../../throttle/src/limit/limiter.ts'
import { SloGradientLimit } from '../../throttle/src/limit/slo-gradient-limit.ts'

const { values: opt } = parseArgs({
  options: {
    mode: { type: 'string', default: 'none' },
    slots: { type: 'string', default: '16' },
    'mean-ms': { type: 'string', default: '20' },
    'target-ms': { type: 'string', default: '100' },
    seed: { type: 'string', default: '1' },
  },
})
const SLOTS = Number(opt.slots),
  MEAN = Number(opt['mean-ms'])
const random = seeded(Number(opt.seed))

// The backend: a counting semaphore with a FIFO of waiters (array + head cursor: no O(n) shift).
let busy = 0
let waiters: (() => void)[] = []
let head = 0
function release(): void {
  if (head < waiters.length) {
    const next = waiters[head++]!
    if (head > 1024 && head * 2 > waiters.length) {
      waiters = waiters.slice(head)
      head = 0
    }
    next() // the slot passes straight to the next waiter
  } else busy--
}
async function backend(): Promise<void> {
  if (busy < SLOTS) busy++
  else await new Promise<void>((resolve) => waiters.push(resolve))
  await new Promise((resolve) => setTimeout(resolve, lognormal(random, MEAN, 0.5)))
  release()
}
const inflight = () => busy + waiters.length - head

const app = Fastify({ logger: false })
let limiter: Limiter | undefined
if (opt.mode === 'under-pressure') {
  // The latency checks of the plugin's README example (its defaults, 0, check nothing). Its
  // 100 MB heap and RSS limits are left out: a process run through tsx idles near 100 MB RSS,
  // so they would shed everything for a reason that has nothing to do with load.
  await app.register(underPressure, { maxEventLoopDelay: 1000, maxEventLoopUtilization: 0.98 })
} else if (opt.mode === 'governor') {
  limiter = new Limiter({ limit: new SloGradientLimit({ targetMillis: Number(opt['target-ms']), percentile: 0.9 }) })
  await app.register(throttlePlugin, { limiter, meter: false })
} else if (opt.mode !== 'none') {
  throw new Error(`--mode must be none, under-pressure or governor; got ${opt.mode}`)
}

const samples: [number, number, number][] = [] // [ms since start, limit, in flight]
const t0 = performance.now()
const sampler = setInterval(
  () => samples.push([Math.round(performance.now() - t0), limiter?.limit ?? NaN, inflight()]),
  250,
)
app.addHook('onClose', async () => clearInterval(sampler))

app.get('/work', async () => {
  await backend()
  return 'ok'
})
app.get('/stats', { config: { throttle: { bypass: true } } }, async () => ({
  samples: samples.map(([t, l, i]) => [t, Number.isNaN(l) ? null : l, i]),
  counts: limiter?.counts ?? null,
}))

await app.listen({ host: '127.0.0.1', port: 0 })
const address = app.server.address()
process.stdout.write(`listening ${typeof address === 'object' && address !== null ? address.port : 0}\n`)
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)))
