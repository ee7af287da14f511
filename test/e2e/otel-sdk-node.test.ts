import { format } from 'node:util'
import { diag, DiagLogLevel, metrics, trace } from '@opentelemetry/api'
import { logs, SeverityNumber } from '@opentelemetry/api-logs'
import { NodeSDK } from '@opentelemetry/sdk-node'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer } from '../helpers/server.ts'

// An app that starts @opentelemetry/sdk-node with its defaults exports traces, metrics and logs
// over OTLP/HTTP protobuf to :4318. The one setting given here is the endpoint (Governor's test
// port in place of the default). Governor stores the metrics, answers the traces and logs with
// a partial success, and the SDK exports and shuts down without an error in its log.

let app: FastifyInstance
let url: string
beforeAll(async () => {
  ;({ app, url } = await startServer())
})
afterAll(async () => {
  await app?.close()
})

/** Every line the SDK logs through its diagnostic logger, with its level. */
const lines: { level: string; message: string }[] = []
const record =
  (level: string) =>
  (message: string, ...args: unknown[]) => {
    lines.push({ level, message: format(message, ...args) })
  }

describe('@opentelemetry/sdk-node with its defaults', () => {
  it('exports every signal and shuts down cleanly; the metrics are stored, the spans and log records counted', async () => {
    diag.setLogger(
      {
        error: record('error'),
        warn: record('warn'),
        info: record('info'),
        debug: record('debug'),
        verbose: record('verbose'),
      },
      DiagLogLevel.ALL,
    )
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = url
    process.env.OTEL_SERVICE_NAME = 'sdk-node-app'
    const sdk = new NodeSDK()
    sdk.start()

    trace.getTracer('sdk-node-e2e').startActiveSpan('place order', (span) => {
      span.setAttribute('order.id', 42)
      span.end()
    })
    metrics
      .getMeter('sdk-node-e2e')
      .createCounter('sdk.orders', { description: 'orders placed' })
      .add(3, { region: 'eu' })
    logs
      .getLogger('sdk-node-e2e')
      .emit({ severityNumber: SeverityNumber.INFO, severityText: 'INFO', body: 'order 42 placed' })

    await sdk.shutdown() // exports what is left: one request a signal
    diag.disable()

    expect(lines.filter((l) => l.level === 'error')).toEqual([])
    // The partial successes reach the app's log as warnings (where the SDK puts them), saying why.
    const warnings = lines.filter((l) => l.level === 'warn').map((l) => l.message)
    expect(warnings.filter((w) => !w.startsWith('Received Partial Success response:'))).toEqual([])
    expect(warnings.join('\n')).toContain(
      'Governor keeps metrics only: the 1 spans of this request were received and not kept',
    )
    expect(warnings.join('\n')).toContain(
      'Governor keeps metrics only: the 1 log records of this request were received and not kept',
    )

    const res = await fetch(
      `${url}/api/v1/query?${new URLSearchParams({ metric: 'sdk.orders', service: 'sdk-node-app', from: 'now-1h' })}`,
    )
    expect(res.status).toBe(200)
    const body = (await res.json()) as { series: { labels: Record<string, string>; points: number[][] }[] }
    expect(body.series).toHaveLength(1)
    expect(body.series[0]!.labels).toMatchObject({ region: 'eu', 'service.name': 'sdk-node-app' })
    expect(body.series[0]!.points.map((p) => p[1])).toEqual([3])

    const self = await (await fetch(`${url}/metrics`)).text()
    expect(self).toContain('governor_otlp_items_not_kept_total{receiver="otlp",signal="traces"} 1')
    expect(self).toContain('governor_otlp_items_not_kept_total{receiver="otlp",signal="logs"} 1')
  })
})
