import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { isGovernorError } from '../../../collector/src/errors.ts'
import { LOCK_FILE, lockDataDir } from '../../../collector/src/store/data-dir-lock.ts'
import { Store } from '../../../collector/src/store/store.ts'
import { spawnServer } from '../../helpers/server.ts'
import { testSettings } from '../../helpers/settings.ts'

// The embedded engine serves one process per data directory. A second Governor on the same
// directory is refused at start with a message naming the holder; a lock left by a process
// that is gone does not stop the next start.

const BIN = fileURLToPath(new URL('../../../collector/bin/governor.js', import.meta.url))
const emptyDir = () => mkdtempSync(join(tmpdir(), 'governor-lock-'))

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' })
  return Number(r.stdout)
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run()
  } catch (err) {
    return isGovernorError(err) ? err.code : String(err)
  }
  return undefined
}

describe('one process per embedded store', () => {
  const settings = testSettings()
  let store: Store | undefined
  afterAll(async () => {
    await store?.close()
  })

  it('a second Governor process on the same data directory stops at start, naming the holder', async () => {
    store = await Store.open(settings)
    const lock = JSON.parse(readFileSync(join(settings.dataDir, LOCK_FILE), 'utf8')) as { pid: number; host: string }
    expect(lock).toMatchObject({ pid: process.pid, host: hostname() })
    const child = spawn(process.execPath, [BIN, 'start'], {
      env: {
        ...process.env,
        GOVERNOR_DATA_DIR: settings.dataDir,
        GOVERNOR_PORT: '0',
        GOVERNOR_GRPC_PORT: '0',
        GOVERNOR_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    const [code] = (await once(child, 'exit')) as [number]
    expect(code).toBe(1)
    expect(stderr).toContain('GOV_ERR_STORE_LOCKED')
    expect(stderr).toContain(
      `Governor process ${process.pid} on ${hostname()} holds ${join(settings.dataDir, LOCK_FILE)}`,
    )
    expect(stderr).toContain('GOVERNOR_CLICKHOUSE_URL')
  })

  it('governor migrate, too, is refused while a collector holds the store', async () => {
    const child = spawn(process.execPath, [BIN, 'migrate', '--to', 'http://127.0.0.1:9'], {
      env: { ...process.env, GOVERNOR_DATA_DIR: settings.dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    const [code] = (await once(child, 'exit')) as [number]
    expect(code).toBe(1)
    expect(stderr).toMatch(
      /governor: migrate: GOV_ERR_STORE_LOCKED: the embedded store is in use: Governor process \d+/,
    )
  })

  it('a second open in the same process is refused too', async () => {
    await expect(Store.open(settings)).rejects.toMatchObject({
      code: 'GOV_ERR_STORE_LOCKED',
      message: expect.stringContaining('this process already has it open'),
    })
  })

  it('closing the store releases the directory for the next process', { timeout: 90_000 }, async () => {
    await store!.close()
    store = undefined
    expect(existsSync(join(settings.dataDir, LOCK_FILE))).toBe(false)
    const server = await spawnServer({ GOVERNOR_DATA_DIR: settings.dataDir })
    try {
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200)
    } finally {
      server.child.kill('SIGTERM')
      await once(server.child, 'exit')
    }
  })
})

describe('the lock file', () => {
  it('is taken over when the process that left it is gone', () => {
    const dir = emptyDir()
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: deadPid(), host: hostname(), since: 'yesterday' }))
    const release = lockDataDir(dir)
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid).toBe(process.pid)
    release()
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false)
  })

  it('is taken over from a process killed a moment ago, not yet reaped (a zombie)', () => {
    const dir = emptyDir()
    const child = spawn('sleep', ['30'])
    child.kill('SIGKILL')
    const until = Date.now() + 300
    while (Date.now() < until) {
      /* block the event loop: the child is not reaped meanwhile */
    }
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: child.pid, host: hostname(), since: 'now' }))
    lockDataDir(dir)()
  })

  it('is taken over when it is unreadable (a crash between creating and writing it)', () => {
    const dir = emptyDir()
    writeFileSync(join(dir, LOCK_FILE), '')
    lockDataDir(dir)()
  })

  it('is never taken from a live process, nor from another host', () => {
    const dir = emptyDir()
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: 4242, host: hostname(), since: 'now' }))
    expect(codeOf(() => lockDataDir(dir, () => true))).toBe('GOV_ERR_STORE_LOCKED')
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: deadPid(), host: `not-${hostname()}`, since: 'now' }))
    expect(codeOf(() => lockDataDir(dir, () => false))).toBe('GOV_ERR_STORE_LOCKED')
  })

  it('release removes only its own lock', () => {
    const dir = emptyDir()
    const release = lockDataDir(dir)
    const other = JSON.stringify({ pid: 4242, host: hostname(), since: 'later' })
    writeFileSync(join(dir, LOCK_FILE), other) // taken by another after a stale check
    release()
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe(other)
  })
})
