import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

const BIN = fileURLToPath(new URL('../../collector/bin/governor.js', import.meta.url))

/**
 * The `governor` command on a port and data directory chosen by the caller, so that a
 * second process can take the first one's place at the same address. (The shared
 * `spawnServer` picks a port of its own and waits on it.)
 */
export async function startCollectorProcess(
  port: number,
  dataDir: string,
): Promise<{ child: ChildProcess; url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [BIN, 'start'], {
    env: {
      ...process.env,
      GOVERNOR_PORT: String(port),
      GOVERNOR_DATA_DIR: dataDir,
      GOVERNOR_LOG_LEVEL: 'warn',
      GOVERNOR_INGEST_MAX_WAIT_MILLIS: '0',
      GOVERNOR_GRPC_PORT: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString()
  })
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString()
  })
  const url = `http://127.0.0.1:${port}`
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    await once(child, 'exit')
  }
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`governor exited with ${child.exitCode}:\n${out}`)
    try {
      if ((await fetch(`${url}/readyz`)).ok) return { child, url, stop }
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  child.kill('SIGKILL')
  throw new Error(`governor did not become ready in 30 s:\n${out}`)
}
