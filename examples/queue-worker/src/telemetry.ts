import type { Histogram } from '@opentelemetry/api'
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics'

/** Where and how often the worker's metrics go. */
export interface TelemetryOptions {
  /** Governor's base URL; metrics go to `<url>/v1/metrics` (OTLP/HTTP, protobuf). */
  url: string
  /** An `ingest` token, sent as `Authorization: Bearer`; none in Governor's open local mode. */
  token: string | undefined
  service: string
  exportIntervalMillis: number
}

/** What the gauges read at each export. */
export interface QueueGauges {
  /** Age of the oldest waiting job, ms. */
  lagMillis(): number
  /** Jobs waiting. */
  depth(): number
  /** The worker pool's size now. */
  workers(): number
}

/** The worker's instruments and the provider that exports them. */
export interface Telemetry {
  provider: MeterProvider
  /** `http.client.request.duration` in seconds: each downstream call (OTel HTTP client convention). */
  downstreamDuration: Histogram
}

/**
 * The OpenTelemetry SDK as any app sets it up, pointed at Governor: `queue.lag` (ms) and
 * `queue.depth` as observable gauges read at each export, the pool size as `queue.workers`,
 * and the downstream calls' durations as a histogram with a bucket bound at 250 ms, the
 * guard SLO's threshold (Governor counts a bucket as above the threshold from its lower bound).
 */
export function startTelemetry(o: TelemetryOptions, gauges: QueueGauges): Telemetry {
  const exporter = new OTLPMetricExporter({
    url: `${o.url}/v1/metrics`,
    headers: o.token === undefined ? {} : { Authorization: `Bearer ${o.token}` },
  })
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': o.service }),
    readers: [
      new PeriodicExportingMetricReader({
        exporter,
        exportIntervalMillis: o.exportIntervalMillis,
        exportTimeoutMillis: Math.min(o.exportIntervalMillis, 10_000),
      }),
    ],
  })
  const meter = provider.getMeter('queue-worker')
  meter
    .createObservableGauge('queue.lag', { unit: 'ms', description: 'Age of the oldest job waiting in the queue.' })
    .addCallback((r) => r.observe(gauges.lagMillis()))
  meter
    .createObservableGauge('queue.depth', { unit: '{job}', description: 'Jobs waiting in the queue.' })
    .addCallback((r) => r.observe(gauges.depth()))
  meter
    .createObservableGauge('queue.workers', { unit: '{worker}', description: 'Size of the worker pool.' })
    .addCallback((r) => r.observe(gauges.workers()))
  const downstreamDuration = meter.createHistogram('http.client.request.duration', {
    unit: 's',
    description: 'Duration of calls to the downstream service.',
    advice: { explicitBucketBoundaries: [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.5, 1, 2.5] },
  })
  return { provider, downstreamDuration }
}
