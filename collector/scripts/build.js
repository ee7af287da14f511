// Bundles the collector's TypeScript into one ES module, collector/dist/bin/governor.mjs, so
// that `governor` starts without compiling anything (bin/governor.js runs the bundle while it
// is newer than every source, the sources through tsx otherwise). Run by `npm ci` (prepare)
// and `npm start`; about half a second.
//
// Packages stay outside the bundle (node_modules holds them, native engines included), except
// @governor/throttle, bundled from its sources as the repository's tsconfig maps it. The bundle
// sits two directories below collector/, as the sources' src/ui/ does, so the one URL the
// sources build from import.meta.url (the web UI's entry, ../../ui/main.ts) holds in both.
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const collector = fileURLToPath(new URL('..', import.meta.url))
// `npm ci` runs this too where the sources are not there yet (an image installs its
// dependencies before it copies them): nothing to bundle then.
if (!existsSync(`${collector}src/cli.ts`)) process.exit(0)
const { dependencies } = JSON.parse(readFileSync(`${collector}package.json`, 'utf8'))
const external = Object.keys(dependencies).filter((name) => name !== '@governor/throttle')

await build({
  entryPoints: [`${collector}src/cli.ts`],
  outfile: `${collector}dist/bin/governor.mjs`,
  tsconfig: `${collector}../tsconfig.json`,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: [...external, ...external.map((name) => `${name}/*`)],
  sourcemap: 'linked',
  logLevel: 'warning',
})
