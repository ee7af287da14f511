import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startQueueWorker, type QueueWorker } from '../../examples/queue-worker/src/queue-worker.ts'
import type { KnobChange } from '../../throttle/src/index.ts'
import { startServer } from '../helpers/server.ts'

// Queue workers driven by a controller, on a real listening collector, with the example app
// (examples/queue-worker) in this process: its WorkerPool's size is the knob `workers`, and
// it exports the queue's lag and the downstream calls' durations with the OpenTelemetry SDK.
//
//   producer 800 jobs/s ─► queue ─► pool (workers = 4, ~190 jobs/s) ─► downstream (20 ms)
//   lag over 1000 ms, downstream p99 under 250 ms ──► controller (effect lowers) raises 4 → 6
//   downstream slows to 420 ms: guard breached ──► controller lowers 6 → 5 (guard, ×0.8)
//
// The SLOs and the controller are the example's own JSON files, with a 1 s interval.

let app: FastifyInstance
let url: string
let worker: QueueWorker | undefined
const json = (name: string) =>
  JSON.parse(
    readFileSync(new URL(`../../examples/queue-worker/governor/${name}.json`, import.meta.url), 'utf8'),
  ) as Record<string, unknown>

beforeAll(async () => {
  ;({ app, url } = await startServer({ controllerTickMillis: 50, impactIntervalMillis: 0 }))
})
afterAll(async () => {
  await worker?.stop()
  await app?.close()
})

async function call(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, any> }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: res.status, body: (await res.json()) as Record<string, any> }
}

async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMillis = 15_000): Promise<void> {
  const deadline = performance.now() + timeoutMillis
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe('queue workers driven by a controller, end to end', () => {
  it('raises workers while the lag is over its target, lowers them when the downstream breaks the guard, and the change log says why', async () => {
    worker = await startQueueWorker({
      governorUrl: url,
      token: undefined,
      service: 'jobs',
      jobsPerSecond: 800,
      exportIntervalMillis: 250,
      downstream: { baseMillis: 20, comfortableConcurrency: 32, millisPerExtraCall: 5 },
    })
    const { workers, pool } = worker
    expect(workers.value).toBe(4)
    expect(worker.governor.status).toBe('streaming')
    const changes: KnobChange<number>[] = []
    workers.on('change', (_v, c) => changes.push(c))

    expect((await call('PUT', '/api/v1/slos/jobs/lag', json('slo-lag'))).status).toBe(201)
    expect((await call('PUT', '/api/v1/slos/jobs/downstream-latency', json('slo-downstream-latency'))).status).toBe(201)
    // The queue backs up: 800 jobs/s for ~190 handled. Bind the controller once the stored lag
    // is past its target (an idle queue at the first step would, rightly, ask for fewer workers).
    await waitFor(async () => {
      const { series } = (await call('GET', '/api/v1/query?metric=queue.lag&service=jobs&from=now-10s')).body as {
        series?: { points: [number, number][] }[]
      }
      return (series?.[0]?.points.at(-1)?.[1] ?? 0) > 1500
    }, 'the stored queue lag to pass 1500 ms')

    const ctl = await call('PUT', '/api/v1/controllers/jobs/queue-workers', {
      ...json('controller'),
      interval_ms: 1000,
    })
    expect(ctl.status, JSON.stringify(ctl.body)).toBe(201)
    expect(ctl.body).toMatchObject({
      effect: 'lowers',
      guard: { slo: 'downstream-latency', decrease: 0.8, headroom: 0.1 },
      knob_mode: 'auto',
      cooldown_ms: 30_000,
    })

    // Lag over 1000 ms, effect lowers: raise (aimd +2). The app's client sees it, the pool follows.
    await waitFor(() => workers.value !== 4, 'the controller to raise workers')
    expect(workers.value).toBe(6)
    expect(pool.size).toBe(6)
    const raise = changes.find((c) => c.value === 6)!
    expect(raise).toMatchObject({ previous: 4, changedBy: 'controller:queue-workers', mode: 'auto' })
    expect(raise.reason).toMatch(
      /^SLI \d+ over target 1000 \(\+\d+ %, effect lowers\) · guard SLI [\d.]+ under limit 250 \(-\d+ %\): 4 → 6 \(aimd, \+2\) — queue\.lag \d+ \(last sample\), max 1000, burn rate [\d.]+ \(SLO jobs\/lag\) · guard: p99 of http\.client\.request\.duration [\d.]+ ms over the last 30 s, target 250 ms, burn rate [\d.]+ \(SLO jobs\/downstream-latency\)$/,
    )

    // The downstream slows down: its p99 goes over 250 ms and the guard lowers the workers,
    // though the lag still asks for more and the algorithm's cooldown (30 s) has not passed.
    worker.downstream.extraMillis = 400
    await waitFor(() => workers.value !== 6, 'the guard to lower workers')
    expect(workers.value).toBe(5)
    expect(pool.size).toBe(5)
    const lower = changes.find((c) => c.value === 5)!
    expect(lower).toMatchObject({ previous: 6, changedBy: 'controller:queue-workers' })
    expect(lower.reason).toMatch(
      /^SLI \d+ over target 1000 \(\+\d+ %, effect lowers\) · guard SLI \d+ over limit 250 \(\+\d+ %\): 6 → 5 \(guard, ×0\.8\) — queue\.lag \d+ .* · guard: p99 of http\.client\.request\.duration \d+ ms over the last 30 s, target 250 ms/,
    )

    // The change log explains both changes.
    const events = (await call('GET', '/api/v1/events?kind=knob&service=jobs')).body.events as {
      actor: string
      title: string
      text: string
    }[]
    const byController = events.filter((e) => e.actor === 'controller:queue-workers').reverse()
    expect(byController.map((e) => e.title)).toEqual([
      'controller:queue-workers set jobs/workers 4 → 6',
      'controller:queue-workers set jobs/workers 6 → 5',
    ])
    expect(byController.map((e) => e.text)).toEqual([raise.reason, lower.reason])
    const listed = (await call('GET', '/api/v1/controllers/jobs/queue-workers')).body
    expect(listed.last_observation.guard).toMatchObject({ target: 250 })
    expect(listed.last_observation.guard.sli).toBeGreaterThan(250)
  })
})
