import { createServer, type Server } from 'node:http'
import type { FastifyInstance } from 'fastify'
import { freePort, startServer } from '../helpers/server.ts'
import { ok, pointTimes, sendLatency, sendSelfMetrics } from './seed.ts'

/** A collector with the dashboards' test data, and the webhook sinks it delivers to. */
export interface SeededStack {
  app: FastifyInstance
  close(): Promise<void>
}

/** `t0`: a whole minute about 40 minutes ago, where the seeded points start. */
export function timeline(now = Date.now()): { t0: number } {
  return { t0: Math.floor((now - 40 * 60_000) / 60_000) * 60_000 }
}

/**
 * Waits until the seeded points are visible to queries through the store's client: the
 * receivers may acknowledge a request once its points are durable (in the write-ahead log)
 * and before the store has committed them, so a read right after can miss them.
 */
async function visible(app: FastifyInstance, points: number): Promise<void> {
  const query = `SELECT (SELECT count() FROM governor.histograms) AS h, (SELECT count() FROM governor.samples) AS s, (SELECT count() FROM governor.series FINAL) AS series`
  const want = { h: 2 * points, s: 6 * points, series: 8 }
  const deadline = Date.now() + 10_000
  for (;;) {
    const rs = await app.governor.store.client.query({
      query,
      format: 'JSONEachRow',
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    })
    const [got] = await rs.json<typeof want>()
    if (got !== undefined && got.h === want.h && got.s === want.s && got.series === want.series) return
    if (Date.now() > deadline)
      throw new Error(`seeded data not visible: ${JSON.stringify(got)}, want ${JSON.stringify(want)}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** A sink answering every delivery with `status`. */
async function sink(status: number, servers: Server[]): Promise<string> {
  const port = await freePort()
  const srv = createServer((req, res) => {
    req.resume()
    req.on('end', () => res.writeHead(status).end())
  }).listen(port, '127.0.0.1')
  servers.push(srv)
  return `http://127.0.0.1:${port}/hook`
}

/**
 * Starts a collector (one store) with two webhook sinks, `audit` (answers 204) and `flaky`
 * (answers 500), and records through the real receivers and API: the metrics of `seed.ts`;
 * deploys of checkout 1.4.1 (bob, t0 + 1 min) and 1.4.2 (alice, t0 + 10 min) to production,
 * 2.0.0 (carol) to staging, payments 3.1 (dave); knobs `workers` (20 → 40 by alice → 32 by
 * `controller:workers-p99`) and `cache` (bool, true); a shadow and a hold controller event;
 * SLOs `latency` (p99 under 500 ms, 99 %, 30d) and `errors` (5xx, 99.9 %, 7d).
 */
export async function seedStack(t0: number): Promise<SeededStack> {
  const servers: Server[] = []
  const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`
  const sinks = [
    { name: 'audit', type: 'webhook', url: await sink(204, servers), secret },
    { name: 'flaky', type: 'webhook', url: await sink(500, servers), secret },
  ]
  const { app } = await startServer({
    sinks: JSON.stringify(sinks),
    webhookAllowPrivate: 1,
    webhookScanIntervalMillis: 50,
    impactIntervalMillis: 0,
  })
  const ts = pointTimes(t0, Date.now())
  await sendLatency(app, ts)
  await sendSelfMetrics(app, ts)
  const deploy = { service: 'checkout', environment: 'production' }
  await ok(app, 'POST', '/deploys', { ...deploy, version: '1.4.1', actor: 'bob', started_at: t0 + 60_000 })
  await ok(app, 'POST', '/deploys', { ...deploy, version: '1.4.2', actor: 'alice', started_at: t0 + 10 * 60_000 })
  await ok(app, 'POST', '/deploys', {
    ...deploy,
    environment: 'staging',
    version: '2.0.0',
    actor: 'carol',
    started_at: t0 + 15 * 60_000,
  })
  await ok(app, 'POST', '/deploys', {
    service: 'payments',
    version: '3.1',
    actor: 'dave',
    started_at: t0 + 20 * 60_000,
  })
  await ok(app, 'PUT', '/knobs/checkout/workers', { type: 'int', default: 20, min: 1, max: 200 })
  await ok(app, 'PUT', '/knobs/checkout/cache', { type: 'bool', default: true })
  await ok(app, 'POST', '/knobs/checkout/workers/value', { value: 40, actor: 'alice', reason: 'queue backing up' }, 200)
  await ok(
    app,
    'POST',
    '/knobs/checkout/workers/value',
    { value: 32, actor: 'controller:workers-p99', reason: 'SLI over target' },
    200,
  )
  const controllerEvent = { kind: 'controller', service: 'checkout', actor: 'controller:workers-p99' }
  await ok(app, 'POST', '/events', {
    ...controllerEvent,
    title: 'controller checkout/workers-p99 (shadow) would lower workers 40 → 32',
    tags: ['workers-p99', 'shadow', 'lower'],
  })
  await ok(app, 'POST', '/events', {
    ...controllerEvent,
    title: 'controller checkout/workers-p99 holds workers at 32: stale data',
    tags: ['workers-p99', 'hold', 'stale'],
  })
  const slo = { objective: 99, window: '30d', actor: 'alice', reason: 'agreed' }
  await ok(app, 'PUT', '/slos/checkout/latency', {
    ...slo,
    sli: { type: 'latency', metric: 'http.server.request.duration', percentile: 99, threshold_ms: 500 },
  })
  await ok(app, 'PUT', '/slos/checkout/errors', {
    ...slo,
    objective: 99.9,
    window: '7d',
    sli: {
      type: 'error_ratio',
      metric: 'http.server.request.duration',
      errors: { 'http.response.status_code': '5xx' },
    },
  })
  await visible(app, ts.length)
  return {
    app,
    async close() {
      await app.close()
      for (const s of servers) s.close()
    },
  }
}
