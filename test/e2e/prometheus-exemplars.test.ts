import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { Counter, Histogram, Registry, type OpenMetricsContentType } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startPrometheus, stop, type Server } from '../../bench/lib/peer-servers.ts'
import { startServer } from '../helpers/server.ts'
import { hasPeer } from '../setup/debian-peers.ts'

// A prom-client registry records exemplars (trace ids) on a counter and a histogram and exposes
// them in the OpenMetrics format; a real Prometheus (Debian's 2.42, exemplar storage on) scrapes
// it and remote-writes to Governor with send_exemplars. Governor's query_exemplars must answer
// what Prometheus' own answers for the same query and range.

let governor: FastifyInstance
let governorUrl: string
let target: HttpServer
let prometheus: Server | undefined
let promDir: string

const registry = new Registry<OpenMetricsContentType>()
// Exemplars are exposed in the OpenMetrics format only.
registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE)
const orders = new Counter<string>({
  name: 'shop_orders_total',
  help: 'Orders taken.',
  labelNames: ['method'],
  registers: [registry],
  enableExemplars: true,
})
const latency = new Histogram<string>({
  name: 'shop_latency_seconds',
  help: 'Checkout latency.',
  buckets: [0.1, 0.5, 1],
  registers: [registry],
  enableExemplars: true,
})
let scrapes = 0

type Answer = { seriesLabels: Record<string, string>; exemplars: { labels: Record<string, string> }[] }[]

async function exemplars(base: string, query: string, start: number, end: number): Promise<Answer> {
  const params = new URLSearchParams({ query, start: String(start), end: String(end) })
  const res = await fetch(`${base}/api/v1/query_exemplars?${params}`)
  const body = (await res.json()) as { status: string; data: Answer }
  expect(body.status).toBe('success')
  return body.data
    .map((s) => ({
      ...s,
      exemplars: [...s.exemplars].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    }))
    .sort((a, b) => JSON.stringify(a.seriesLabels).localeCompare(JSON.stringify(b.seriesLabels)))
}

describe.skipIf(!hasPeer('prometheus'))('exemplars from a real Prometheus', { timeout: 240_000 }, () => {
  beforeAll(async () => {
    ;({ app: governor, url: governorUrl } = await startServer({ flushIntervalMillis: 50 }))
    target = createServer((_req, res) => {
      // Each scrape records new exemplars: a trace id per scrape.
      scrapes++
      const trace = scrapes.toString(16).padStart(32, '0')
      orders.inc({ labels: { method: 'card' }, value: 1, exemplarLabels: { trace_id: trace } })
      latency.observe({ value: scrapes % 2 === 0 ? 0.3 : 0.05, exemplarLabels: { trace_id: trace, span_id: 'ab' } })
      void registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': registry.contentType })
        res.end(text)
      })
    })
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r))
    const targetAddress = `127.0.0.1:${(target.address() as AddressInfo).port}`
    promDir = mkdtempSync(join(tmpdir(), 'prometheus-exemplars-'))
    prometheus = await startPrometheus(
      promDir,
      () => `global:
  scrape_interval: 1s
scrape_configs:
  - job_name: shop
    static_configs:
      - targets: ['${targetAddress}']
remote_write:
  - url: ${governorUrl}/api/v1/write
    send_exemplars: true
    queue_config:
      batch_send_deadline: 1s
`,
      { extraArgs: ['--enable-feature=exemplar-storage'] },
    )
  }, 120_000)

  afterAll(async () => {
    await stop(prometheus)
    await new Promise((r) => target?.close(r))
    await governor?.close()
    if (promDir !== undefined) rmSync(promDir, { recursive: true, force: true })
  })

  it('answers query_exemplars as Prometheus does, for a counter and a histogram', async () => {
    const start = Math.floor(Date.now() / 1000) - 60
    // Once Prometheus has a few scrapes' exemplars, take a range that ends before the latest:
    // both sides then hold all of it (Governor receives it within a send or two).
    for (let i = 0; i < 600 && scrapes < 5; i++) await new Promise((r) => setTimeout(r, 100))
    const end = Date.now() / 1000 - 1
    for (const query of ['shop_orders_total', 'histogram_quantile(0.9, rate(shop_latency_seconds_bucket[1m]))']) {
      const want = await exemplars(`${prometheus!.url}`, query, start, end)
      expect(want.length).toBeGreaterThan(0)
      expect(want.flatMap((s) => s.exemplars).length).toBeGreaterThan(1)
      let got: Answer = []
      for (let i = 0; i < 300; i++) {
        got = await exemplars(`${governorUrl}/prometheus`, query, start, end)
        if (JSON.stringify(got) === JSON.stringify(want)) break
        await new Promise((r) => setTimeout(r, 100))
      }
      expect(got).toEqual(want)
    }
  })
})
