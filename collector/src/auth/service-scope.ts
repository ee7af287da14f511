import { GovernorError } from '../errors.ts'
import { grantedRoles, rolesLabel, type Principal } from './roles.ts'

/**
 * Scoped ingest tokens. Every app holds an ingest token, so a plain `ingest` token lets any app
 * declare (redefine) the knobs of every service. A token entry with `ingest@checkout` (or
 * `ingest@checkout+ingest@cart`) is scoped: it declares the knobs of those services only and,
 * unless it also reads (`read`, `deploy`, `operate`), sees only their knobs.
 *
 *   principal                       declare checkout   declare cart   GET /knobs
 *   none (open mode), ingest        yes                yes            every knob
 *   ingest@checkout                 yes                403            checkout's knobs
 *   ingest@checkout+read            yes                403            every knob
 *
 * Points are not scoped: the receivers take any service.name from any ingest token.
 */
export function checkDeclareScope(principal: Principal | null, service: string): void {
  if (principal === null || principal.services === undefined || principal.services.includes(service)) return
  throw refusal(principal, 'declare', service)
}

/** The services whose knobs `principal` may read, or undefined for every service. */
export function readableServices(principal: Principal | null): readonly string[] | undefined {
  if (principal === null || principal.services === undefined || grantedRoles(principal.roles).has('read'))
    return undefined
  return principal.services
}

/** Refuses to let `principal` read the knobs of `service` when it is scoped to others. */
export function checkReadScope(principal: Principal | null, service: string): void {
  const services = readableServices(principal)
  if (services === undefined || services.includes(service)) return
  throw refusal(principal!, 'read', service)
}

function refusal(p: Principal, what: 'declare' | 'read', service: string): GovernorError {
  const own = p.services!.map((s) => JSON.stringify(s)).join(', ')
  return new GovernorError(
    'GOV_ERR_AUTH_SERVICE',
    `token "${p.name}" (${rolesLabel(p)}) may ${what} knobs of ${own} only, not of ${JSON.stringify(service.slice(0, 128))}: give the app of ${JSON.stringify(service.slice(0, 128))} a token with the role ingest@${service.slice(0, 128)}`,
  )
}
