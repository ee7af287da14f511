import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { GovernorError } from '../errors.ts'
import type { Settings } from '../settings.ts'
import { ROLES, type Role } from './roles.ts'

/** A configured token. Only its SHA-256 is kept: the token itself is never stored or printed. */
export interface TokenEntry {
  name: string
  roles: Role[]
  /** The services of `ingest@<service>` roles; absent for a plain `ingest` (every service). */
  services?: string[]
  /** SHA-256 of the token, compared in constant time (see TokenVerifier). */
  hash: Buffer
}

/** Shortest token accepted: shorter ones can be guessed. */
export const MIN_TOKEN_CHARS = 16
const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/
/** The knob service's rule for service names (see knobs/knob-service.ts). */
const SERVICE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/
/**
 * A word is printed in an error only when it cannot be a token: shorter than the shortest
 * token (a token written in the wrong place, as in a reversed entry, is at least that long).
 * An unknown role is printed only when it also looks like a misspelt word.
 */
const PRINTABLE_ROLE = /^[A-Za-z_-]{1,15}$/
const printableName = (name: string): boolean => NAME.test(name) && name.length < MIN_TOKEN_CHARS

interface Parsed {
  /** Where the entry is, for messages: `GOVERNOR_TOKENS entry 2 ("ci")`, `GOVERNOR_TOKENS_FILE="…" line 7 ([24 chars]=ingest:[2 chars])`. */
  where: string
  name: string | undefined
  roles: Role[]
  services: string[] | undefined
  hash: Buffer
}

/**
 * Reads the tokens of GOVERNOR_TOKENS (comma-separated) and GOVERNOR_TOKENS_FILE (one a line,
 * blank lines and `#` comments allowed). Each entry is `name=role+role:token`; without a name
 * (`role:token`) it is named `<first role>-<n>`; `ingest@<service>` scopes an ingest role to a
 * service. Throws GOV_ERR_SETTINGS_INVALID naming every bad entry by its position and its name
 * or a masked form of it; no message ever contains a token, wherever in the entry it was put.
 */
