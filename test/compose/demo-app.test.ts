import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDemo, type Demo } from '../../examples/demo-app/src/demo.ts'
import { spawnServer } from '../helpers/server.ts'

// The compose stack's demo app against a real Governor (the `governor` command in a process
// of its own): its deploy is recorded at start, its knobs are declared and followed, and its
// OpenTelemetry metrics arrive.

let governor: { child: ChildProcess; url: string; output: () => string }
let demo: Demo | undefined
const SERVICE = 'demo-shop-test'

async function get(path: string): Promise<any> {
  const res = await fetch(`${governor.url}${path}`)
  expect(res.status, await res.clone().text()).toBe(200)
  return res.json()
}

async function until<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean, millis = 15_000): Promise<T> {
  const deadline = Date.now() + millis
  for (;;) {
    const v = await read()
    if (done(v)) return v
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(v)}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

beforeAll(async () => {
  governor = await spawnServer({ GOVERNOR_DATA_DIR: mkdtempSync(join(tmpdir(), 'governor-demo-')) })
  demo = await startDemo({
    governorUrl: governor.url,
    token: undefined,
    service: SERVICE,
    version: '9.9.9',
    environment: 'production',
    actor: 'ci',
    port: 0,
    loadPerSecond: 50,
    exportIntervalMillis: 2_000,
  })
}, 60_000)

afterAll(async () => {
  await demo?.stop()
  if (governor?.child.exitCode === null) {
    governor.child.kill('SIGTERM')
    await once(governor.child, 'exit')
  }
})

describe('demo app', () => {
  it('records its deploy at start', async () => {
    const last = await get(`/api/v1/deploys/last?service=${SERVICE}`)
    const deploys = (Array.isArray(last) ? last : last.deploys) as {
      id: string
      version: string
      actor: string
      environment: string
    }[]
    expect(deploys).toEqual([
      expect.objectContaining({ id: demo!.deploy.id, version: '9.9.9', actor: 'ci', environment: 'production' }),
    ])
  })

  it('declares its knobs and follows a change of workers made in Governor', async () => {
    const knobs = (await get(`/api/v1/knobs?service=${SERVICE}`)).knobs as { name: string }[]
    expect(knobs.map((k) => k.name).sort()).toEqual(['error_percent', 'extra_latency_ms', 'workers'])
    const res = await fetch(`${governor.url}/api/v1/knobs/${SERVICE}/workers/value`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ value: 2, actor: 'alice', reason: 'test' }),
    })
    expect(res.status, await res.text()).toBe(200)
    await until(
      'the limiter bound',
      async () => demo!.shop.limiter.limit,
      (limit) => limit <= 2,
    )
  })

  it(
    'sends http.server.request.duration over OTLP, with its service, version and status codes',
    { timeout: 45_000 },
    async () => {
      type Answer = {
        metric?: { type: string; unit: string }
        series?: { labels: Record<string, string>; points: number[][] }[]
      }
      const q = await until<Answer>(
        'stored requests',
        // 404 until the first export is stored.
        async () =>
          (
            await fetch(
              `${governor.url}/api/v1/query?metric=http.server.request.duration&service=${SERVICE}&from=now-5m`,
            )
          ).json() as Promise<Answer>,
        (r) => r.series?.some((s) => s.points.some((p) => (p[1] ?? 0) > 20)) === true,
        30_000,
      )
      expect(q.metric).toMatchObject({ type: 'histogram', unit: 's' })
      const labels = (q.series ?? []).map((s) => s.labels)
      expect(labels).toContainEqual(
        expect.objectContaining({
          'service.version': '9.9.9',
          'http.route': '/checkout',
          'http.response.status_code': '200',
        }),
      )
    },
  )
})
