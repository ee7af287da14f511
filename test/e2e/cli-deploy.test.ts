import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort, spawnServer } from '../helpers/server.ts'

// The CLI as a CI pipeline runs it, against a Governor in another process.

const BIN = fileURLToPath(new URL('../../collector/bin/governor.js', import.meta.url))
let server: { child: ChildProcess; url: string }

function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, GOVERNOR_URL: server.url, ...env } })
    let stdout = '',
      stderr = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d
    })
    child.stderr.on('data', (d: Buffer) => {
      stderr += d
    })
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

beforeAll(async () => {
  server = await spawnServer({ GOVERNOR_DATA_DIR: mkdtempSync(join(tmpdir(), 'governor-cli-')) })
})
afterAll(() => {
  server?.child.kill('SIGKILL')
})

describe('governor deploy, deploys last, events search', () => {
  it('records a deploy with its plan and prints one line', async () => {
    const plan = join(mkdtempSync(join(tmpdir(), 'plan-')), 'plan.json')
    writeFileSync(plan, JSON.stringify({ watch: ['http.server.request.duration'], contingency: ['cart_cache'] }))
    const r = await cli([
      'deploy',
      '--service',
      'api',
      '--version',
      '1.4.2',
      '--actor',
      'alice',
      '--commit',
      '9f2c1e0',
      '--description',
      'faster totals',
      '--plan',
      plan,
      '--id',
      'pipeline-1',
    ])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toBe('recorded deploy api 1.4.2 to production (id pipeline-1)\n')
  })

  it('lists the last deploys and finds events by text', async () => {
    const last = await cli(['deploys', 'last'])
    expect(last.code).toBe(0)
    expect(last.stdout).toMatch(/^api\tproduction\t1\.4\.2\talice\t\d{4}-/)
    const found = await cli(['events', 'search', 'faster', '--json'])
    expect(found.code).toBe(0)
    expect(JSON.parse(found.stdout)).toMatchObject([
      {
        kind: 'deploy',
        service: 'api',
        version: '1.4.2',
        data: { commit: '9f2c1e0', plan: { contingency: ['cart_cache'] } },
      },
    ])
  })

  it("exits 1 with the server's message when it refuses", async () => {
    const r = await cli([
      'deploy',
      '--service',
      'api',
      '--version',
      '2',
      '--actor',
      'x',
      '--finished-at',
      '2999-01-01T00:00:00Z',
    ])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('400: GOV_ERR_CHANGE_INVALID: finished_at="2999-01-01T00:00:00Z" is in the future')
  })

  it('exits 2 on a wrong command line, naming what is missing', async () => {
    const r = await cli(['deploy', '--service', 'api'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('deploy needs --version, --actor')
    expect((await cli(['deploy', '--servce', 'api'])).code).toBe(2)
  })

  it('exits 3 with a readable message when the server is unreachable', async () => {
    const port = await freePort()
    const r = await cli(['deploys', 'last'], { GOVERNOR_URL: `http://127.0.0.1:${port}` })
    expect(r.code).toBe(3)
    expect(r.stderr).toContain(`cannot reach Governor at http://127.0.0.1:${port}: ECONNREFUSED`)
  })
})
