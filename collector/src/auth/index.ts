export {
  AccessControl,
  isLoopback,
  isLoopbackHost,
  redactUrl,
  type DeclaredRoute,
  type LoggedRequest,
} from './access-control.ts'
export { actorWithToken } from './actor.ts'
export { ROLES, grantedRoles, rolesLabel, type Principal, type Role, type RouteAccess } from './roles.ts'
export { checkDeclareScope, checkReadScope, readableServices } from './service-scope.ts'
export { bearerToken, TokenVerifier } from './token-verifier.ts'
export { loadTokens, MIN_TOKEN_CHARS, tokenHash, type TokenEntry } from './tokens.ts'
