import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { GovernorError } from '../errors.ts'
import type { Settings } from '../settings.ts'
import { ROLES, type Role } from './roles.ts'

/** A configured token. Only its SHA-256 is kept: the token itself is never stored or printed. */
export interface TokenEntry {
  name: string
  roles: Role[]
  /** SHA-256 of the token, compared in constant time (see TokenVerifier). */
  hash: Buffer
}

/** Shortest token accepted: shorter ones can be guessed. */
export const MIN_TOKEN_CHARS = 16
const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/
/** An unknown role is printed only when it looks like a misspelt word, never a piece of a token. */
const PRINTABLE_ROLE = /^[A-Za-z_-]{1,20}$/

interface Parsed {
  /** Where the entry is, for messages: `GOVERNOR_TOKENS entry 2`, `GOVERNOR_TOKENS_FILE="…" line 7`. */
  where: string
  name: string | undefined
  roles: Role[]
  hash: Buffer
}

/**
 * Reads the tokens of GOVERNOR_TOKENS (comma-separated) and GOVERNOR_TOKENS_FILE (one a line,
 * blank lines and `#` comments allowed). Each entry is `name=role+role:token`; without a name
 * (`role:token`) it is named `<first role>-<n>`. Throws GOV_ERR_SETTINGS_INVALID naming every
 * bad entry by its name or position; no message ever contains a token.
 */
export function loadTokens(settings: Pick<Settings, 'tokens' | 'tokensFile'>, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): TokenEntry[] {
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
      throw new GovernorError('GOV_ERR_SETTINGS_INVALID', `${source}: cannot read the file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    }
    text.split(/\r?\n/).forEach((line, i) => {
      const entry = line.trim()
      if (entry !== '' && !entry.startsWith('#')) parseEntry(entry, `${source} line ${i + 1}`, parsed, problems)
    })
  }
  const entries = nameAndCheck(parsed, problems)
  if (problems.length > 0) {
    throw new GovernorError('GOV_ERR_SETTINGS_INVALID', `${problems.join('; ')} (entries are name=role+role:token, roles: ${ROLES.join(', ')})`)
  }
  return entries
}

/** SHA-256 of a token, the only form in which tokens are kept. */
export function tokenHash(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest()
}

/**
 *   ci=deploy+read:3f9a…      name "ci", roles deploy and read
 *   ingest:8c1d…              no name: "ingest-<n>"
 * The first ':' ends the roles (a token may hold ':' and '='); a '=' before it ends the name.
 */
function parseEntry(entry: string, position: string, out: Parsed[], problems: string[]): void {
  const colon = entry.indexOf(':')
  if (colon < 0) {
    problems.push(`${position}: expected name=role+role:token or role:token`)
    return
  }
  const head = entry.slice(0, colon)
  const token = entry.slice(colon + 1).trim()
  const eq = head.indexOf('=')
  const name = eq < 0 ? undefined : head.slice(0, eq).trim()
  const where = name !== undefined && NAME.test(name) ? `${position} ("${name}")` : position
  const own: string[] = []
  if (name !== undefined && !NAME.test(name)) own.push(`the name must be 1 to 64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit`)
  const roles: Role[] = []
  for (const raw of (eq < 0 ? head : head.slice(eq + 1)).split('+').map((r) => r.trim())) {
    if (raw === '') continue
    if (ROLES.includes(raw as Role)) { if (!roles.includes(raw as Role)) roles.push(raw as Role) }
    else own.push(PRINTABLE_ROLE.test(raw) ? `unknown role ${JSON.stringify(raw)}` : 'an unknown role')
  }
  if (roles.length === 0 && own.length === 0) own.push('no role')
  if (token === '') own.push('the token is empty')
  else if (/\s/.test(token)) own.push('the token contains whitespace')
  else if (token.length < MIN_TOKEN_CHARS) own.push(`the token is shorter than ${MIN_TOKEN_CHARS} characters`)
  if (own.length > 0) problems.push(`${where}: ${own.join(', ')}`)
  else out.push({ where, name, roles, hash: tokenHash(token) })
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
      do n++; while (taken.has(`${first}-${n}`))
      counters.set(first, n)
      name = `${first}-${n}`
    }
    const sameName = p.name === undefined ? undefined : byName.get(name)
    const sameToken = byHash.get(p.hash.toString('hex'))
    if (sameName !== undefined) problems.push(`${p.where}: the name is already used by ${sameName.where}`)
    else if (sameToken !== undefined) problems.push(`${p.where}: the same token as ${sameToken.where} (each token must be unique, so that it names one actor)`)
    else entries.push({ name, roles: p.roles, hash: p.hash })
    if (sameName === undefined) byName.set(name, p)
    if (sameToken === undefined) byHash.set(p.hash.toString('hex'), p)
  }
  return entries
}
