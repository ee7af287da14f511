import { describe, expect, it } from 'vitest'
import { AccessControl, isLoopback } from '../../../collector/src/auth/access-control.ts'
import { actorWithToken } from '../../../collector/src/auth/actor.ts'
import { grantedRoles } from '../../../collector/src/auth/roles.ts'
import { bearerToken, TokenVerifier } from '../../../collector/src/auth/token-verifier.ts'
import { loadTokens } from '../../../collector/src/auth/tokens.ts'
import { isGovernorError } from '../../../collector/src/errors.ts'

const CI = '3f9a1c0e7b2d4f6a8c9e'
const APP = 'app-token-0123456789'
const OPS = 'ops+token=with:colons'
/** A token of letters only: the old parser printed it as an unknown role. */
const LETTERS = 'qwertzuiopasdfghjk'

const load = (tokens: string, tokensFile = '', files: Record<string, string> = {}) =>
  loadTokens({ tokens, tokensFile }, (p) => {
    const text = files[p]
    if (text === undefined) throw Object.assign(new Error(`ENOENT: no such file, open '${p}'`), { code: 'ENOENT' })
    return text
  })

/** The message of the GOV_ERR_SETTINGS_INVALID that `run` throws. */
function refusal(run: () => unknown): string {
  try {
    run()
  } catch (err) {
    expect(isGovernorError(err) && err.code).toBe('GOV_ERR_SETTINGS_INVALID')
    return (err as Error).message
  }
  throw new Error('expected a refusal')
}

