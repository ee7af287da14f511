/**
 * The app of `npm run bench:loop`, run as a child process (pinned to a core by the parent): a
 * fastify app as a user writes it with @governor/throttle. Its one route waits for a bounded
 * backend (a semaphore of `--slots` slots held for a lognormal time, mean `--mean-ms`, σ 0.5,
 * seeded), then for a dependency that holds no slot (0 ms until told otherwise). In front of
 * it the throttle plugin's limiter, its max bound on the `max-concurrency` knob declared to
 * Governor at `--governor`; `--fast-loop off` puts a FixedLimit there, so the knob alone
 * bounds the concurrency. The app's OTel metrics (`http.server.request.duration` in seconds,
 * and the limiter's own) go to Governor over OTLP/HTTP every `--export-ms`.
 *
 * Not limited: `POST /control` ({ slots, dependencyMillis }) changes the backend's slots and
 * the dependency's delay mid-run; `GET /stats` answers the limiter's limit, in-flight count,
 * the knob's value, the limit's reason and how late the sample came, every 250 ms. Prints `listening <port>`.
 */
import { parseArgs } from 'node:util'
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics'
import Fastify from 'fastify'
import { seeded } from '../../test/helpers/random.ts'
import { lognormal } from '../control/distributions.ts'
import { bindBounds } from '../../throttle/src/bind-knob.ts'
import { connect } from '../../throttle/src/connect.ts'
import { throttlePlugin } from '../../throttle/src/fastify.ts'
import { FixedLimit } from '../../throttle/src/limit/fixed-limit.ts'
import { Limiter } from '../../throttle/src/limit/limiter.ts'
import { SloGradientLimit } from '../../throttle/src/limit/slo-gradient-limit.ts'

const { values: opt } = parseArgs({
  options: {
    governor: { type: 'string' },
    service: { type: 'string', default: 'loop-app' },
    'fast-loop': { type: 'string', default: 'on' },
    slots: { type: 'string', default: '16' },
    'mean-ms': { type: 'string', default: '20' },
    'target-ms': { type: 'string', default: '100' },
    'knob-default': { type: 'string', default: '256' },
    'export-ms': { type: 'string', default: '5000' },
    seed: { type: 'string', default: '1' },
  },
})
if (opt.governor === undefined) throw new Error('--governor <url> is required')
const MEAN = Number(opt['mean-ms'])
const random = seeded(Number(opt.seed))
let slots = Number(opt.slots)
let dependencyMillis = 0

// The backend: a counting semaphore with a FIFO of waiters (array + head cursor: no O(n) shift).
// When its slots are cut, the surplus drains: a finished request hands its slot on only while
// no more than `slots` are busy.
let busy = 0
let waiters: (() => void)[] = []
let head = 0
function release(): void {
  if (head < waiters.length && busy <= slots) {
    const next = waiters[head++]!
    if (head > 1024 && head * 2 > waiters.length) {
      waiters = waiters.slice(head)
      head = 0
    }
    next()
  } else busy--
}
function grow(): void {
  while (busy < slots && head < waiters.length) {
    busy++
    waiters[head++]!()
  }
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
async function backend(): Promise<void> {
  if (busy < slots) busy++
  else await new Promise<void>((resolve) => waiters.push(resolve))
  await sleep(lognormal(random, MEAN, 0.5))
  release()
}

const governor = connect({ url: opt.governor, service: opt.service!, startupTimeoutMillis: 10_000 })
const knob = governor.knob('max-concurrency', {
  type: 'int',
  default: Number(opt['knob-default']),
  min: 1,
  max: 1000,
  unit: '{request}',
  description: 'most requests the app handles at once',
})
await governor.ready()

const provider = new MeterProvider({
  resource: resourceFromAttributes({ 'service.name': opt.service! }),
  readers: [
    new PeriodicExportingMetricReader({
      exporter: new OTLPMetricExporter({ url: `${opt.governor}/v1/metrics` }),
      exportIntervalMillis: Number(opt['export-ms']),
      exportTimeoutMillis: Number(opt['export-ms']),
    }),
  ],
})
const requestDuration = provider.getMeter('loop-app').createHistogram('http.server.request.duration', {
  unit: 's',
  description: 'Duration of HTTP server requests.',
  advice: {
    explicitBucketBoundaries: [
      0.01, 0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.175, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1, 2.5,
    ],
  },
})

const fastLoop = opt['fast-loop'] === 'on'
if (!fastLoop && opt['fast-loop'] !== 'off') throw new Error(`--fast-loop must be on or off; got ${opt['fast-loop']}`)
const sloGradient = fastLoop ? new SloGradientLimit({ targetMillis: Number(opt['target-ms']) }) : undefined
const limiter = new Limiter({ limit: sloGradient ?? new FixedLimit(knob.value) })
bindBounds(limiter, { max: knob })

const app = Fastify({ logger: false })
await app.register(throttlePlugin, { limiter, meter: provider.getMeter('@governor/throttle') })
app.addHook('onResponse', async (request, reply) => {
  if (request.routeOptions.config?.throttle?.bypass === true) return
  requestDuration.record(reply.elapsedTime / 1000, {
    'http.request.method': request.method,
    'http.route': request.routeOptions.url ?? 'unmatched',
    'http.response.status_code': reply.statusCode,
  })
})

/**
 * [epoch ms, limit, in flight, knob, reason, ms the sample came late] every 250 ms. A late
 * sample is time the app's event loop did not run: busy, or (on a shared machine) not given a CPU.
 */
const SAMPLE_MILLIS = 250
const samples: [number, number, number, number, string, number][] = []
let lastSample = performance.now()
const sampler = setInterval(() => {
  const now = performance.now()
  const late = Math.max(0, Math.round(now - lastSample - SAMPLE_MILLIS))
  lastSample = now
  samples.push([Date.now(), limiter.limit, limiter.inflight, knob.value, sloGradient?.reason ?? 'fixed', late])
}, SAMPLE_MILLIS)
app.addHook('onClose', async () => {
  clearInterval(sampler)
  await provider.shutdown()
  await governor.close()
})

app.get('/work', async () => {
  await backend()
  if (dependencyMillis > 0) await sleep(dependencyMillis)
  return 'ok'
})
app.post<{ Body: { slots?: number; dependencyMillis?: number } }>(
  '/control',
  { config: { throttle: { bypass: true } } },
  async (request) => {
    if (request.body.slots !== undefined) slots = request.body.slots
    if (request.body.dependencyMillis !== undefined) dependencyMillis = request.body.dependencyMillis
    grow()
    return { slots, dependencyMillis }
  },
)
app.get('/stats', { config: { throttle: { bypass: true } } }, async () => ({ samples }))

await app.listen({ host: '127.0.0.1', port: 0 })
const address = app.server.address()
process.stdout.write(`listening ${typeof address === 'object' && address !== null ? address.port : 0}\n`)
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)))
