import type { FastifyInstance } from 'fastify'
import { serviceRoutes } from '../api/services.ts'
import { whoamiRoutes } from '../api/whoami.ts'
import { uiRoutes } from './ui-routes.ts'

export { buildUiBundle, type UiAsset, type UiBundle } from './ui-bundle.ts'

/**
 * The web UI and the API calls made for it:
 *
 *   GET /                        the page (open)
 *   GET /ui/<hashed name>        its script and stylesheet (open)
 *   GET /api/v1/services[/{s}]   services at a glance (read)
 *   GET /api/v1/whoami           the caller's roles (any token)
 */
export async function webUi(app: FastifyInstance): Promise<void> {
  await app.register(uiRoutes)
  await app.register(serviceRoutes, { prefix: '/api/v1' })
  await app.register(whoamiRoutes, { prefix: '/api/v1' })
}