describe('GOVERNOR_TOKENS', () => {
  it('reads named entries with several roles, and names unnamed ones <first role>-<n>', () => {
    const entries = load(`ci=deploy+read:${CI}, ingest:${APP} ,ingest+read:${APP}-2,, operate:${OPS}`)
    expect(entries.map((e) => [e.name, e.roles])).toEqual([
      ['ci', ['deploy', 'read']],
      ['ingest-1', ['ingest']],
      ['ingest-2', ['ingest', 'read']],
      ['operate-1', ['operate']],
    ])
    // Only hashes are kept, never the tokens.
    expect(JSON.stringify(entries)).not.toContain(CI)
  })

  it('takes everything after the first colon as the token, so tokens may hold ":" and "="', () => {
    const verifier = new TokenVerifier(load(`ops=operate:${OPS}`))
    expect(verifier.verify(OPS)).toEqual({ name: 'ops', roles: ['operate'] })
  })

  it('does not give an unnamed entry a name an entry already has', () => {
    expect(load(`ingest-1=read:${CI},ingest:${APP}`).map((e) => e.name)).toEqual(['ingest-1', 'ingest-2'])
  })

  it('reads a file of entries, one a line, with blank lines and comments, alongside the variable', () => {
    const file = `# Governor tokens\n\nci=deploy+read:${CI}\n  # apps\napp-checkout=ingest:${APP}\r\n`
    const entries = load(`operate:${OPS}`, '/etc/governor/tokens', { '/etc/governor/tokens': file })
    expect(entries.map((e) => `${e.name}=${e.roles.join('+')}`)).toEqual([
      'operate-1=operate',
      'ci=deploy+read',
      'app-checkout=ingest',
    ])
  })

  it.each([
    [`ci=admin:${CI}`, 'GOVERNOR_TOKENS entry 1 ("ci"): unknown role "admin"'],
    [`ci=deploy:${CI},app=ingest:`, 'GOVERNOR_TOKENS entry 2 ("app"): the token is empty'],
    [
      `ci=deploy:${CI},app=ingest:short-token`,
      'GOVERNOR_TOKENS entry 2 ("app"): the token is shorter than 16 characters',
    ],
    [
      `ci=deploy:${CI},ingest:${CI}`,
      'GOVERNOR_TOKENS entry 2 (ingest:[20 chars]): the same token as GOVERNOR_TOKENS entry 1 ("ci")',
    ],
    [
      `ci=deploy:${CI},ci=read:${APP}`,
      'GOVERNOR_TOKENS entry 2 ("ci"): the name is already used by GOVERNOR_TOKENS entry 1 ("ci")',
    ],
    [`ci=:${CI}`, 'GOVERNOR_TOKENS entry 1 ("ci"): no role'],
    [`${CI}`, 'GOVERNOR_TOKENS entry 1 ([20 chars]): expected name=role+role:token or role:token'],
    [`ci bot=read:${CI}`, 'GOVERNOR_TOKENS entry 1 ([6 chars]=read:[20 chars]): the name must be'],
    [
      `app=deploy@checkout:${APP}`,
      'GOVERNOR_TOKENS entry 1 ("app"): only ingest can be scoped to services, not deploy',
    ],
    [`app=ingest@:${APP}`, 'GOVERNOR_TOKENS entry 1 ("app"): ingest@ must be followed by a service name'],
    [`app=ingest+ingest@checkout:${APP}`, 'GOVERNOR_TOKENS entry 1 ("app"): ingest and ingest@<service> together'],
    [`ci=read:${CI} x`, 'GOVERNOR_TOKENS entry 1 ("ci"): the token contains whitespace'],
  ])('refuses %s, naming the entry and never printing a token', (tokens, message) => {
    const msg = refusal(() => load(tokens))
    expect(msg).toContain(message)
    expect(msg).toContain('roles: ingest, deploy, operate, read')
    for (const secret of [CI, APP, 'short-token']) expect(msg).not.toContain(secret)
  })

  it('reads ingest@<service> roles: the token is scoped to those services', () => {
    const entries = load(`app=ingest@checkout+ingest@cart+read:${APP},ingest@billing:${CI}`)
    expect(entries.map((e) => [e.name, e.roles, e.services])).toEqual([
      ['app', ['ingest', 'read'], ['checkout', 'cart']],
      ['ingest-1', ['ingest'], ['billing']],
    ])
    const verifier = new TokenVerifier(entries)
    expect(verifier.verify(APP)).toEqual({ name: 'app', roles: ['ingest', 'read'], services: ['checkout', 'cart'] })
    expect(verifier.describe()).toBe('app (ingest@checkout+ingest@cart+read), ingest-1 (ingest@billing)')
    // A plain ingest token is not scoped.
    expect(new TokenVerifier(load(`app=ingest:${APP}`)).verify(APP)).toEqual({ name: 'app', roles: ['ingest'] })
  })

  // A reversed entry puts the token where the name or the roles go; the old parser printed the
  // name and any role of letters only, so the token reached the start-up error.
  it.each([
    [
      `${CI}=ingest:app-checkout`,
      'GOVERNOR_TOKENS entry 1 ([20 chars]=ingest:[12 chars]): the token is shorter than 16 characters (is the entry reversed?',
    ],
    [
      `${LETTERS}=ingest:app`,
      'GOVERNOR_TOKENS entry 1 ([18 chars]=ingest:[3 chars]): the token is shorter than 16 characters (is the entry reversed?',
    ],
    [
      `${LETTERS}:app=ingest`,
      'GOVERNOR_TOKENS entry 1 ([18 chars]:[10 chars]): an unknown role, the token is shorter than 16 characters (is the entry reversed?',
    ],
    [
      `app=${LETTERS}:ingest`,
      'GOVERNOR_TOKENS entry 1 ("app"): an unknown role, the token is shorter than 16 characters (is the entry reversed?',
    ],
  ])('never prints the token of the reversed entry %s, only its position and a masked form', (tokens, message) => {
    const msg = refusal(() => load(tokens))
    expect(msg).toContain(message)
    expect(msg).not.toContain(CI)
    expect(msg).not.toContain(LETTERS)
    expect(msg).not.toContain(LETTERS.slice(0, 8))
  })

  it('does not print an unknown "role" that may be a piece of a token', () => {
    const msg = refusal(() => load(`ci=read+a1b2c3d4e5f6:${CI}`))
    expect(msg).toContain('GOVERNOR_TOKENS entry 1 ("ci"): an unknown role')
    expect(msg).not.toContain('a1b2c3d4e5f6')
  })

  it('names every bad entry at once, and file entries by line', () => {
    const file = `ci=deploy:${CI}\n\n# ops\nops=operate:tooshort\n`
    const msg = refusal(() => load(`x=reader:${APP}`, 'tokens.txt', { 'tokens.txt': file }))
    expect(msg).toContain('GOVERNOR_TOKENS entry 1 ("x"): unknown role "reader"')
    expect(msg).toContain('GOVERNOR_TOKENS_FILE="tokens.txt" line 4 ("ops"): the token is shorter than 16 characters')
    expect(msg).not.toContain('tooshort')
  })

  it('refuses a token file it cannot read', () => {
    expect(refusal(() => load('', '/nope'))).toBe('GOVERNOR_TOKENS_FILE="/nope": cannot read the file: ENOENT')
  })
})

