import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

/** A git ref checked out beside this tree, to run the old code against the new in one bench. */
export interface BaseWorktree {
  readonly dir: string
  /** The ref's short commit hash. */
  readonly commit: string
  remove(): void
}

/** `ref` checked out into a temporary worktree that shares this checkout's node_modules. */
export function baseWorktree(ref: string, prefix = 'governor-base-'): BaseWorktree {
  const commit = execFileSync('git', ['rev-parse', '--short', ref], { encoding: 'utf8' }).trim()
  const dir = mkdtempSync(join(tmpdir(), prefix))
  execFileSync('git', ['worktree', 'add', '--detach', dir, ref], { stdio: 'ignore' })
  symlinkSync(resolve('node_modules'), join(dir, 'node_modules'))
  return {
    dir,
    commit,
    remove: () => {
      execFileSync('git', ['worktree', 'remove', '--force', dir], { stdio: 'ignore' })
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
