import { execFile, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cleanEnv, packAndInstall } from '../helpers/pack.ts'
import { spawnServer } from '../helpers/server.ts'

// @governor/cli as a pipeline outside this repo gets it: packed, installed from the tarball into
// an empty project, its `governor` executable run against a Governor in another process.

const CLI = fileURLToPath(new URL('../../cli/', import.meta.url))
let project: string
let server: { child: ChildProcess; url: string }

function governor(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // The bin link npm made, run as a shell would: its #!/usr/bin/env node line picks node.
    execFile(
      join(project, 'node_modules/.bin/governor'),
      args,
      { cwd: project, env: { ...cleanEnv(), GOVERNOR_URL: server.url } },
      (err, stdout, stderr) => {
        resolve({ code: err === null ? 0 : Number((err as { code?: number }).code), stdout, stderr })
      },
    )
  })
}

beforeAll(async () => {
  // One after the other: the server's start is the slow part, and has the machine to itself.
  server = await spawnServer({ GOVERNOR_DATA_DIR: mkdtempSync(join(tmpdir(), 'governor-cli-package-')) })
  project = await packAndInstall(CLI)
}, 300_000)
afterAll(() => {
  server?.child.kill('SIGKILL')
})

describe('@governor/cli from its tarball', () => {
  it('is one file of JavaScript with no dependencies', () => {
    const pkg = JSON.parse(readFileSync(join(project, 'node_modules/@governor/cli/package.json'), 'utf8')) as Record<
      string,
      unknown
    >
    expect(pkg.dependencies).toBeUndefined()
    expect(pkg.bin).toEqual({ governor: 'dist/governor.js' })
    const js = readFileSync(join(project, 'node_modules/@governor/cli/dist/governor.js'), 'utf8')
    // Node's own modules only: nothing to resolve from node_modules at run time.
    expect(
      [...js.matchAll(/^import .* from "([^"]+)"/gm)].map((m) => m[1]).filter((m) => !m!.startsWith('node:')),
    ).toEqual([])
  })

  it('records a deploy (exit 0), and the server has it', async () => {
    const r = await governor('deploy', '--service', 'api', '--version', '1.4.2', '--actor', 'ci', '--id', 'pipeline-7')
    expect(r).toEqual({ code: 0, stdout: 'recorded deploy api 1.4.2 to production (id pipeline-7)\n', stderr: '' })
    const { deploys } = (await (await fetch(`${server.url}/api/v1/deploys/last?service=api`)).json()) as {
      deploys: { version: string; actor: string }[]
    }
    expect(deploys).toMatchObject([{ version: '1.4.2', actor: 'ci' }])
  })

  it('asks the gate: 0 for a known service, 4 for an unknown one', async () => {
    const allowed = await governor('gate', '--service', 'api', '--version', '1.4.3')
    expect(allowed.code).toBe(0)
    expect(allowed.stdout).toMatch(/^deploy of api allowed\n/)
    const denied = await governor('gate', '--service', 'apu')
    expect(denied.code).toBe(4)
    expect(denied.stdout).toMatch(/^deploy of apu denied:\n/)
  })

  it('sets a knob (exit 0), and exits 1 when the server refuses, 2 on a wrong command line, 3 when unreachable', async () => {
    const declared = await fetch(`${server.url}/api/v1/knobs/api/pool.size`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'int', default: 8, min: 1, max: 64 }),
    })
    expect(declared.status).toBe(201)
    expect(
      await governor('knobs', 'set', '--service', 'api', 'pool.size', '16', '--actor', 'ci', '--reason', 'load test'),
    ).toEqual({ code: 0, stdout: 'api pool.size = 16 (manual, v2)\n', stderr: '' })
    expect(((await (await fetch(`${server.url}/api/v1/knobs/api/pool.size`)).json()) as { value: number }).value).toBe(
      16,
    )
    const refused = await governor(
      'knobs',
      'set',
      '--service',
      'api',
      'pool.size',
      '99',
      '--actor',
      'ci',
      '--reason',
      'r',
    )
    expect([refused.code, refused.stderr]).toEqual([1, expect.stringContaining('99 is outside the bounds [1, 64]')])
    expect((await governor('deploy', '--service', 'api')).code).toBe(2)
    const unreachable = await governor('deploys', 'last', '--url', 'http://127.0.0.1:9')
    expect([unreachable.code, unreachable.stderr]).toEqual([3, expect.stringContaining('cannot reach Governor')])
  })
})
