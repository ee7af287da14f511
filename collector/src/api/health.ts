import type { FastifyInstance, FastifyReply } from 'fastify'
import { Counter } from 'prom-client'
import { READ } from '../auth/roles.ts'
import { sendExposition } from './metrics-exposition.ts'
import { HEALTH_JSON_SCHEMA, READINESS_JSON_SCHEMA, type ReadinessJson } from './wire/health.ts'

/**
 * How long a failed write keeps the collector not ready when no write has been tried since.
 * A store that refuses writes still answers pings, so readiness follows the last write; but
 * an instance that a load balancer took out of rotation gets no writes to prove the store
 * back, so after this long it reads ready again and the next write decides (half-open).
 */
export const WRITE_FAILURE_HOLD_MILLIS = 10_000

/** How often the store is pinged in the background for readiness. */
export const STORE_PING_INTERVAL_MILLIS = 1_000

/** A ping not answered within this long counts as the store down. */
export const STORE_PING_TIMEOUT_MILLIS = 5_000

declare module 'fastify' {
  interface FastifyInstance {
    /** Whether the store answered its last background ping (health.ts). */
    storePing: StorePing
  }
}

/**
 * The store's liveness as readiness reads it: pinged in the background, every
 * STORE_PING_INTERVAL_MILLIS, so that /readyz reads a field instead of waiting for the store
 * (under load the engine answers a ping only after the commit in progress, seconds later).
 * Never throws; a ping that takes longer than the timeout counts as down; runs do not overlap.
 */
export class StorePing {
  readonly #ping: () => Promise<boolean>
  readonly #onFailure: () => void
  #up = true
  #timer: NodeJS.Timeout | undefined
  #running: Promise<void> | undefined
  #stopped = false

  constructor(ping: () => Promise<boolean>, onFailure: () => void = () => {}) {
    this.#ping = ping
    this.#onFailure = onFailure
  }

  /** The store answered its last ping in time. */
  get up(): boolean {
    return this.#up
  }

  /** Pings once now (resolves when known), then every STORE_PING_INTERVAL_MILLIS until `stop`. */
  async start(): Promise<void> {
    await this.#run()
    if (this.#stopped) return
    this.#timer = setInterval(() => {
      if (this.#running === undefined) void this.#run()
    }, STORE_PING_INTERVAL_MILLIS).unref()
  }

  /** Stops pinging; resolves once a ping in progress has ended (within its timeout). */
  async stop(): Promise<void> {
    this.#stopped = true
    clearInterval(this.#timer)
    await this.#running
  }

  #run(): Promise<void> {
    let timeout: NodeJS.Timeout | undefined
    const late = new Promise<boolean>((resolve) => {
      timeout = setTimeout(() => resolve(false), STORE_PING_TIMEOUT_MILLIS).unref()
    })
    this.#running = Promise.race([this.#ping().catch(() => false), late]).then((up) => {
      clearTimeout(timeout)
      this.#up = up
      if (!up) this.#onFailure()
      this.#running = undefined
    })
    return this.#running
  }
}

/** Readiness from what is in memory: the last ping, the last write, the pipeline's fill. */
function answerReadiness(app: FastifyInstance, reply: FastifyReply): FastifyReply {
  const { store, pipeline } = app.governor
  const storeUp = app.storePing.up
  const failedAt = store.lastWriteFailure
  const refusing = failedAt !== undefined && Date.now() - failedAt < WRITE_FAILURE_HOLD_MILLIS
  const ready = storeUp && !refusing && pipeline.fill < 1
  const storeState = !storeUp ? 'down' : refusing ? 'failing writes' : 'up'
  const answer: ReadinessJson = {
    status: ready ? 'ready' : 'not ready',
    store: storeState,
    pipelineFill: pipeline.fill,
  }
  return reply.code(ready ? 200 : 503).send(answer)
}

const HEALTHZ = '/healthz'
const READYZ = '/readyz'

/**
 * Liveness and readiness answered before any other work. Install right after the security
 * headers, before the rate limits and the access check: a GET or HEAD of /healthz or /readyz
 * is answered in its first hook (no rate limit, no token, no body, not behind the ingest
 * limiter), from state in memory. Readiness pings the store in the background (StorePing),
 * started once the app is ready and stopped when it closes.
 */
export function installHealthChecks(app: FastifyInstance): void {
  let failures: Counter | undefined
  app.decorate(
    'storePing',
    new StorePing(
      () => app.governor.store.ping(),
      () => failures?.inc(),
    ),
  )
  app.addHook('onReady', async () => {
    failures = new Counter({
      name: 'governor_readiness_store_ping_failures_total',
      help: 'Background store pings of readiness that failed or timed out.',
      registers: [app.governor.metrics.registry],
    })
    await app.storePing.start()
  })
  app.addHook('preClose', async () => {
    await app.storePing.stop()
  })
  app.addHook('onRequest', (request, reply, done) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return done()
    const route = request.routeOptions.url
    if (route === HEALTHZ) return reply.send({ status: 'ok' })
    if (route === READYZ) return answerReadiness(app, reply)
    done()
  })
}

/** The routes of liveness and readiness (open: load balancers call them), and the collector's own metrics. */
export async function healthRoutes(app: FastifyInstance): Promise<void> {
  // Answered by installHealthChecks' hook first; declared here for the route table and access control.
  app.get(HEALTHZ, { config: { roles: 'open' }, schema: { response: { 200: HEALTH_JSON_SCHEMA } } }, async () => ({
    status: 'ok',
  }))
  // Ready when the store answers, its last write did not fail (lately), and the pipeline has room.
  app.get(
    READYZ,
    { config: { roles: 'open' }, schema: { response: { 200: READINESS_JSON_SCHEMA, 503: READINESS_JSON_SCHEMA } } },
    async (_req, reply) => answerReadiness(app, reply),
  )

  // Prometheus scrapes it with a read token (scrape config `authorization: { credentials }`).
  app.get('/metrics', { config: { roles: READ } }, async (req, reply) =>
    sendExposition(app.governor.metrics.registry, req, reply),
  )
}
