import type { FastifyInstance } from 'fastify'
import { grantedRoles, ROLES, type RouteAccess } from '../auth/roles.ts'
import { WHOAMI_JSON_SCHEMA, type WhoamiJson } from './wire/whoami.ts'

/** Any valid token may ask who it is, whatever its roles. */
const ANY_TOKEN: RouteAccess = ROLES

/**
 * `GET /api/v1/whoami`: the caller's token name and the roles it is granted (a `deploy` or
 * `operate` token reads too), so that a client (the web UI) shows only what the caller may do.
 *
 *   open mode    {"open": true,  "name": null,  "roles": ["ingest", "deploy", "operate", "read"]}
 *   with token   {"open": false, "name": "ops", "roles": ["operate", "read"]}
 *   scoped       {"open": false, "name": "app", "roles": ["ingest"], "services": ["checkout"]}
 *
 * Without a valid token it is refused with 401 like every other route.
 */
export async function whoamiRoutes(app: FastifyInstance): Promise<void> {
  const schema = { response: { 200: WHOAMI_JSON_SCHEMA } }
  app.get('/whoami', { config: { roles: ANY_TOKEN }, schema }, async (req): Promise<WhoamiJson> => {
    const principal = req.principal
    if (principal === null) return { open: true, name: null, roles: [...ROLES] }
    const granted = grantedRoles(principal.roles)
    const roles = ROLES.filter((r) => granted.has(r))
    // An ingest@<service> token: the services whose knobs it declares (see auth/service-scope.ts).
    return principal.services === undefined
      ? { open: false, name: principal.name, roles }
      : { open: false, name: principal.name, roles, services: [...principal.services] }
  })
}
