import { BlockList, isIPv4 } from 'node:net'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { GovernorError } from '../errors.ts'
import { grantedRoles, isRouteAccess, ROLES, rolesLabel, type Principal, type RouteAccess } from './roles.ts'
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

/** What the log's request serializer is given: a fastify request (typed as the raw one). */
export interface LoggedRequest {
  method?: string
  url?: string
  headers?: Record<string, string | string[] | undefined>
  host?: string
  ip?: string
  socket?: { remotePort?: number } | null
}

/** A route as registered, with its declared access. */
export interface DeclaredRoute {
  method: string
  url: string
  roles: RouteAccess
}

const REALM = 'Bearer realm="governor"'

/**
 * Access control by bearer tokens, one `onRequest` hook driven by each route's
 * `config: { roles }`. A route that declares nothing cannot be registered, so none ships
 * open by mistake. Without tokens (open mode, loopback only) every request addressed to a
 * loopback name passes.
 *
 *   a token in the query string          400 GOV_ERR_AUTH_TOKEN_IN_URL (open mode too)
 *   open mode, Host not a loopback name  403 GOV_ERR_AUTH_HOST (DNS rebinding)
 *   no token, or not a configured one    401 GOV_ERR_AUTH_MISSING + WWW-Authenticate
 *   token without a role the route needs 403 GOV_ERR_AUTH_FORBIDDEN
 *   otherwise                            req.principal = the token's name, roles, services
 *
 * Errors are thrown, so each route answers them in its usual shape (its error handler).
 */
export class AccessControl {
  readonly #verifier: TokenVerifier
  readonly #routes: DeclaredRoute[] = []
  /** Whether a query parameter's name or value is a token: a known name, or a configured token. */
  readonly #isToken = (name: string, value: string): boolean =>
    TOKEN_PARAM.test(name) ||
    (this.#verifier.enabled &&
      (this.#verifier.verify(value) !== undefined || this.#verifier.verify(name) !== undefined))

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
    throw new GovernorError(
      'GOV_ERR_SETTINGS_INVALID',
      `refusing to listen on ${host} without tokens: set GOVERNOR_TOKENS=name=role+role:token (roles: ${ROLES.join(', ')}) or GOVERNOR_TOKENS_FILE, or bind to 127.0.0.1 (GOVERNOR_HOST)`,
    )
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
    if (this.open)
      log.warn(
        `no tokens configured: open mode, anyone who can reach ${host} may send, read and change everything (for local use); set GOVERNOR_TOKENS or GOVERNOR_TOKENS_FILE to require bearer tokens`,
      )
    else log.info(`bearer tokens required; tokens: ${this.#verifier.describe()}`)
  }

  /** Installs the hooks on the root instance; call it before any route is registered. */
  install(app: FastifyInstance): void {
    app.decorateRequest('principal', null)
    app.addHook('onRoute', (route) => {
      const methods = [route.method].flat()
      const roles = route.config?.roles
      if (!isRouteAccess(roles)) {
        throw new Error(
          `route ${methods.join(',')} ${route.url} declares no access: give it config: { roles: [...] } with roles from ${ROLES.join(', ')}, or 'open'`,
        )
      }
      for (const method of methods) this.#routes.push({ method, url: route.url, roles })
    })
    app.addHook('onRequest', async (req, reply) => this.#check(req, reply))
  }

  /**
   * The request as the log shows it: fastify's fields, with the query parameters that carry a
   * token replaced by `[redacted]` (a refused request is still logged as it came in).
   */
  logRequest(req: LoggedRequest): {
    method?: string
    url?: string
    version?: string
    host?: string
    remoteAddress?: string
    remotePort?: number
  } {
    const version = req.headers?.['accept-version']
    return {
      method: req.method,
      url: req.url === undefined ? undefined : redactUrl(req.url, this.#isToken),
      version: typeof version === 'string' ? version : undefined,
      host: req.host,
      remoteAddress: req.ip,
      remotePort: req.socket?.remotePort,
    }
  }

  #check(req: FastifyRequest, reply: FastifyReply): void {
    // Before anything else, 404s included: a URL is logged and kept by proxies and browsers.
    const query = req.url.indexOf('?')
    if (query >= 0) this.#checkQuery(req.url.slice(query + 1))
    if (this.open) return this.#checkHost(req.headers.host)
    if (req.is404) return // an unknown path answers 404 whoever asks
    const access = req.routeOptions.config.roles
    if (access === 'open') return
    const route = `${req.method} ${req.routeOptions.url ?? req.url.split('?', 1)[0]}`
    // Unreachable while onRoute refuses undeclared routes; closed, should that ever change.
    if (access === undefined)
      throw new GovernorError('GOV_ERR_AUTH_FORBIDDEN', `${route} declares no roles: no token may call it`)
    const needs = access.join(' or ')
    const token = bearerToken(req.headers.authorization)
    const principal = token === undefined ? undefined : this.#verifier.verify(token)
    if (principal === undefined) {
      reply.header('www-authenticate', token === undefined ? REALM : `${REALM}, error="invalid_token"`)
      throw new GovernorError(
        'GOV_ERR_AUTH_MISSING',
        token === undefined
          ? `${route} needs a token with the ${needs} role: send Authorization: Bearer <token>`
          : 'the bearer token is not valid: it is none of the tokens of GOVERNOR_TOKENS or GOVERNOR_TOKENS_FILE',
      )
    }
    const granted = grantedRoles(principal.roles)
    if (!access.some((r) => granted.has(r))) {
      throw new GovernorError(
        'GOV_ERR_AUTH_FORBIDDEN',
        `token "${principal.name}" (${rolesLabel(principal)}) may not ${route}: that needs the ${needs} role`,
      )
    }
    req.principal = principal
  }

  /** Refuses a query string that carries a token (see `TOKEN_PARAM`), naming no token. */
  #checkQuery(query: string): void {
    for (const [name, value] of queryPairs(query)) {
      if (!this.#isToken(name, value)) continue
      const which = TOKEN_PARAM.test(name) ? `the query parameter ${JSON.stringify(name)}` : 'a query parameter'
      throw new GovernorError(
        'GOV_ERR_AUTH_TOKEN_IN_URL',
        `a token in the URL is refused (${which}): URLs are kept in logs, proxies and browser history; send it in the header Authorization: Bearer <token>, and replace that token, it may have been seen`,
      )
    }
  }

  /**
   * Open mode answers only requests addressed to a loopback name: a web page that points a name
   * of its own at 127.0.0.1 (DNS rebinding) sends its Host, and is refused. A request without a
   * Host (HTTP/1.0) comes from no browser.
   */
  #checkHost(host: string | undefined): void {
    if (host === undefined || isLoopbackHost(host)) return
    throw new GovernorError(
      'GOV_ERR_AUTH_HOST',
      `Host ${JSON.stringify(host.slice(0, 100))} is not a loopback name: without tokens (open mode) Governor answers only requests addressed to localhost, *.localhost, 127.0.0.0/8 or [::1], so that no web page can reach it through DNS rebinding; use such an address, or set GOVERNOR_TOKENS or GOVERNOR_TOKENS_FILE to serve any Host`,
    )
  }
}

/** Names of query parameters that carry tokens (RFC 6750 `access_token`, and the usual others). */
const TOKEN_PARAM = /^(access[_-]?token|token|bearer|auth|authorization|api[_-]?key|apikey|secret|password)$/i

/** The pairs of a query string, decoded. */
function queryPairs(query: string): [string, string][] {
  return query
    .split('&')
    .filter((p) => p !== '')
    .map(pairOf)
}

/** `name=value`, decoded (what does not decode is taken as it is). */
function pairOf(piece: string): [string, string] {
  const eq = piece.indexOf('=')
  return [decode(eq < 0 ? piece : piece.slice(0, eq)), decode(eq < 0 ? '' : piece.slice(eq + 1))]
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '))
  } catch {
    return s
  }
}

