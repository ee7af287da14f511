import type { Histogram } from '@opentelemetry/api'
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics'

/** What the demo's metrics are sent with. */
export interface TelemetryOptions {
  /** Governor's base URL; metrics go to `<url>/v1/metrics` (OTLP/HTTP, protobuf). */
  url: string
  /** An `ingest` token, sent as `Authorization: Bearer`; none in Governor's open local mode. */
  token: string | undefined
  service: string
  version: string
  environment: string
  exportIntervalMillis: number
}

/** The demo's instruments and the provider that exports them. */
export interface Telemetry {
  provider: MeterProvider
  /** `http.server.request.duration` in seconds, the OTel HTTP semantic convention Governor reads. */
  requestDuration: Histogram
}

/**
 * The OpenTelemetry SDK as any app sets it up: a resource naming the service, its version
 * and environment (Governor lines points up with deploys by `service.version`), and the
 * OTLP/HTTP exporter pointed at Governor.
 */
export function startTelemetry(o: TelemetryOptions): Telemetry {
  const exporter = new OTLPMetricExporter({
    url: `${o.url}/v1/metrics`,
    headers: o.token === undefined ? {} : { Authorization: `Bearer ${o.token}` },
  })
  const provider = new MeterProvider({
    resource: resourceFromAttributes({
      'service.name': o.service,
      'service.version': o.version,
      'deployment.environment.name': o.environment,
    }),
    readers: [
      new PeriodicExportingMetricReader({
        exporter,
        exportIntervalMillis: o.exportIntervalMillis,
        exportTimeoutMillis: Math.min(o.exportIntervalMillis, 10_000),
      }),
    ],
  })
  const meter = provider.getMeter('demo-app')
  const requestDuration = meter.createHistogram('http.server.request.duration', {
    unit: 's',
    description: 'Duration of HTTP server requests.',
    advice: { explicitBucketBoundaries: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5] },
  })
  return { provider, requestDuration }
}
