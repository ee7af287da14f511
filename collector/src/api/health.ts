import type { FastifyInstance } from 'fastify'
import { READ } from '../auth/roles.ts'

/**
 * How long a failed write keeps the collector not ready when no write has been tried since.
 * A store that refuses writes still answers pings, so readiness follows the last write; but
 * an instance that a load balancer took out of rotation gets no writes to prove the store
 * back, so after this long it reads ready again and the next write decides (half-open).
 */
export const WRITE_FAILURE_HOLD_MILLIS = 10_000

/** Liveness and readiness (open: load balancers call them), and the collector's own metrics. */
export async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get('/healthz', { config: { roles: 'open' } }, async () => ({ status: 'ok' }))

  // Ready when the store answers, its last write did not fail (lately), and the pipeline has room.
  app.get('/readyz', { config: { roles: 'open' } }, async (_req, reply) => {
    const { store, pipeline } = app.governor
    const storeUp = await store.ping()
    const failedAt = store.lastWriteFailure
    const refusing = failedAt !== undefined && Date.now() - failedAt < WRITE_FAILURE_HOLD_MILLIS
    const ready = storeUp && !refusing && pipeline.fill < 1
    const storeState = !storeUp ? 'down' : refusing ? 'failing writes' : 'up'
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', store: storeState, pipelineFill: pipeline.fill })
  })

  // Prometheus scrapes it with a read token (scrape config `authorization: { credentials }`).
  app.get('/metrics', { config: { roles: READ } }, async (_req, reply) => {
    const { registry } = app.governor.metrics
    return reply.type(registry.contentType).send(await registry.metrics())
  })
}