describe('TokenVerifier', () => {
  const verifier = new TokenVerifier(load(`ci=deploy+read:${CI},app=ingest:${APP}`))

  it('finds the token among all, and nothing for a wrong, longer or shorter token', () => {
    expect(verifier.enabled).toBe(true)
    expect(verifier.verify(APP)).toEqual({ name: 'app', roles: ['ingest'] })
    expect(verifier.verify(CI)).toEqual({ name: 'ci', roles: ['deploy', 'read'] })
    expect(verifier.verify(`${CI}x`)).toBeUndefined()
    expect(verifier.verify(CI.slice(0, -1))).toBeUndefined()
    expect(verifier.verify('')).toBeUndefined()
    expect(new TokenVerifier([]).enabled).toBe(false)
  })

  it('reads the token of an Authorization: Bearer header only', () => {
    expect(bearerToken(`Bearer ${CI}`)).toBe(CI)
    expect(bearerToken(`bearer  ${CI}`)).toBe(CI)
    expect(bearerToken(`Basic ${CI}`)).toBeUndefined()
    expect(bearerToken('Bearer ')).toBeUndefined()
    expect(bearerToken(undefined)).toBeUndefined()
  })
})

describe('roles and actors', () => {
  it('lets deploy and operate tokens read, and ingest tokens not', () => {
    expect([...grantedRoles(['deploy'])].sort()).toEqual(['deploy', 'read'])
    expect([...grantedRoles(['operate'])].sort()).toEqual(['operate', 'read'])
    expect([...grantedRoles(['ingest'])]).toEqual(['ingest'])
  })

  it('records the token name as the actor, with the body actor in front when it differs', () => {
    expect(actorWithToken(undefined, 'ci')).toBe('ci')
    expect(actorWithToken('', 'ci')).toBe('ci')
    expect(actorWithToken('ci', 'ci')).toBe('ci')
    expect(actorWithToken('alice', 'ci')).toBe('alice via ci')
  })
})

describe('exposure without tokens', () => {
  it.each(['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1'])(
    '%s is loopback',
    (host) => {
      expect(isLoopback(host)).toBe(true)
    },
  )

  it.each(['0.0.0.0', '::', '10.0.0.5', '128.0.0.1', 'governor.internal', '::ffff:10.0.0.1'])('%s is not', (host) => {
    expect(isLoopback(host)).toBe(false)
  })

  it('refuses a non-loopback address without tokens, saying how to add them', () => {
    const open = new AccessControl(new TokenVerifier([]))
    expect(() => open.checkExposure('127.0.0.1')).not.toThrow()
    expect(refusal(() => open.checkExposure('0.0.0.0'))).toBe(
      'refusing to listen on 0.0.0.0 without tokens: set GOVERNOR_TOKENS=name=role+role:token (roles: ingest, deploy, operate, read) or GOVERNOR_TOKENS_FILE, or bind to 127.0.0.1 (GOVERNOR_HOST)',
    )
    expect(() => new AccessControl(new TokenVerifier(load(`read:${CI}`))).checkExposure('0.0.0.0')).not.toThrow()
  })
})
