/**
 * Starting and stopping the servers the peer benchmarks run against: Governor, Prometheus and
 * VictoriaMetrics, each a child process on a free loopback port with a data directory of its
 * own. Prometheus and VictoriaMetrics come from Debian's packages, installed on first use.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort } from '../../test/helpers/server.ts'

export const PROMETHEUS_BIN = '/usr/bin/prometheus'
export const VICTORIA_BIN = '/usr/bin/victoria-metrics'

/** Installs the Debian packages whose binaries are missing (only those), saying so. */
export function ensurePackages(wanted: { pkg: string; bin: string }[]): void {
  const missing = wanted.filter((w) => !existsSync(w.bin))
  if (missing.length === 0) return
  const pkgs = missing.map((m) => m.pkg)
  process.stderr.write(
    `${missing.map((m) => m.bin).join(', ')} missing: running apt-get install -y ${pkgs.join(' ')}\n`,
  )
  execFileSync('apt-get', ['install', '-y', ...pkgs], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  })
  for (const m of missing)
    if (!existsSync(m.bin)) throw new Error(`apt-get installed ${m.pkg} but ${m.bin} is still missing`)
}

/** A server child process and the URL it answers on. */
export interface Server {
  name: string
  child: ChildProcess
  /** The server's own pid (taskset execs the command, so it is the child's). */
  pid: number
  url: string
  /** The tail of what it printed, for error messages. */
  output: () => string
}

function launch(name: string, cmd: string[], url: string, env: Record<string, string> = {}): Server {
  const child = spawn(cmd[0]!, cmd.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  const keep = (d: Buffer): void => {
    out = (out + d.toString()).slice(-8000)
  }
  child.stdout!.on('data', keep)
  child.stderr!.on('data', keep)
  return { name, child, pid: child.pid!, url, output: () => out }
}

/** Polls `url + path` until it answers 2xx; fails with the server's output if it exits or times out. */
export async function waitReady(server: Server, path: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (server.child.exitCode !== null)
      throw new Error(`${server.name} exited (${server.child.exitCode}):\n${server.output()}`)
    try {
      if ((await fetch(server.url + path)).ok) return
    } catch {
      /* starting */
    }
    if (Date.now() > deadline) throw new Error(`${server.name} not ready after ${timeoutMs} ms:\n${server.output()}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Sends SIGTERM and waits for the exit; SIGKILL after `graceMs`. Safe to call twice. */
export async function stop(server: Server | undefined, graceMs = 30_000): Promise<void> {
  if (server === undefined || server.child.exitCode !== null || server.child.signalCode !== null) return
  const exited = new Promise((r) => server.child.once('exit', r))
  server.child.kill('SIGTERM')
  const timer = setTimeout(() => server.child.kill('SIGKILL'), graceMs)
  await exited
  clearTimeout(timer)
}

/** `taskset -c N` in front of a command, or nothing. */
function pinned(cpu: string | undefined): string[] {
  return cpu === undefined ? [] : ['taskset', '-c', cpu]
}

export async function startGovernor(dataDir: string, opts: { cpu?: string; logLevel?: string } = {}): Promise<Server> {
  const port = await freePort()
  const server = launch(
    'Governor',
    [...pinned(opts.cpu), process.execPath, 'collector/bin/governor.js', 'start'],
    `http://127.0.0.1:${port}`,
    {
      GOVERNOR_PORT: String(port),
      GOVERNOR_DATA_DIR: dataDir,
      GOVERNOR_LOG_LEVEL: opts.logLevel ?? 'warn',
      GOVERNOR_RATE_LIMIT_INGEST_PER_MINUTE: '0',
      GOVERNOR_RATE_LIMIT_API_PER_MINUTE: '0',
      // OTLP/gRPC is not benched, and its fixed port may be taken by another Governor on the machine.
      GOVERNOR_GRPC_PORT: '0',
    },
  )
  await waitReady(server, '/readyz')
  return server
}

/**
 * Prometheus with its config (YAML text, given its own `host:port`) written into `dir`,
 * storage under `dir/data`.
 */
export async function startPrometheus(
  dir: string,
  config: (self: string) => string,
  opts: { cpu?: string; extraArgs?: string[] } = {},
): Promise<Server> {
  const port = await freePort()
  writeFileSync(join(dir, 'prometheus.yml'), config(`127.0.0.1:${port}`))
  const server = launch(
    'Prometheus',
    [
      ...pinned(opts.cpu),
      PROMETHEUS_BIN,
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
      ...(opts.extraArgs ?? []),
    ],
    `http://127.0.0.1:${port}`,
  )
  await waitReady(server, '/-/ready')
  return server
}

export async function startVictoriaMetrics(
  dataDir: string,
  opts: { cpu?: string; extraArgs?: string[] } = {},
): Promise<Server> {
  const port = await freePort()
  const server = launch(
    'VictoriaMetrics',
    [
      ...pinned(opts.cpu),
      VICTORIA_BIN,
      `-storageDataPath=${dataDir}`,
      `-httpListenAddr=127.0.0.1:${port}`,
      '-retentionPeriod=100y',
      '-loggerLevel=WARN',
      ...(opts.extraArgs ?? []),
    ],
    `http://127.0.0.1:${port}`,
  )
  await waitReady(server, '/health')
  return server
}

/** Bytes of the files under a directory (apparent sizes, like `du -b`). */
export function dirBytes(dir: string): number {
  let total = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name)
    if (entry.isDirectory()) total += dirBytes(p)
    else if (entry.isFile()) total += statSync(p).size
  }
  return total
}
