import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { GovernorError } from '../errors.ts'

/** The lock file's name inside the data directory. */
export const LOCK_FILE = 'governor.lock'

/** Data directories this process holds: the engine binds one per process, a second open must fail too. */
const heldHere = new Set<string>()

/** Who holds a lock: read back from the lock file. */
export interface LockHolder {
  pid: number
  host: string
  since: string
}

/** Whether a process with this pid runs on this machine (signal 0 tests without signalling). */
export type PidAlive = (pid: number) => boolean

const pidAlive: PidAlive = (pid) => {
  try {
    process.kill(pid, 0)
  } catch (err) {
    // EPERM: it runs, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
  // A process killed a moment ago can linger as a zombie until its parent reaps it: dead.
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return true // no /proc (not Linux): signal 0 is all there is
  }
}

/**
 * Takes the data directory for this process: creates `governor.lock` exclusively (O_EXCL)
 * with this pid, host and start time. The embedded engine serves one process per directory
 * and, when a second one tries, fails with an engine message that does not say why; this
 * lock says it first, naming the holder.
 *
 * A lock left by a process that is gone (a crash, a kill -9) is stale: when its pid no longer
 * runs on this host, it is removed and taken. A lock written on another host (a directory on a
 * network share) is never taken over: that host's process may still run.
 *
 * Returns the function that releases the lock (idempotent).
 */
export function lockDataDir(dir: string, alive: PidAlive = pidAlive): () => void {
  const path = join(dir, LOCK_FILE)
  if (heldHere.has(path))
    throw locked(path, { pid: process.pid, host: hostname(), since: 'earlier' }, 'this process already has it open')
  const me: LockHolder = { pid: process.pid, host: hostname(), since: new Date().toISOString() }
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number
    try {
      fd = openSync(path, 'wx')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const holder = readHolder(path)
      if (holder !== undefined && (holder.host !== me.host || alive(holder.pid))) throw locked(path, holder, undefined)
      // Stale (its process is gone) or unreadable (a crash between create and write): remove it
      // and try again. Two starting processes may both see it stale; O_EXCL lets one win.
      try {
        unlinkSync(path)
      } catch {
        /* another process removed it first */
      }
      continue
    }
    try {
      writeSync(fd, `${JSON.stringify(me)}\n`)
    } finally {
      closeSync(fd)
    }
    heldHere.add(path)
    let released = false
    return () => {
      if (released) return
      released = true
      heldHere.delete(path)
      // Only our own lock is removed: never one another process took after a stale check.
      if (readHolder(path)?.pid === me.pid && readHolder(path)?.host === me.host) {
        try {
          unlinkSync(path)
        } catch {
          /* already gone */
        }
      }
    }
  }
  throw new GovernorError(
    'GOV_ERR_STORE_LOCKED',
    `could not take ${path}: it keeps reappearing; is another Governor starting on ${dir}?`,
  )
}

function readHolder(path: string): LockHolder | undefined {
  try {
    const h = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockHolder>
    return typeof h.pid === 'number' && typeof h.host === 'string'
      ? { pid: h.pid, host: h.host, since: String(h.since ?? '') }
      : undefined
  } catch {
    return undefined
  }
}

function locked(path: string, h: LockHolder, why: string | undefined): GovernorError {
  return new GovernorError(
    'GOV_ERR_STORE_LOCKED',
    `the embedded store is in use: ${why ?? `Governor process ${h.pid} on ${h.host} holds ${path} (since ${h.since})`}. ` +
      'The embedded engine serves one process per data directory: stop the other process, set another GOVERNOR_DATA_DIR, ' +
      'or run several collectors on a ClickHouse server (GOVERNOR_CLICKHOUSE_URL). A lock left by a process that is gone is removed at the next start.',
  )
}
