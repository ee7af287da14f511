/** Small OTLP/JSON request builders for tests that need exact control over the body. */

export interface GaugePoint {
  ts: number
  value: number
  attrs?: Record<string, string>
}

export function nanos(ms: number): string {
  return `${ms}000000`
}

function attributes(attrs: Record<string, string> = {}) {
  return Object.entries(attrs).map(([key, v]) => ({ key, value: { stringValue: v } }))
}

/** An ExportMetricsServiceRequest with one gauge metric per entry of `metrics`. */
export function gaugeRequest(service: string, metrics: Record<string, GaugePoint[]>): object {
  return {
    resourceMetrics: [
      {
        resource: { attributes: attributes({ 'service.name': service }) },
        scopeMetrics: [
          {
            scope: { name: 'test' },
            metrics: Object.entries(metrics).map(([name, points]) => ({
              name,
              gauge: {
                dataPoints: points.map((p) => ({
                  timeUnixNano: nanos(p.ts),
                  asDouble: p.value,
                  attributes: attributes(p.attrs),
                })),
              },
            })),
          },
        ],
      },
    ],
  }
}
