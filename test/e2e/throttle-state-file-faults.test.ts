import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { afterAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../collector/src/app.ts'
import type { ThrottleClient } from '../../throttle/src/client.ts'
import { connect } from '../../throttle/src/connect.ts'
import type { ThrottleError } from '../../throttle/src/errors.ts'
import { stateFileText } from '../../throttle/src/state-file.ts'
import { freePort } from '../helpers/server.ts'
import { testSettings } from '../helpers/settings.ts'
import { waitFor } from '../throttle/fake-collector.ts'

// The app library's state file under faults, against a real collector: a corrupted last known
// good file while the collector is unreachable, and a disk that is full when the file is
// saved. Either way the app hears one clear error (onError and the 'error' event) and keeps
// running: on its defaults, or on the latest values, with the old file left whole.
// (test/throttle/state-file.test.ts covers the reader and writer alone.)

const WORKERS = { type: 'int', default: 20, min: 1, max: 200 } as const
let app: FastifyInstance | undefined
const clients: ThrottleClient[] = []
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()))
  await app?.close()
})

/** One collector for the file (chDB binds one data directory per process), started late on a port chosen up front. */
const port = await freePort()
const url = `http://127.0.0.1:${port}`
async function startCollector(): Promise<void> {
  app = await buildApp(testSettings(), { logger: false })
  await app.listen({ host: '127.0.0.1', port })
}

function open(stateFile: string, onError: (e: ThrottleError) => void, startupTimeoutMillis = 5_000): ThrottleClient {
  const c = connect({
    url,
    service: 'checkout',
    stateFile,
    startupTimeoutMillis,
    reconnectInitialDelayMillis: 50,
    reconnectMaxDelayMillis: 200,
    onError,
  })
  clients.push(c)
  return c
}

async function setValue(value: number): Promise<void> {
  const res = await fetch(`${url}/api/v1/knobs/checkout/workers/value`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ value, actor: 'ops', reason: `set ${value}` }),
  })
  expect(res.status).toBe(200)
}

const stored = (path: string): unknown => {
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { knobs: { workers?: { value: unknown } } }).knobs.workers?.value
  } catch {
    return undefined
  }
}

describe('the state file under faults', () => {
  it('starts on the defaults with one clear error when the last known good file is corrupted and the collector is away, then rewrites it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'throttle-corrupt-'))
    const good = stateFileText(
      'checkout',
      new Map([
        [
          'workers',
          {
            value: 40,
            info: {
              mode: 'manual',
              version: 2,
              changeId: 'c',
              changedBy: 'ops',
              reason: 'r',
              changedAt: '2026-01-01T00:00:00.000Z',
            },
          },
        ],
      ]),
      new Date(),
    )
    // A write cut short (what a non-atomic writer leaves after a crash), an empty file, bytes that are no text.
    const corruptions = {
      truncated: good.slice(0, Math.floor(good.length / 2)),
      empty: '',
      binary: '\u0000\u00ff\u0001garbage',
    }
    const apps = Object.entries(corruptions).map(([kind, text]) => {
      const path = join(dir, `${kind}.json`)
      writeFileSync(path, text)
      const onError: ThrottleError[] = [],
        onEvent: ThrottleError[] = []
      const client = open(path, (e) => onError.push(e), 300)
      client.on('error', (e) => onEvent.push(e))
      return { kind, path, client, workers: client.knob('workers', WORKERS), onError, onEvent }
    })
    for (const a of apps) {
      expect(await a.client.ready(), a.kind).toBe('local') // nothing to reach: the start-up timeout passes
      expect(a.workers.value, a.kind).toBe(20) // the default, not a half-read value
      expect(a.workers.info.source).toBe('default')
      for (const seen of [a.onError, a.onEvent]) {
        const corrupt = seen.filter((e) => e.code === 'THROTTLE_ERR_STATE_FILE_CORRUPT')
        expect(corrupt.length, a.kind).toBe(1)
        expect(corrupt[0]!.message).toContain(a.path)
        expect(corrupt[0]!.message).toMatch(/is not JSON|cannot be read/)
        expect(corrupt[0]!.message).toContain('ignored and will be rewritten')
      }
    }

    // The collector comes up: the apps take its values and write good files over the bad ones.
    await startCollector()
    // The apps reconnect and declare the knob; then ops set it.
    while ((await fetch(`${url}/api/v1/knobs/checkout/workers`)).status !== 200)
      await new Promise((r) => setTimeout(r, 20))
    await setValue(40)
    for (const a of apps) {
      await waitFor(() => a.workers.value === 40, `${a.kind}: the collector's value`)
      await waitFor(() => stored(a.path) === 40, `${a.kind}: the rewritten state file`)
    }
  })

  it('keeps the latest value and the old file whole when the disk is full, says so, and saves again once there is room', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'throttle-full-'))
    const path = join(dir, 'knobs.json')
    const errors: ThrottleError[] = [],
      events: ThrottleError[] = []
    const client = open(path, (e) => errors.push(e))
    client.on('error', (e) => events.push(e))
    const workers = client.knob('workers', WORKERS)
    expect(await client.ready()).toBe('collector')
    await setValue(45)
    await waitFor(() => stored(path) === 45, 'the first save')

    // The disk fills up: the writer's next temporary files (`<path>.<pid>.<n>.tmp`) lead to
    // /dev/full, where every write fails with ENOSPC, as on a full disk.
    const links = Array.from({ length: 100 }, (_, i) => `${path}.${process.pid}.${i + 1}.tmp`)
    for (const l of links) if (!existsSync(l)) symlinkSync('/dev/full', l)
    await setValue(55)
    await waitFor(() => workers.value === 55, 'the new value')
    await waitFor(() => errors.length > 0 && events.length > 0, 'the error')
    expect(
      links.filter((l) => !existsSync(l)).length,
      'a save went to /dev/full (else the temporary names changed: update this test)',
    ).toBe(1)
    expect(errors.map((e) => e.code)).toEqual(['THROTTLE_ERR_STATE_FILE_WRITE'])
    expect(events.map((e) => e.code)).toEqual(['THROTTLE_ERR_STATE_FILE_WRITE'])
    expect(errors[0]!.message).toMatch(new RegExp(`state file ${path} could not be written: ENOSPC`))
    expect(stored(path)).toBe(45) // the last good file, whole
    expect(workers.value).toBe(55) // the app runs on the latest value all the same

    // Room again: the next change is saved.
    for (const l of links) rmSync(l, { force: true })
    await setValue(60)
    await waitFor(() => stored(path) === 60, 'the save after the disk has room')
    expect(readdirSync(dir)).toEqual(['knobs.json']) // no temporary file left behind
    expect(errors.map((e) => e.code)).toEqual(['THROTTLE_ERR_STATE_FILE_WRITE'])
  })
})