/** `url` with the value of every query parameter that `isToken` names replaced by `[redacted]`. */
export function redactUrl(url: string, isToken: (name: string, value: string) => boolean): string {
  const q = url.indexOf('?')
  if (q < 0) return url
  const pieces = url
    .slice(q + 1)
    .split('&')
    .map((piece) => {
      const [name, value] = pairOf(piece)
      if (piece === '' || !isToken(name, value)) return piece
      const eq = piece.indexOf('=')
      return eq < 0 || !TOKEN_PARAM.test(name) ? '[redacted]' : `${piece.slice(0, eq)}=[redacted]`
    })
  return `${url.slice(0, q)}?${pieces.join('&')}`
}

/**
 * Whether a Host header names a loopback host: localhost or a name under .localhost (browsers
 * resolve them to loopback themselves), an address of 127.0.0.0/8, or [::1]; any port.
 */
export function isLoopbackHost(header: string): boolean {
  const h = header.trim().toLowerCase()
  if (h.startsWith('[')) {
    const end = h.indexOf(']')
    return end > 0 && /^(:\d{1,5})?$/.test(h.slice(end + 1)) && isLoopback(h.slice(1, end))
  }
  const name = /^([^:]+)(?::\d{1,5})?$/.exec(h)?.[1]
  if (name === undefined) return false
  if (name === 'localhost' || /^([a-z0-9-]+\.)+localhost$/.test(name)) return true
  return isIPv4(name) && LOOPBACK.check(name, 'ipv4')
}

const LOOPBACK = new BlockList()
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4')
LOOPBACK.addAddress('::1', 'ipv6')

/** Whether `host` is a loopback address: 127.0.0.0/8, ::1 (any spelling) or localhost. */
export function isLoopback(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
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
