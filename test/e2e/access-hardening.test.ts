import type { ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NO_TOKENS, runGovernor, spawnServer } from '../helpers/server.ts'

// The governor command as a user starts it: a reversed token entry stops the start without
// printing the token; in open mode, a rebound Host is refused, a token in the URL is refused
// and kept out of the output, and HEAD on the knob stream answers.

const SECRET = 'c0ffee00c0ffee00c0ffee'

describe('governor start with a reversed token entry', () => {
  it('refuses it by position and masked form, never printing the token', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'governor-reversed-')), 'data')
    const r = await runGovernor(['start'], { GOVERNOR_TOKENS: `${SECRET}=deploy:ci`, GOVERNOR_DATA_DIR: dataDir })
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(
      'GOV_ERR_SETTINGS_INVALID: GOVERNOR_TOKENS entry 1 ([22 chars]=deploy:[2 chars]): the token is shorter than 16 characters (is the entry reversed?',
    )
    expect(r.stderr + r.stdout).not.toContain(SECRET)
    expect(r.stderr + r.stdout).not.toContain(SECRET.slice(0, 10))
    expect(existsSync(dataDir)).toBe(false)
  })
})

describe('governor start in open mode', () => {
  let server: { child: ChildProcess; url: string; output: () => string }
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'governor-open-'))
    server = await spawnServer({
      ...NO_TOKENS,
      GOVERNOR_DATA_DIR: join(dir, 'data'),
      GOVERNOR_LOG_LEVEL: 'debug',
      GOVERNOR_HOST: '127.0.0.1',
    })
  })
  afterAll(() => {
    server?.child.kill('SIGKILL')
  })

  function send(
    method: string,
    path: string,
    host: string,
  ): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(`${server.url}${path}`, { method, headers: { host } }, (res) => {
        let body = ''
        res.on('data', (d: Buffer) => {
          body += d
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      })
      req.setTimeout(5_000, () => req.destroy(new Error(`${method} ${path} did not answer in 5 s`)))
      req.on('error', reject)
      req.end()
    })
  }

  it('refuses a Host that is not a loopback name, and answers loopback ones', async () => {
    const refused = await send('GET', '/api/v1/knobs', 'rebind.example')
    expect(refused.status).toBe(403)
    expect(JSON.parse(refused.body).error.message).toContain('Host "rebind.example" is not a loopback name')
    for (const host of ['localhost:4318', '127.0.0.1', '[::1]'])
      expect((await send('GET', '/api/v1/knobs', host)).status).toBe(200)
  })

  it('refuses a token in the URL, and prints it nowhere', async () => {
    const res = await send('GET', `/api/v1/knobs?access_token=${SECRET}`, 'localhost')
    expect(res.status).toBe(400)
    expect(JSON.parse(res.body).error.code).toBe('GOV_ERR_AUTH_TOKEN_IN_URL')
    // The request line is logged once the answer is written: wait for it.
    const deadline = Date.now() + 5_000
    while (!server.output().includes('access_token=[redacted]') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20))
    expect(server.output()).toContain('access_token=[redacted]')
    expect(server.output()).not.toContain(SECRET)
  })

  it('answers HEAD on the knob stream at once', async () => {
    const res = await send('HEAD', '/api/v1/knobs/stream', 'localhost')
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toBe('text/event-stream')
  })
})
