import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
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
  await whileBuilding(packageDir, () => run('npm', ['pack', '--pack-destination', dir], { cwd: packageDir, env }))
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))
  if (tarball === undefined) throw new Error(`npm pack left no tarball in ${dir}`)
  const project = join(dir, 'app')
  mkdirSync(project)
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }))
  // No dependencies to fetch (both packages have none), so the registry is asked nothing
  // when the cache can answer; CI has the registry if it must.
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(dir, tarball)], {
    cwd: project,
    env,
  })
  return project
}

/**
 * Runs `fn` holding a lock on `packageDir`'s build. `npm pack` rebuilds the package (its prepack
 * deletes dist/ first), so two test files packing one package at once, in two processes, would
 * pack each other's half-built files. The lock is a file holding its owner's pid, made whole
 * and then hard-linked into place (a link fails if the name exists: atomic); a lock whose
 * owner is gone is taken over.
 */
async function whileBuilding<T>(packageDir: string, fn: () => Promise<T>): Promise<T> {
  const lock = join(
    tmpdir(),
    `governor-build-${createHash('sha256').update(packageDir).digest('hex').slice(0, 16)}.lock`,
  )
  const mine = `${lock}.${process.pid}`
  writeFileSync(mine, String(process.pid))
  try {
    for (;;) {
      try {
        linkSync(mine, lock)
        break
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
        if (ownerGone(lock)) rmSync(lock, { force: true })
        else await sleep(100)
      }
    }
  } finally {
    rmSync(mine, { force: true })
  }
  try {
    return await fn()
  } finally {
    rmSync(lock, { force: true })
  }
}

function ownerGone(lock: string): boolean {
  try {
    process.kill(Number(readFileSync(lock, 'utf8')), 0)
    return false
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    return code === 'ESRCH' // ENOENT: released meanwhile, try again; EPERM: alive, not ours
  }
}
