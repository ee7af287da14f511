import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import { buildApp, type BuildOptions } from '../../collector/src/app.ts'
import type { Settings } from '../../collector/src/settings.ts'
import { testSettings } from './settings.ts'

/** A collector listening on a free loopback port, in this process (`instrument`: see BuildOptions). */
export async function startServer(
  overrides: Partial<Settings> = {},
  options: Pick<BuildOptions, 'instrument'> = {},
): Promise<{ app: FastifyInstance; url: string; settings: Settings }> {
  const settings = testSettings(overrides)
  const app = await buildApp(settings, { logger: false, ...options })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('server has no port')
  return { app, url: `http://127.0.0.1:${address.port}`, settings }
}

export async function freePort(): Promise<number> {
  const srv = createServer().listen(0, '127.0.0.1')
  await once(srv, 'listening')
  const { port } = srv.address() as { port: number }
  srv.close()
  return port
}

const BIN = fileURLToPath(new URL('../../collector/bin/governor.js', import.meta.url))

/**
 * The `governor` command in a process of its own, as a user starts it; resolves when ready.
 * A GOVERNOR_PORT in `env` is kept (to restart on the same address), otherwise a free port.
 * Ingest has no wait bound unless `env` sets one (see `testSettings`): how busy the machine
 * is must not decide a test that is not about overload. OTLP/gRPC is off unless `env` sets
 * GOVERNOR_GRPC_PORT: test files run side by side, and only one could hold 4317. `bin`: another tree's `governor`
 * command (a benchmark's base), default this tree's.
 */
export async function spawnServer(
  env: Record<string, string>,
  options: { bin?: string } = {},
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const port = env.GOVERNOR_PORT !== undefined ? Number(env.GOVERNOR_PORT) : await freePort()
  const child = spawn(process.execPath, [options.bin ?? BIN, 'start'], {
    env: {
      ...process.env,
      GOVERNOR_PORT: String(port),
      GOVERNOR_LOG_LEVEL: 'warn',
      GOVERNOR_INGEST_MAX_WAIT_MILLIS: '0',
      GOVERNOR_GRPC_PORT: '0',
      ...env,
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
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`governor exited with ${child.exitCode}:\n${out}`)
    try {
      if ((await fetch(`${url}/readyz`)).ok) return { child, url, output: () => out }
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  child.kill('SIGKILL')
  throw new Error(`governor did not become ready in 30 s:\n${out}`)
}

/** Environment that leaves a spawned `governor` without tokens, whatever this process has. */
export const NO_TOKENS = { GOVERNOR_TOKENS: '', GOVERNOR_TOKENS_FILE: '', GOVERNOR_TOKEN: '' }

/** Runs the `governor` command to its end (no tokens unless `env` gives some): its exit code and output. */
export function runGovernor(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...NO_TOKENS, ...env } })
    let stdout = '',
      stderr = ''
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d
    })
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d
    })
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}