export function loadTokens(
  settings: Pick<Settings, 'tokens' | 'tokensFile'>,
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): TokenEntry[] {
  const problems: string[] = []
  const parsed: Parsed[] = []
  if (settings.tokens.trim() !== '') {
    settings.tokens.split(',').forEach((entry, i) => {
      if (entry.trim() !== '') parseEntry(entry.trim(), `GOVERNOR_TOKENS entry ${i + 1}`, parsed, problems)
    })
  }
  if (settings.tokensFile !== '') {
    const source = `GOVERNOR_TOKENS_FILE=${JSON.stringify(settings.tokensFile)}`
    let text: string
    try {
      text = readFile(settings.tokensFile)
    } catch (err) {
      throw new GovernorError(
        'GOV_ERR_SETTINGS_INVALID',
        `${source}: cannot read the file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      )
    }
    text.split(/\r?\n/).forEach((line, i) => {
      const entry = line.trim()
      if (entry !== '' && !entry.startsWith('#')) parseEntry(entry, `${source} line ${i + 1}`, parsed, problems)
    })
  }
  const entries = nameAndCheck(parsed, problems)
  if (problems.length > 0) {
    throw new GovernorError(
      'GOV_ERR_SETTINGS_INVALID',
      `${problems.join('; ')} (entries are name=role+role:token, roles: ${ROLES.join(', ')}, or ingest@<service>)`,
    )
  }
  return entries
}

/** SHA-256 of a token, the only form in which tokens are kept. */
export function tokenHash(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest()
}

/**
 *   ci=deploy+read:3f9a…               name "ci", roles deploy and read
 *   ingest:8c1d…                       no name: "ingest-<n>"
 *   app=ingest@checkout+ingest@cart:…  ingest scoped to services checkout and cart
 * The first ':' ends the roles (a token may hold ':' and '='); a '=' before it ends the name.
 *
 * A problem names the entry by its position and its name, or, when the name may be a token
 * put in the wrong place, by a masked form of the entry: `[24 chars]=ingest:[2 chars]`.
 */
function parseEntry(entry: string, position: string, out: Parsed[], problems: string[]): void {
  const colon = entry.indexOf(':')
  if (colon < 0) {
    problems.push(`${position} (${masked(entry.length)}): expected name=role+role:token or role:token`)
    return
  }
  const head = entry.slice(0, colon)
  const token = entry.slice(colon + 1).trim()
  const eq = head.indexOf('=')
  const name = eq < 0 ? undefined : head.slice(0, eq).trim()
  const rawRoles = (eq < 0 ? head : head.slice(eq + 1)).split('+').map((r) => r.trim())
  const where =
    name !== undefined && printableName(name)
      ? `${position} ("${name}")`
      : `${position} (${maskedEntry(name, rawRoles, token)})`
  const own: string[] = []
  if (name !== undefined && !NAME.test(name))
    own.push(`the name must be 1 to 64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit`)
  const roles: Role[] = []
  const services: string[] = []
  let everyService = false
  for (const raw of rawRoles) {
    if (raw === '') continue
    const at = raw.indexOf('@')
    const word = at < 0 ? raw : raw.slice(0, at)
    if (!ROLES.includes(word as Role)) {
      own.push(PRINTABLE_ROLE.test(word) ? `unknown role ${JSON.stringify(word)}` : 'an unknown role')
      continue
    }
    if (at >= 0) {
      const service = raw.slice(at + 1)
      if (word !== 'ingest') {
        own.push(`only ingest can be scoped to services, not ${word}`)
        continue
      }
      if (!SERVICE.test(service)) {
        own.push(`ingest@ must be followed by a service name: letters, digits, '.', '_' and '-' (at most 128)`)
        continue
      }
      if (!services.includes(service)) services.push(service)
    } else if (word === 'ingest') everyService = true
    if (!roles.includes(word as Role)) roles.push(word as Role)
  }
  if (everyService && services.length > 0)
    own.push('ingest and ingest@<service> together: plain ingest already covers every service, keep one')
  if (roles.length === 0 && own.length === 0) own.push('no role')
  if (token === '') own.push('the token is empty')
  else if (/\s/.test(token)) own.push('the token contains whitespace')
  else if (token.length < MIN_TOKEN_CHARS) {
    const reversed = [name ?? '', ...rawRoles].some((w) => w.length >= MIN_TOKEN_CHARS)
    own.push(
      `the token is shorter than ${MIN_TOKEN_CHARS} characters${reversed ? ' (is the entry reversed? the token comes last: name=role+role:token)' : ''}`,
    )
  }
  if (own.length > 0) problems.push(`${where}: ${own.join(', ')}`)
  else out.push({ where, name, roles, services: services.length > 0 ? services : undefined, hash: tokenHash(token) })
}

/** `[24 chars]`: a word that is not printed, with its length only. */
function masked(length: number): string {
  return `[${length} char${length === 1 ? '' : 's'}]`
}

/** The entry with every word that may be a token masked: known roles are kept, the token never. */
function maskedEntry(name: string | undefined, rawRoles: string[], token: string): string {
  const role = (r: string): string => {
    const at = r.indexOf('@')
    const word = at < 0 ? r : r.slice(0, at)
    if (!ROLES.includes(word as Role)) return r === '' ? '' : masked(r.length)
    if (at < 0) return r
    const service = r.slice(at + 1)
    return SERVICE.test(service) && service.length < MIN_TOKEN_CHARS ? r : `${word}@${masked(service.length)}`
  }
  const head = rawRoles.map(role).join('+')
  return `${name === undefined ? '' : `${printableName(name) ? name : masked(name.length)}=`}${head}:${masked(token.length)}`
}

/** Names the unnamed entries `<first role>-<n>` and refuses duplicate names and tokens. */
function nameAndCheck(parsed: Parsed[], problems: string[]): TokenEntry[] {
  const taken = new Set(parsed.flatMap((p) => (p.name === undefined ? [] : [p.name])))
  const counters = new Map<Role, number>()
  const byName = new Map<string, Parsed>()
  const byHash = new Map<string, Parsed>()
  const entries: TokenEntry[] = []
  for (const p of parsed) {
    let name = p.name
    if (name === undefined) {
      const first = p.roles[0]!
      let n = counters.get(first) ?? 0
      do n++
      while (taken.has(`${first}-${n}`))
      counters.set(first, n)
      name = `${first}-${n}`
    }
    const sameName = p.name === undefined ? undefined : byName.get(name)
    const sameToken = byHash.get(p.hash.toString('hex'))
    if (sameName !== undefined) problems.push(`${p.where}: the name is already used by ${sameName.where}`)
    else if (sameToken !== undefined)
      problems.push(
        `${p.where}: the same token as ${sameToken.where} (each token must be unique, so that it names one actor)`,
      )
    else
      entries.push({
        name,
        roles: p.roles,
        ...(p.services !== undefined ? { services: p.services } : {}),
        hash: p.hash,
      })
    if (sameName === undefined) byName.set(name, p)
    if (sameToken === undefined) byHash.set(p.hash.toString('hex'), p)
  }
  return entries
}
