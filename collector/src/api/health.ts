import type { FastifyInstance } from 'fastify'

/** Liveness, readiness and the collector's own metrics. */
export async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }))

  // Ready when the store answers and the pipeline has room.
  app.get('/readyz', async (_req, reply) => {
    const { store, pipeline } = app.governor
    const storeUp = await store.ping()
    const ready = storeUp && pipeline.fill < 1
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', store: storeUp ? 'up' : 'down', pipelineFill: pipeline.fill })
  })

  app.get('/metrics', async (_req, reply) => {
    const { registry } = app.governor.metrics
    return reply.type(registry.contentType).send(await registry.metrics())
  })
}
