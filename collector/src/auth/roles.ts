/**
 * What a token may do. `deploy` and `operate` tokens may also read (a CI job records a
 * deploy, then lists the last deploys); an `ingest` token reads only its knobs.
 *
 *   ingest   send metrics, declare knobs, read knobs (apps); `ingest@checkout` declares and
 *            reads the knobs of service checkout only (see service-scope.ts)
 *   deploy   record deploys and events (CI)
 *   operate  change knobs: value, mode, pin, unpin, revert, changeset revert (ops)
 *   read     every GET under /api/v1, and /metrics (developers, dashboards, Prometheus)
 */
export type Role = 'ingest' | 'deploy' | 'operate' | 'read'

export const ROLES: readonly Role[] = ['ingest', 'deploy', 'operate', 'read']

/**
 * What a route declares in its fastify config (`config: { roles: [...] }`): the roles any one
 * of which lets a token in, or `'open'` for the health checks that load balancers call.
 */
export type RouteAccess = readonly Role[] | 'open'

/** Who a request is, from its token. */
export interface Principal {
  /** The token's name: recorded as the actor of the changes made with it. */
  readonly name: string
  /** The roles the token was given. */
  readonly roles: readonly Role[]
  /**
   * The services an `ingest@<service>` token is scoped to: it declares (and, without `read`,
   * reads) knobs of these services only. Absent: every service (a plain `ingest` token).
   */
  readonly services?: readonly string[]
}

/** The roles as a token entry spells them: `ingest@checkout+ingest@billing+read`. */
export function rolesLabel(p: Pick<Principal, 'roles' | 'services'>): string {
  return p.roles
    .flatMap((r) => (r === 'ingest' && p.services !== undefined ? p.services.map((s) => `ingest@${s}`) : [r]))
    .join('+')
}

/** The roles `roles` grant: themselves, and `read` for `deploy` and `operate`. */
export function grantedRoles(roles: readonly Role[]): Set<Role> {
  const granted = new Set(roles)
  if (granted.has('deploy') || granted.has('operate')) granted.add('read')
  return granted
}

/** Whether a valid route declaration: `'open'` or a non-empty list of known roles. */
export function isRouteAccess(v: unknown): v is RouteAccess {
  return v === 'open' || (Array.isArray(v) && v.length > 0 && v.every((r) => ROLES.includes(r as Role)))
}

/** Declarations shared by many routes. */
export const READ: RouteAccess = ['read']
/** Knobs are read by the apps that declare them (ingest) as well. */
export const READ_KNOBS: RouteAccess = ['read', 'ingest']
export const INGEST: RouteAccess = ['ingest']
export const DEPLOY: RouteAccess = ['deploy']
export const OPERATE: RouteAccess = ['operate']
