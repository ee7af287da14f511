import type { FastifyInstance } from 'fastify'
import { READ } from '../auth/roles.ts'

/** Liveness and readiness (open: load balancers call them), and the collector's own metrics. */
export async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get('/healthz', { config: { roles: 'open' } }, async () => ({ status: 'ok' }))

  // Ready when the store answers and the pipeline has room.
  app.get('/readyz', { config: { roles: 'open' } }, async (_req, reply) => {
    const { store, pipeline } = app.governor
    const storeUp = await store.ping()
    const ready = storeUp && pipeline.fill < 1
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', store: storeUp ? 'up' : 'down', pipelineFill: pipeline.fill })
  })

  // Prometheus scrapes it with a read token (scrape config `authorization: { credentials }`).
  app.get('/metrics', { config: { roles: READ } }, async (_req, reply) => {
    const { registry } = app.governor.metrics
    return reply.type(registry.contentType).send(await registry.metrics())
  })
}
