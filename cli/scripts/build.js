// Bundles src/bin.ts (and the client commands it shares with the collector) into one file of
// plain JavaScript, dist/governor.js: nothing to compile and nothing but Node to load at start.
import { readFileSync, rmSync } from 'node:fs'
import { build } from 'esbuild'

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true })
await build({
  entryPoints: [new URL('../src/bin.ts', import.meta.url).pathname],
  outfile: new URL('../dist/governor.js', import.meta.url).pathname,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20.19',
  // Only Node's own modules may stay imports: the package has no dependencies.
  packages: 'bundle',
  banner: { js: '#!/usr/bin/env node' },
  define: { GOVERNOR_CLI_VERSION: JSON.stringify(pkg.version) },
  legalComments: 'none',
  logLevel: 'warning',
})
