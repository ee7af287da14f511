import { execFile } from 'node:child_process'
import { readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import { packAndInstall } from '../helpers/pack.ts'

// @governor/throttle as an app gets it: packed, installed from the tarball into an empty
// project, run by plain `node` (no tsx), from an ES module and from CommonJS.

const run = promisify(execFile)
const THROTTLE = fileURLToPath(new URL('../../throttle/', import.meta.url))
const TSC = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url))
const NODE_TYPES = fileURLToPath(new URL('../../node_modules/@types', import.meta.url))
let project: string

// The same program in both module systems: a knob, a flag and its change event, a limiter.
const PROGRAM = `
const client = createMemoryClient({ service: 'shop' })
const pool = client.knob('pool.size', { type: 'int', default: 8, min: 1, max: 64 })
const flag = client.flag('new-search')
const seen = []
flag.on('change', (value, change) => seen.push(value + ' by ' + change.changedBy))
client.set('pool.size', 16)
client.set('new-search', 100, { changedBy: 'alice' })
const limiter = new Limiter({ limit: new FixedLimit(2) })
const a = limiter.acquire(), b = limiter.acquire(), c = limiter.acquire()
a.onSuccess()
console.log(JSON.stringify({ pool: pool.value, flag: flag.value, enabled: flag.enabled('u1'), seen, admitted: [a, b, c].map((l) => l !== undefined), inflight: limiter.inflight, plugin: typeof throttlePlugin }))
`
const EXPECTED = {
  pool: 16,
  flag: 100,
  enabled: true,
  seen: ['100 by alice'],
  admitted: [true, true, false],
  inflight: 1,
  plugin: 'function',
}

beforeAll(async () => {
  project = await packAndInstall(THROTTLE)
}, 300_000)

describe('@governor/throttle from its tarball', () => {
  it('holds the built JavaScript and declarations, and the package needs nothing else', () => {
    const pkg = join(project, 'node_modules/@governor/throttle')
    expect(readdirSync(join(pkg, 'dist/esm'))).toEqual(
      expect.arrayContaining(['index.js', 'index.d.ts', 'fastify.js', 'openfeature.js']),
    )
    expect(readdirSync(join(pkg, 'dist/cjs'))).toEqual(
      expect.arrayContaining(['index.js', 'index.d.ts', 'package.json']),
    )
    // Optional peers (fastify, OpenFeature, OpenTelemetry) are not installed: nothing but the package.
    expect(readdirSync(join(project, 'node_modules'))).toEqual(['.package-lock.json', '@governor'])
  })

  it('runs under plain node as an ES module', async () => {
    writeFileSync(
      join(project, 'app.mjs'),
      `import { createMemoryClient, FixedLimit, Limiter } from '@governor/throttle'\nimport { throttlePlugin } from '@governor/throttle/fastify'\n${PROGRAM}`,
    )
    const { stdout } = await run(process.execPath, ['app.mjs'], { cwd: project })
    expect(JSON.parse(stdout)).toEqual(EXPECTED)
  })

  it('runs under plain node as CommonJS', async () => {
    writeFileSync(
      join(project, 'app.cjs'),
      `const { createMemoryClient, FixedLimit, Limiter } = require('@governor/throttle')\nconst { throttlePlugin } = require('@governor/throttle/fastify')\n${PROGRAM}`,
    )
    const { stdout } = await run(process.execPath, ['app.cjs'], { cwd: project })
    expect(JSON.parse(stdout)).toEqual(EXPECTED)
  })

  it('gives TypeScript its types through both conditions (import and require)', async () => {
    const use = `const c = createMemoryClient({ service: 'shop' })\nconst n: number = c.knob('n', { type: 'int', default: 1 }).value\nconst v: number | boolean = c.flag('f').value\nexport { n, v, Limiter }\n`
    writeFileSync(join(project, 'esm.mts'), `import { createMemoryClient, Limiter } from '@governor/throttle'\n${use}`)
    writeFileSync(
      join(project, 'cjs.cts'),
      `import throttle = require('@governor/throttle')\nconst { createMemoryClient, Limiter } = throttle\n${use}`,
    )
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          typeRoots: [NODE_TYPES],
          types: ['node'],
        },
        files: ['esm.mts', 'cjs.cts'],
      }),
    )
    // A declaration that did not resolve would make the imports `any`: --noImplicitAny (strict) refuses that.
    const r = await run(process.execPath, [TSC, '-p', 'tsconfig.json', '--traceResolution'], {
      cwd: project,
      maxBuffer: 64 << 20,
    }).catch((err: { stdout: string }) => err)
    const resolved = [
      ...r.stdout.matchAll(/Module name '@governor\/throttle' was successfully resolved to '([^']+)'/g),
    ].map((m) => m[1]!.replace(/.*node_modules\/@governor\/throttle\//, ''))
    expect(r.stdout.split('\n').filter((l) => /error TS/.test(l))).toEqual([])
    expect(resolved.sort()).toEqual(['dist/cjs/index.d.ts', 'dist/esm/index.d.ts'])
  })
})
