// Builds dist/ from src/ (run by `npm run build -w throttle` and by `prepack`):
//   dist/esm/  ES modules and their declarations (tsconfig.build.json), for `import`
//   dist/cjs/  CommonJS and its declarations (tsconfig.cjs.json), for `require()`
// Both keep the module layout of src/, so each build holds one copy of every class.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')

async function compile(config) {
  const child = spawn(process.execPath, [tsc, '-p', config], { cwd: root, stdio: 'inherit' })
  const [code] = await once(child, 'exit')
  if (code !== 0) throw new Error(`tsc -p ${config} exited with ${code}`)
}

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true })
// The two builds are independent: run them side by side.
await Promise.all([compile('tsconfig.build.json'), compile('tsconfig.cjs.json')])
// The package says "type": "module"; this tells Node and TypeScript that dist/cjs is CommonJS.
writeFileSync(new URL('../dist/cjs/package.json', import.meta.url), '{ "type": "commonjs" }\n')
