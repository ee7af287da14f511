import { JsonMetricsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics'
import { decodeOtlpProto } from '/work/main/collector/src/decode/otlp-proto.ts'
import { decodeOtlpJson } from '/work/main/collector/src/decode/otlp-json.ts'
import { SeriesCache } from '/work/main/collector/src/model/series-cache.ts'
class R extends MetricReader { async onForceFlush() {} async onShutdown() {} }
const reader = new R()
const mp = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': 'svc', 'host.name': 'host-1', 'k8s.pod.name': 'pod-abc' }), readers: [reader] })
const m = mp.getMeter('bench')
const c = m.createCounter('http.server.requests')
const h = m.createHistogram('http.server.duration')
for (let i = 0; i < 5000; i++) {
  const a = { 'http.route': `/api/v1/items/${i % 500}`, 'http.method': 'GET', 'http.status_code': 200 + (i % 5), instance: `i-${i}` }
  c.add(1, a); h.record(i % 100, a)
}
const { resourceMetrics } = await reader.collect()
const proto = ProtobufMetricsSerializer.serializeRequest(resourceMetrics)!
const jsonText = new TextDecoder().decode(JsonMetricsSerializer.serializeRequest(resourceMetrics)!)
console.log('proto bytes', proto.length, 'json bytes', jsonText.length)
const cache = new SeriesCache()
function bench(name: string, fn: () => void) {
  for (let i = 0; i < 20; i++) fn()
  const t = performance.now(); const n = 50
  for (let i = 0; i < n; i++) fn()
  const ms = (performance.now() - t) / n
  console.log(name, ms.toFixed(2), 'ms/request', (10000 / ms * 1000).toFixed(0), 'points/s')
}
bench('proto', () => decodeOtlpProto(proto, cache))
bench('json (parse+decode)', () => decodeOtlpJson(JSON.parse(jsonText), cache))
const parsed = JSON.parse(jsonText)
bench('json decode only', () => decodeOtlpJson(parsed, cache))
const fake = { resolve: (f: any) => ({ id: 1n, ...f }) } as unknown as SeriesCache
bench('proto, no-op cache', () => decodeOtlpProto(proto, fake))
bench('json decode only, no-op cache', () => decodeOtlpJson(parsed, fake))
