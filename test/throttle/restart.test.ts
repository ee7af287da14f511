import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { ThrottleClient } from '../../throttle/src/client.ts'
import { connect } from '../../throttle/src/connect.ts'
import type { ThrottleError } from '../../throttle/src/errors.ts'
import { freePort } from '../helpers/server.ts'
import { startCollectorProcess } from './collector-process.ts'
import { waitFor } from './fake-collector.ts'

// Collectors in processes of their own, on one port chosen up front, so that a second
// process can take the first one's place at the address the clients know.

const stops: (() => Promise<void>)[] = []
const clients: ThrottleClient[] = []
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()))
  for (const stop of stops) await stop()
})

async function setValue(url: string, value: number, reason: string): Promise<void> {
  const res = await fetch(`${url}/api/v1/knobs/checkout/workers/value`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ value, actor: 'alice', reason }),
  })
  expect(res.status).toBe(200)
}

const WORKERS = { type: 'int', default: 20, min: 1, max: 200 } as const

describe('the collector going away and coming back', () => {
  it('keeps the values while it is down, starts a restarted app on the state file, follows changes made meanwhile, and declares again to a collector that lost its knobs', async () => {
    const port = await freePort()
    const work = mkdtempSync(join(tmpdir(), 'throttle-restart-'))
    const dataDir = join(work, 'data')
    const stateFile = join(work, 'app', 'knobs.json')
    const options = {
      service: 'checkout',
      stateFile,
      reconnectInitialDelayMillis: 50,
      reconnectMaxDelayMillis: 300,
      startupTimeoutMillis: 5_000,
    }

    const first = await startCollectorProcess(port, dataDir)
    stops.push(first.stop)
    const errors: ThrottleError[] = []
    const app = connect({ url: first.url, ...options, onError: (e) => errors.push(e) })
    clients.push(app)
    const workers = app.knob('workers', WORKERS)
    expect(await app.ready()).toBe('collector')
    await setValue(first.url, 40, 'queue backing up')
    await waitFor(() => workers.value === 40, '40 from the first collector')
    await waitFor(() => {
      try {
        return JSON.parse(readFileSync(stateFile, 'utf8')).knobs.workers.value === 40
      } catch {
        return false
      }
    }, 'the state file')

    // The collector stops: the app keeps its value and says so once.
    await first.stop()
    await waitFor(() => app.status === 'disconnected', 'the app to notice')
    expect(workers.value).toBe(40)
    expect(errors.filter((e) => e.code === 'THROTTLE_ERR_CONNECTION').length).toBeGreaterThanOrEqual(1)

    // A restarted app, with the collector still down, starts on its last known good value
    // within its start-up timeout.
    const restarted = connect({ url: first.url, ...options, startupTimeoutMillis: 300, onError: () => {} })
    clients.push(restarted)
    const restartedWorkers = restarted.knob('workers', WORKERS)
    expect(restartedWorkers.value).toBe(40)
    expect(restartedWorkers.info).toMatchObject({
      source: 'state-file',
      changedBy: 'alice',
      reason: 'queue backing up',
    })
    const started = performance.now()
    expect(await restarted.ready()).toBe('local')
    expect(performance.now() - started).toBeLessThan(800)
    expect(restartedWorkers.value).toBe(40)

    // A second collector process on the same data directory and port; the change is made
    // through it, likely before either app has reconnected.
    const second = await startCollectorProcess(port, dataDir)
    stops.push(second.stop)
    await setValue(second.url, 60, 'more workers after the restart')
    await waitFor(() => workers.value === 60, 'the app to follow the second collector')
    await waitFor(() => restartedWorkers.value === 60, 'the restarted app to follow too')
    expect(workers.info).toMatchObject({
      source: 'collector',
      changedBy: 'alice',
      reason: 'more workers after the restart',
    })
    expect(app.status).toBe('streaming')

    // A third collector on an empty data directory: it lost the knobs; the apps declare them again.
    await second.stop()
    const third = await startCollectorProcess(port, join(work, 'empty'))
    stops.push(third.stop)
    await waitFor(() => app.status === 'streaming', 'the app to reconnect')
    let declared: Record<string, unknown> | undefined
    for (let i = 0; i < 100 && declared === undefined; i++) {
      const res = await fetch(`${third.url}/api/v1/knobs/checkout/workers`)
      if (res.ok) declared = (await res.json()) as Record<string, unknown>
      else await new Promise((r) => setTimeout(r, 100))
    }
    expect(declared).toMatchObject({ type: 'int', default: 20, min: 1, max: 200, version: 1 })
    // The collector is the authority: its value (now the default) is followed.
    await waitFor(() => workers.value === 20, 'the value of the new collector')
  }, 120_000)
})
