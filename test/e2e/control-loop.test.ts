import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect } from '../../throttle/src/index.ts'
import type { KnobChange, ThrottleClient } from '../../throttle/src/index.ts'
import { nanos } from '../helpers/otlp.ts'
import { startServer } from '../helpers/server.ts'

// The whole loop on a real listening collector (one per file: chDB binds one data directory
// per process), with the real algorithm and a short real interval:
//
//   app (throttle client) ──declares workers=40──► collector ◄──OTLP JSON, p99 ≈ 1 s── "app" metrics
//   controller (aimd, active) reads p99 > 300 ms ──► knob service ──SSE──► client sees 16
//   change log: the knob event by controller:workers-p99, saying the SLI and the target

let app: FastifyInstance
let url: string
let client: ThrottleClient
let pushing: NodeJS.Timeout | undefined
const BOUNDS = [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]

beforeAll(async () => {
  ;({ app, url } = await startServer({ controllerTickMillis: 50, impactIntervalMillis: 0 }))
})
afterAll(async () => {
  clearInterval(pushing)
  await client?.close()
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

/**
 * Exports `http.server.request.duration` of checkout as an SDK does: cumulative points with
 * a fixed start, each adding 20 requests that took 900 to 1000 ms (p99 = 999 ms).
 */
function exporter(): (ts: number) => Promise<void> {
  const start = Date.now() - 60_000
  const counts = new Array<number>(BOUNDS.length + 1).fill(0)
  return async (ts) => {
    counts[BOUNDS.length - 1]! += 20
    const total = counts.reduce((a, b) => a + b, 0)
    const res = await fetch(`${url}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceMetrics: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }] },
            scopeMetrics: [
              {
                metrics: [
                  {
                    name: 'http.server.request.duration',
                    unit: 'ms',
                    histogram: {
                      aggregationTemporality: 2,
                      dataPoints: [
                        {
                          timeUnixNano: nanos(ts),
                          startTimeUnixNano: nanos(start),
                          count: String(total),
                          sum: total * 950,
                          bucketCounts: counts.map(String),
                          explicitBounds: BOUNDS,
                        },
                      ],
                    },
                  },
                ],
              },
            ],
          },
        ],
      }),
    })
    expect(res.status).toBe(200)
  }
}

async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMillis = 20_000): Promise<void> {
  const deadline = performance.now() + timeoutMillis
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe('the control loop, end to end', () => {
  it('lowers the knob when the p99 breaks the SLO, the app sees it live, and the change log says why', async () => {
    client = connect({ url, service: 'checkout', startupTimeoutMillis: 5_000 })
    const workers = client.knob('workers', {
      type: 'int',
      default: 40,
      min: 1,
      max: 200,
      unit: '{worker}',
      description: 'worker pool size',
    })
    expect(await client.ready()).toBe('collector')
    expect(client.status).toBe('streaming')
    const changes: KnobChange<number>[] = []
    workers.on('change', (_v, c) => changes.push(c))

    const slo = await call('PUT', '/api/v1/slos/checkout/latency', {
      sli: { type: 'latency', metric: 'http.server.request.duration', percentile: 99, threshold_ms: 300 },
      objective: 99.9,
      window: '30d',
      actor: 'alice',
      reason: 'checkout must answer in 300 ms',
    })
    expect(slo.status).toBe(201)
    const ctl = await call('PUT', '/api/v1/controllers/checkout/workers-p99', {
      knob: 'workers',
      slo: 'latency',
      algorithm: 'aimd',
      interval_ms: 1000,
      mode: 'active',
      actor: 'alice',
      reason: 'shed load when checkout is slow',
    })
    expect(ctl.status, JSON.stringify(ctl.body)).toBe(201)
    expect(ctl.body.knob_mode).toBe('auto')

    // No data yet: the controller holds, and says so once.
    await waitFor(
      async () =>
        (await call('GET', '/api/v1/controllers?service=checkout')).body.controllers[0].holding?.kind === 'no_data',
      'the no-data hold',
    )

    // The app's metrics arrive: 25 s of history, then a point every 200 ms as an exporter would send.
    const send = exporter()
    for (let t = Date.now() - 25_000; t < Date.now() - 1000; t += 5_000) await send(t)
    pushing = setInterval(() => {
      void send(Date.now())
    }, 200)

    await waitFor(() => workers.value < 40, 'the controller to lower workers')
    clearInterval(pushing)
    // aimd multiplies by 0.8 over the target, and the SLO burns 1000 times too fast, so the step
    // is four of them at once (burnSpeedup 4): 40 × 0.8⁴ = 16; the cooldown holds it there.
    expect(workers.value).toBe(16)
    const change = changes.find((c) => c.value === 16)!
    expect(change).toMatchObject({ previous: 40, changedBy: 'controller:workers-p99', mode: 'auto' })
    expect(change.reason).toMatch(
      /p99 of http\.server\.request\.duration 999 ms over the last 30 s, target 300 ms, burn rate 1000/,
    )

    // The change log explains it.
    const knobEvents = (await call('GET', '/api/v1/events?kind=knob&service=checkout')).body.events
    const event = knobEvents.find((e: { actor: string }) => e.actor === 'controller:workers-p99')
    expect(event).toMatchObject({
      title: 'controller:workers-p99 set checkout/workers 40 → 16',
      data: { before: 40, after: 16, mode: 'auto' },
    })
    expect(event.text).toMatch(
      /^SLI 999 over target 300 \(\+233 %\): 40 → 16 \(aimd, ×0\.41, step ×4 at burn rate 1000×\) — p99 of http\.server\.request\.duration 999 ms over the last 30 s, target 300 ms, burn rate 1000 \(SLO checkout\/latency\)$/,
    )
    const controllerEvents = (await call('GET', '/api/v1/events?kind=controller&service=checkout')).body.events.map(
      (e: { title: string }) => e.title,
    )
    expect(controllerEvents.filter((t: string) => t.includes('no data'))).toHaveLength(1)

    // And the API shows what the controller saw and did.
    const listed = (await call('GET', '/api/v1/controllers?service=checkout')).body.controllers[0]
    expect(listed.last_observation).toMatchObject({ target: 300, value: 40 })
    expect(listed.last_observation.sli).toBeCloseTo(999, 3)
    expect(listed.last_decision).toMatchObject({ kind: 'lower', value: 16, applied: true })
  })
})
