import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { AccessControl } from '../auth/access-control.ts'
import { GovernorError } from '../errors.ts'
import type { Settings } from '../settings.ts'

/** The receivers: apps and Prometheus send often, so they get the higher limit. */
export const INGEST_ROUTES: ReadonlySet<string> = new Set(['/v1/metrics', '/v1/traces', '/v1/logs', '/api/v1/write'])

const WINDOW_MILLIS = 60_000

/**
 * Request rate limits on every route, per token and per minute (fixed windows), in two
 * classes: the receivers (GOVERNOR_RATE_LIMIT_INGEST_PER_MINUTE) and everything else
 * (GOVERNOR_RATE_LIMIT_API_PER_MINUTE). A request without a valid token counts against its
 * address, so a flood of bad tokens is limited too.
 *
 * The limiter runs as an `onRequest` hook added before the access check (install this
 * first): a refused request costs a map lookup, before a token is checked or a body read.
 * Past the limit the request is refused with 429 GOV_ERR_RATE_LIMITED and Retry-After (the
 * seconds left in the window), thrown so that each route answers in its own error shape.
 * Counters live in an LRU of at most `cache` keys, so memory stays bounded.
 */
export async function installRateLimits(
  app: FastifyInstance,
  settings: Pick<Settings, 'rateLimitIngestPerMinute' | 'rateLimitApiPerMinute'>,
  access: AccessControl,
): Promise<void> {
  const limitOf = (req: FastifyRequest): number =>
    INGEST_ROUTES.has(req.routeOptions.url ?? '') ? settings.rateLimitIngestPerMinute : settings.rateLimitApiPerMinute
  const classOf = (req: FastifyRequest): string => (INGEST_ROUTES.has(req.routeOptions.url ?? '') ? 'ingest' : 'api')
  const whoOf = (req: FastifyRequest): string => {
    const principal = access.principalOf(req.headers.authorization)
    return principal !== undefined ? `token "${principal.name}"` : `address ${req.ip}`
  }
  await app.register(rateLimit, {
    global: false,
    timeWindow: WINDOW_MILLIS,
    cache: 10_000,
    max: (req) => limitOf(req),
    // 0 turns a class off.
    allowList: (req) => limitOf(req) === 0,
    keyGenerator: (req) => `${classOf(req)} ${whoOf(req)}`,
    errorResponseBuilder: (req, ctx) => {
      const setting =
        classOf(req) === 'ingest' ? 'GOVERNOR_RATE_LIMIT_INGEST_PER_MINUTE' : 'GOVERNOR_RATE_LIMIT_API_PER_MINUTE'
      return new GovernorError(
        'GOV_ERR_RATE_LIMITED',
        `more than ${ctx.max} requests a minute from ${whoOf(req)} (${setting}): retry after ${Math.ceil(ctx.ttl / 1000)} s`,
      )
    },
  })
  app.addHook('onRequest', app.rateLimit())
}
