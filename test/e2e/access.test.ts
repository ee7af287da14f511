import type { ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort, NO_TOKENS, runGovernor, spawnServer } from '../helpers/server.ts'

// The governor command with tokens: refusing to start open on the network, refusing bad
// tokens without printing them, and a CI job recording a deploy with its token.

const CI_TOKEN = 'ci-5c0ffee5c0ffee5c0ffee'
const APP_TOKEN = 'app-0ddba110ddba110ddba11'

describe('governor start', () => {
  it('refuses to listen on 0.0.0.0 without tokens, before opening the store or binding', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'governor-open-')), 'data')
    const port = await freePort()
    const r = await runGovernor(['start'], {
      GOVERNOR_HOST: '0.0.0.0',
      GOVERNOR_PORT: String(port),
      GOVERNOR_DATA_DIR: dataDir,
    })
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(
      'governor: could not start: GOV_ERR_SETTINGS_INVALID: refusing to listen on 0.0.0.0 without tokens: set GOVERNOR_TOKENS=name=role+role:token (roles: ingest, deploy, operate, read) or GOVERNOR_TOKENS_FILE, or bind to 127.0.0.1 (GOVERNOR_HOST)\n',
    )
    expect(existsSync(dataDir)).toBe(false) // the store, opened before binding, was never opened
  })

  it('refuses bad tokens, naming the entry and never printing a token', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'governor-badtok-')), 'data')
    const r = await runGovernor(['start'], {
      GOVERNOR_TOKENS: `ci=deploy+admin:${CI_TOKEN},app=ingest:${APP_TOKEN.slice(0, 10)}`,
      GOVERNOR_DATA_DIR: dataDir,
    })
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(
      'GOV_ERR_SETTINGS_INVALID: GOVERNOR_TOKENS entry 1 ("ci"): unknown role "admin"; GOVERNOR_TOKENS entry 2 ("app"): the token is shorter than 16 characters',
    )
    expect(r.stderr).not.toContain(CI_TOKEN)
    expect(r.stderr).not.toContain(APP_TOKEN.slice(0, 10))
    expect(existsSync(dataDir)).toBe(false)
  })

  it('--help never prints the tokens it is given', async () => {
    const r = await runGovernor(['--help'], { GOVERNOR_TOKENS: `ci=deploy:${CI_TOKEN}` })
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/GOVERNOR_TOKENS [^\n]*\n[^\n]*default: unset/)
    expect(r.stdout).not.toContain(CI_TOKEN)
  })
})

describe('a CI job with a deploy token', () => {
  let server: { child: ChildProcess; url: string; output: () => string }

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'governor-tokens-'))
    const file = join(dir, 'tokens')
    writeFileSync(file, `# CI pipelines\nci=deploy:${CI_TOKEN}\n\napp-checkout=ingest:${APP_TOKEN}\n`)
    server = await spawnServer({
      ...NO_TOKENS,
      GOVERNOR_TOKENS_FILE: file,
      GOVERNOR_DATA_DIR: join(dir, 'data'),
      GOVERNOR_LOG_LEVEL: 'info',
    })
  })
  afterAll(() => {
    server?.child.kill('SIGKILL')
  })

  it('records a deploy without --actor (the token names it) and reads the last deploys', async () => {
    const deploy = await runGovernor(
      ['deploy', '--service', 'api', '--version', '7', '--id', 'p-7', '--token', CI_TOKEN],
      { GOVERNOR_URL: server.url },
    )
    expect(deploy.stderr).toBe('')
    expect(deploy.stdout).toBe('recorded deploy api 7 to production (id p-7)\n')
    const last = await runGovernor(['deploys', 'last'], { GOVERNOR_URL: server.url, GOVERNOR_TOKEN: CI_TOKEN })
    expect(last.code).toBe(0)
    expect(last.stdout).toMatch(/^api\tproduction\t7\tci\t\d{4}-/)
    const alice = await runGovernor(['deploy', '--service', 'api', '--version', '8', '--actor', 'alice'], {
      GOVERNOR_URL: server.url,
      GOVERNOR_TOKEN: CI_TOKEN,
    })
    expect(alice.stdout).toContain('recorded deploy api 8')
    expect(
      (await runGovernor(['deploys', 'last', '--json'], { GOVERNOR_URL: server.url, GOVERNOR_TOKEN: CI_TOKEN })).stdout,
    ).toContain('"actor":"alice via ci"')
  })

  it("exits 1 with the server's refusal without a token or with one of the wrong role", async () => {
    const none = await runGovernor(['deploys', 'last'], { GOVERNOR_URL: server.url })
    expect(none.code).toBe(1)
    expect(none.stderr).toBe(
      'governor: the server answered 401: GOV_ERR_AUTH_MISSING: GET /api/v1/deploys/last needs a token with the read role: send Authorization: Bearer <token>\n',
    )
    const app = await runGovernor(['deploy', '--service', 'api', '--version', '9', '--token', APP_TOKEN], {
      GOVERNOR_URL: server.url,
    })
    expect(app.code).toBe(1)
    expect(app.stderr).toBe(
      'governor: the server answered 403: GOV_ERR_AUTH_FORBIDDEN: token "app-checkout" (ingest) may not POST /api/v1/deploys: that needs the deploy role\n',
    )
  })

  it('logs the tokens by name at start, never a token', () => {
    expect(server.output()).toContain('bearer tokens required; tokens: ci (deploy), app-checkout (ingest)')
    expect(server.output()).not.toContain(CI_TOKEN)
    expect(server.output()).not.toContain(APP_TOKEN)
  })
})
