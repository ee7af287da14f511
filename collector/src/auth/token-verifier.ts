import { timingSafeEqual } from 'node:crypto'
import { rolesLabel, type Principal } from './roles.ts'
import { tokenHash, type TokenEntry } from './tokens.ts'

/**
 * Checks bearer tokens against the configured ones in constant time: the presented token is
 * hashed with SHA-256 (so every comparison is of 32 bytes, whatever its length) and compared
 * with `timingSafeEqual` against every configured hash, without stopping at a match, so the
 * time taken says neither how much of a token was right nor which token matched.
 */
export class TokenVerifier {
  readonly #entries: readonly TokenEntry[]

  constructor(entries: readonly TokenEntry[]) {
    this.#entries = entries
  }

  /** False when no token is configured: Governor runs open (loopback only). */
  get enabled(): boolean {
    return this.#entries.length > 0
  }

  /** Names and roles of the configured tokens, for the start-up log line. */
  describe(): string {
    return this.#entries.map((e) => `${e.name} (${rolesLabel(e)})`).join(', ')
  }

  /** The principal of a token, or undefined when it is none of the configured ones. */
  verify(token: string): Principal | undefined {
    const presented = tokenHash(token)
    let match: TokenEntry | undefined
    for (const entry of this.#entries) {
      // No early exit: every hash is compared, whichever matches.
      if (timingSafeEqual(presented, entry.hash)) match = entry
    }
    if (match === undefined) return undefined
    return match.services === undefined
      ? { name: match.name, roles: match.roles }
      : { name: match.name, roles: match.roles, services: match.services }
  }
}

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive), else undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined
  const m = /^Bearer +(\S+) *$/i.exec(header)
  return m?.[1]
}
