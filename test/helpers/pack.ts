import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** The environment without the npm_* variables of an enclosing `npm test`, which would steer a nested npm. */
export function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')))
}

/**
 * `npm pack` of the package in `packageDir` (its `prepack` builds it), then `npm install` of the
 * tarball into a new, empty project in a temporary directory, as an app would get it from the
 * registry. Resolves to the project's directory.
 */
export async function packAndInstall(packageDir: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'governor-pack-'))
  const env = cleanEnv()
  await run('npm', ['pack', '--pack-destination', dir], { cwd: packageDir, env })
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))
  if (tarball === undefined) throw new Error(`npm pack left no tarball in ${dir}`)
  const project = join(dir, 'app')
  mkdirSync(project)
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }))
  // No dependencies to fetch (both packages have none), so the registry is asked nothing
  // when the cache can answer; CI has the registry if it must.
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(dir, tarball)], { cwd: project, env })
  return project
}
