import type { FastifyInstance } from 'fastify'
import type { Settings } from '../settings.ts'

/**
 * Every route gets a body limit: the receivers declare theirs (GOVERNOR_MAX_BODY_BYTES, large
 * batches of points); every other route, which takes small JSON documents, gets
 * GOVERNOR_MAX_API_BODY_BYTES. Install before any route is registered.
 */
export function installBodyLimits(app: FastifyInstance, settings: Pick<Settings, 'maxApiBodyBytes'>): void {
  app.addHook('onRoute', (route) => {
    route.bodyLimit ??= settings.maxApiBodyBytes
  })
}
