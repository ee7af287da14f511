import type { AddressInfo } from 'node:net'
import { connect, isThrottleError, throttledFetch, type ThrottleClient } from '@governor/throttle'
import { throttlePlugin } from '@governor/throttle/fastify'
import Fastify, { type FastifyInstance } from 'fastify'
import { recordDeploy } from './deploy.ts'
import { Shop } from './shop.ts'
import { startTelemetry, type Telemetry } from './telemetry.ts'

/** How the demo runs; `demoOptionsFromEnv` reads them from the environment. */
export interface DemoOptions {
  /** Governor's base URL, e.g. `http://governor:4318`. */
  governorUrl: string
  /** A token with the `ingest` and `deploy` roles; none in Governor's open local mode. */
  token: string | undefined
  service: string
  version: string
  environment: string
  /** Who the deploy is recorded as (with a token: `<actor> via <token name>`). */
  actor: string
  /** Port of the demo's own HTTP endpoint (`POST /checkout`); 0 picks a free one. */
  port: number
  /** Requests a second the demo sends itself, so there is always something to see; 0: none. */
  loadPerSecond: number
  exportIntervalMillis: number
}

const env = (name: string, fallback: string): string => process.env[name] ?? fallback

/** Reads `DemoOptions` from `DEMO_*` and `GOVERNOR_*` variables, with defaults for a local Governor. */
export function demoOptionsFromEnv(): DemoOptions {
  return {
    governorUrl: env('GOVERNOR_URL', 'http://127.0.0.1:4318').replace(/\/$/, ''),
    token: process.env.GOVERNOR_TOKEN === '' ? undefined : process.env.GOVERNOR_TOKEN,
    service: env('DEMO_SERVICE', 'demo-shop'),
    version: env('DEMO_VERSION', '1.0.0'),
    environment: env('DEMO_ENVIRONMENT', 'production'),
    actor: env('DEMO_ACTOR', 'demo'),
    port: Number(env('DEMO_PORT', '8080')),
    loadPerSecond: Number(env('DEMO_LOAD_PER_SECOND', '20')),
    exportIntervalMillis: Number(env('DEMO_EXPORT_INTERVAL_MILLIS', '10000')),
  }
}

/** A running demo. */
export interface Demo {
  /** The deploy recorded at start. */
  deploy: { id: string; version: string }
  governor: ThrottleClient
  shop: Shop
  telemetry: Telemetry
  server: FastifyInstance
  /** Sends the last metrics, stops the load, the server and the knob client. */
  stop(): Promise<void>
}

/**
 * Starts the demo: records its deploy, connects to Governor for its knobs (declared here,
 * turned by ops there), serves `POST /checkout` behind the limiter, sends itself load and
 * exports its metrics over OTLP.
 */
export async function startDemo(o: DemoOptions): Promise<Demo> {
  const deploy = await recordDeploy({
    url: o.governorUrl,
    token: o.token,
    service: o.service,
    version: o.version,
    environment: o.environment,
    actor: o.actor,
    description: 'demo app started',
  })
  const governor = connect({
    url: o.governorUrl,
    service: o.service,
    ...(o.token === undefined ? {} : { token: o.token }),
  })
  const knobs = {
    workers: governor.knob('workers', {
      type: 'int',
      default: 16,
      min: 1,
      max: 256,
      unit: '{request}',
      description: 'requests handled at once',
    }),
    errorPercent: governor.knob('error_percent', {
      type: 'float',
      default: 1,
      min: 0,
      max: 100,
      unit: '%',
      description: 'share of requests that fail (chaos)',
    }),
    extraLatencyMillis: governor.knob('extra_latency_ms', {
      type: 'int',
      default: 0,
      min: 0,
      max: 5000,
      unit: 'ms',
      description: 'latency added to every request (chaos)',
    }),
  }
  await governor.ready()
  const telemetry = startTelemetry({
    url: o.governorUrl,
    token: o.token,
    service: o.service,
    version: o.version,
    environment: o.environment,
    exportIntervalMillis: o.exportIntervalMillis,
  })
  const shop = new Shop(knobs)
  const server = Fastify()
  // The limiter in front of the routes: a request over the limit is answered 503 with a
  // Retry-After from how overloaded the limiter is; its limit, in-flight and peak reach
  // Governor as OTel metrics named after the `workers` knob.
  await server.register(throttlePlugin, {
    limiter: shop.limiter,
    meter: telemetry.provider.getMeter('@governor/throttle'),
  })
  server.addHook('onResponse', async (req, reply) => {
    telemetry.requestDuration.record(reply.elapsedTime / 1000, {
      'http.request.method': req.method,
      'http.route': req.routeOptions.url ?? 'unmatched',
      'http.response.status_code': reply.statusCode,
    })
  })
  server.post('/checkout', async (_req, reply) => reply.code(await shop.checkout()).send())
  server.get('/healthz', { config: { throttle: { bypass: true } } }, async () => 'ok')
  await server.listen({ port: o.port, host: '0.0.0.0' })
  const url = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}/checkout`
  // Load: a few requests every 100 ms over HTTP, from a caller as an app's would be: client-side
  // throttling and a retry budget (throttledFetch), so a shedding shop does not get a retry storm.
  const call = throttledFetch()
  const perTick = o.loadPerSecond / 10
  let owed = 0
  let n = 0
  let stopping = false
  const send = () => {
    const key = `demo-${++n}`
    call(url, { method: 'POST', headers: { 'idempotency-key': key } }).then(
      (res) => res.body?.cancel(),
      (err: unknown) => {
        // Rejected locally: expected while the shop sheds. Calls cut short by stop(): expected too.
        if (!isThrottleError(err) && !stopping) console.error(`demo-app: ${(err as Error).message}`)
      },
    )
  }
  const load =
    o.loadPerSecond > 0
      ? setInterval(() => {
          owed += perTick
          for (; owed >= 1; owed--) send()
        }, 100)
      : undefined
  return {
    deploy,
    governor,
    shop,
    telemetry,
    server,
    async stop() {
      stopping = true
      if (load !== undefined) clearInterval(load)
      shop.close()
      await server.close()
      await telemetry.provider.shutdown()
      await governor.close()
    },
  }
}
