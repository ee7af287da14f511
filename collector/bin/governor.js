#!/usr/bin/env node
// Runs the bundle that `npm ci` and `npm start` build (collector/scripts/build.js) while it is
// newer than every source file; otherwise the TypeScript sources directly, tsx compiling each
// module as it loads (slower to start: a source changed since the last build, or none yet).
import { existsSync, readdirSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const bundle = fileURLToPath(new URL('../dist/bin/governor.mjs', import.meta.url))
const sources = ['../src/', '../../throttle/src/'].map((dir) => fileURLToPath(new URL(dir, import.meta.url)))

/** The latest modification time of a file under `dir`, ms. */
function newest(dir) {
  let latest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) latest = Math.max(latest, statSync(`${entry.parentPath ?? entry.path}/${entry.name}`).mtimeMs)
  }
  return latest
}

const fresh = existsSync(bundle) && sources.every((dir) => !existsSync(dir) || newest(dir) <= statSync(bundle).mtimeMs)
let main
if (fresh) {
  process.setSourceMapsEnabled(true)
  ;({ main } = await import(bundle))
} else {
  const { register } = await import('tsx/esm/api')
  register()
  ;({ main } = await import('../src/cli.ts'))
}
process.exit(await main(process.argv.slice(2)))
