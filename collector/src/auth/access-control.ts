import { BlockList, isIPv4 } from 'node:net'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { GovernorError } from '../errors.ts'
import { grantedRoles, isRouteAccess, ROLES, type Principal, type RouteAccess } from './roles.ts'
import { bearerToken, type TokenVerifier } from './token-verifier.ts'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route; every route declares it (see AccessControl). */
    roles?: RouteAccess
    /**
     * The route reads stored points: it waits until every point acknowledged before the
     * request is committed (see WritePipeline.sync), so a reader sees what was written.
     */
    readsPoints?: boolean
  }
  interface FastifyRequest {
    /** The token the request came with; null in open mode and on open routes. */
    principal: Principal | null
  }
}

/** A route as registered, with its declared access. */
export interface DeclaredRoute { method: string; url: string; roles: RouteAccess }

const REALM = 'Bearer realm="governor"'

/**
 * Access control by bearer tokens, one `onRequest` hook driven by each route's
 * `config: { roles }`. A route that declares nothing cannot be registered, so none ships
 * open by mistake. Without tokens (open mode, loopback only) every request passes.
 *
 *   no token, or not a configured one   401 GOV_ERR_AUTH_MISSING + WWW-Authenticate
 *   token without a role the route needs 403 GOV_ERR_AUTH_FORBIDDEN
 *   otherwise                            req.principal = the token's name and roles
 *
 * Errors are thrown, so each route answers them in its usual shape (its error handler).
 */
export class AccessControl {
  readonly #verifier: TokenVerifier
  readonly #routes: DeclaredRoute[] = []

  constructor(verifier: TokenVerifier) {
    this.#verifier = verifier
  }

  /** True when no token is configured: every request passes. */
  get open(): boolean {
    return !this.#verifier.enabled
  }

  /** Every route registered since `install`, with the access it declares. */
  get routes(): readonly DeclaredRoute[] {
    return this.#routes
  }

  /**
   * Refuses to serve a non-loopback address without tokens: the first thing anyone on the
   * network could do is change knobs. Called before anything is opened or bound.
   */
  checkExposure(host: string): void {
    if (this.#verifier.enabled || isLoopback(host)) return
    throw new GovernorError('GOV_ERR_SETTINGS_INVALID', `refusing to listen on ${host} without tokens: set GOVERNOR_TOKENS=name=role+role:token (roles: ${ROLES.join(', ')}) or GOVERNOR_TOKENS_FILE, or bind to 127.0.0.1 (GOVERNOR_HOST)`)
  }

  /**
   * The principal of an `Authorization` header, or undefined without a valid token: what the
   * rate limiter keys requests by before the access check runs.
   */
  principalOf(authorization: string | undefined): Principal | undefined {
    const token = bearerToken(authorization)
    return token === undefined || this.open ? undefined : this.#verifier.verify(token)
  }

  /** The one start-up line that says how the collector is protected. */
  logStartup(log: FastifyInstance['log'], host: string): void {
    if (this.open) log.warn(`no tokens configured: open mode, anyone who can reach ${host} may send, read and change everything (for local use); set GOVERNOR_TOKENS or GOVERNOR_TOKENS_FILE to require bearer tokens`)
    else log.info(`bearer tokens required; tokens: ${this.#verifier.describe()}`)
  }

  /** Installs the hooks on the root instance; call it before any route is registered. */
  install(app: FastifyInstance): void {
    app.decorateRequest('principal', null)
    app.addHook('onRoute', (route) => {
      const methods = [route.method].flat()
      const roles = route.config?.roles
      if (!isRouteAccess(roles)) {
        throw new Error(`route ${methods.join(',')} ${route.url} declares no access: give it config: { roles: [...] } with roles from ${ROLES.join(', ')}, or 'open'`)
      }
      for (const method of methods) this.#routes.push({ method, url: route.url, roles })
    })
    app.addHook('onRequest', async (req, reply) => this.#check(req, reply))
  }

  #check(req: FastifyRequest, reply: FastifyReply): void {
    if (req.is404 || this.open) return // an unknown path answers 404 whoever asks
    const access = req.routeOptions.config.roles
    if (access === 'open') return
    const route = `${req.method} ${req.routeOptions.url ?? req.url.split('?', 1)[0]}`
    // Unreachable while onRoute refuses undeclared routes; closed, should that ever change.
    if (access === undefined) throw new GovernorError('GOV_ERR_AUTH_FORBIDDEN', `${route} declares no roles: no token may call it`)
    const needs = access.join(' or ')
    const token = bearerToken(req.headers.authorization)
    const principal = token === undefined ? undefined : this.#verifier.verify(token)
    if (principal === undefined) {
      reply.header('www-authenticate', token === undefined ? REALM : `${REALM}, error="invalid_token"`)
      throw new GovernorError('GOV_ERR_AUTH_MISSING', token === undefined
        ? `${route} needs a token with the ${needs} role: send Authorization: Bearer <token>`
        : 'the bearer token is not valid: it is none of the tokens of GOVERNOR_TOKENS or GOVERNOR_TOKENS_FILE')
    }
    const granted = grantedRoles(principal.roles)
    if (!access.some((r) => granted.has(r))) {
      throw new GovernorError('GOV_ERR_AUTH_FORBIDDEN', `token "${principal.name}" (${principal.roles.join('+')}) may not ${route}: that needs the ${needs} role`)
    }
    req.principal = principal
  }
}

const LOOPBACK = new BlockList()
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4')
LOOPBACK.addAddress('::1', 'ipv6')

/** Whether `host` is a loopback address: 127.0.0.0/8, ::1 (any spelling) or localhost. */
export function isLoopback(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1')
  if (h === 'localhost') return true
  if (isIPv4(h)) return LOOPBACK.check(h, 'ipv4')
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h)?.[1]
  if (mapped !== undefined) return LOOPBACK.check(mapped, 'ipv4')
  try {
    return LOOPBACK.check(h, 'ipv6')
  } catch {
    return false // a host name other than localhost, or not an address
  }
}
