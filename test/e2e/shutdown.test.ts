import type { ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { connect as tcpConnect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { gaugeRequest } from '../helpers/otlp.ts'
import { spawnServer } from '../helpers/server.ts'

// SIGTERM with ingest requests waiting for their group commit (without the write-ahead log a
// request waits for its commit, and a long flush interval holds them), a knob stream open and a connection that never sent a request: the process must stop accepting connections at once, still
// commit and answer 200 to every request it had accepted, and exit 0 within the CLI's
// shutdown timeout; after a restart every point answered 200 is stored.

/** The CLI's SHUTDOWN_TIMEOUT_MILLIS (collector/src/cli.ts): past it the process exits 1. */
const SHUTDOWN_TIMEOUT_MILLIS = 10_000
const FLUSH_INTERVAL_MILLIS = 1500
const REQUESTS = 20
const POINTS = 100
const children: ChildProcess[] = []
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
})

/** Resolves 'refused' when a new TCP connection to the port is refused, 'accepted' when one opens. */
function tryConnect(port: number): Promise<'refused' | 'accepted'> {
  return new Promise((resolve) => {
    const socket = tcpConnect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve('accepted')
    })
    socket.once('error', () => resolve('refused'))
  })
}

async function pendingPoints(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  return Number(/^governor_pipeline_pending_points (\S+)$/m.exec(text)?.[1] ?? NaN)
}

describe('graceful shutdown', () => {
  it('on SIGTERM refuses new connections, answers and stores what it accepted, and exits 0 in time', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'governor-shutdown-'))
    const server = await spawnServer({
      GOVERNOR_DATA_DIR: dataDir,
      GOVERNOR_FLUSH_INTERVAL_MILLIS: String(FLUSH_INTERVAL_MILLIS),
      GOVERNOR_WAL_DIR: 'off',
    })
    children.push(server.child)
    const port = Number(new URL(server.url).port)
    const exited = new Promise<{ code: number | null; at: number }>((r) =>
      server.child.once('exit', (code) => r({ code, at: performance.now() })),
    )

    // An app's knob stream stays open through the shutdown: it must not hold the process.
    const stream = await fetch(`${server.url}/api/v1/knobs/stream`)
    expect(stream.status).toBe(200)
    const streamDone = stream.body!.pipeTo(new WritableStream()).then(
      () => 'ended',
      () => 'ended',
    )
    // And a connection opened but never used (a warm pool, a load balancer's TCP probe).
    const silent = tcpConnect(port, '127.0.0.1')
    silent.on('error', () => {})
    const silentEnded = new Promise((r) => silent.once('close', r))

    const base = Date.now() - 60_000
    const answers: { status: number; at: number }[] = []
    const sent = Array.from({ length: REQUESTS }, async (_, r) => {
      const points = Array.from({ length: POINTS }, (_, i) => ({ ts: base + r * POINTS + i, value: r }))
      const res = await fetch(`${server.url}/v1/metrics`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(gaugeRequest('shutdown', { 'shutdown.points': points })),
      })
      await res.arrayBuffer()
      answers.push({ status: res.status, at: performance.now() })
    })
    // Every request is in the pipeline, waiting for the flush interval, before the signal.
    const deadline = performance.now() + 5_000
    while ((await pendingPoints(server.url)) < REQUESTS * POINTS) {
      expect(performance.now(), 'the requests reach the pipeline').toBeLessThan(deadline)
      await new Promise((r) => setTimeout(r, 10))
    }
    expect(answers).toEqual([])

    const signalled = performance.now()
    server.child.kill('SIGTERM')
    let refusedAt: number | undefined
    while (refusedAt === undefined && performance.now() - signalled < 1_000) {
      if ((await tryConnect(port)) === 'refused') refusedAt = performance.now()
      else await new Promise((r) => setTimeout(r, 10))
    }
    await Promise.all(sent)
    const { code, at: exitedAt } = await exited

    expect(refusedAt, 'new connections are refused within 1 s of SIGTERM').toBeDefined()
    const firstAnswer = Math.min(...answers.map((a) => a.at))
    expect(refusedAt!, 'refused while accepted requests were still waiting for their commit').toBeLessThan(firstAnswer)
    expect(answers.map((a) => a.status)).toEqual(Array(REQUESTS).fill(200))
    expect(code).toBe(0)
    expect(exitedAt - signalled).toBeLessThan(SHUTDOWN_TIMEOUT_MILLIS)
    expect(await streamDone).toBe('ended')
    await silentEnded

    const again = await spawnServer({ GOVERNOR_DATA_DIR: dataDir })
    children.push(again.child)
    const q = new URLSearchParams({
      metric: 'shutdown.points',
      service: 'shutdown',
      from: String(base),
      to: String(base + 60_000),
    })
    const res = (await (await fetch(`${again.url}/api/v1/query?${q}`)).json()) as { series: { points: number[][] }[] }
    expect(res.series[0]?.points.length).toBe(REQUESTS * POINTS)
    again.child.kill('SIGTERM')
  }, 60_000)
})
