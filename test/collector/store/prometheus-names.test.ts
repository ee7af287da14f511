import { describe, expect, it } from 'vitest'
import {
  exposedFamilies,
  formatKey,
  isPrometheusNative,
  nameStems,
  prometheusMetricName,
  sanitizeLabelName,
  type StoredSeries,
} from '../../../collector/src/store/prometheus-names.ts'

function stored(over: Partial<StoredSeries>): StoredSeries {
  return {
    id: 1n,
    metric: 'm',
    type: 'gauge',
    temporality: 'unspecified',
    monotonic: false,
    unit: '',
    service: 'checkout',
    scope: 'io.opentelemetry.http',
    resource: { 'service.name': 'checkout', 'telemetry.sdk.name': 'opentelemetry' },
    attributes: {},
    ...over,
  }
}

describe('OpenTelemetry → Prometheus names', () => {
  it.each([
    [
      { metric: 'http.server.request.duration', unit: 's', type: 'histogram', temporality: 'cumulative' },
      'http_server_request_duration_seconds',
    ],
    [{ metric: 'system.memory.usage', unit: 'By' }, 'system_memory_usage_bytes'],
    [
      { metric: 'http.server.requests', unit: '{request}', type: 'sum', temporality: 'cumulative', monotonic: true },
      'http_server_requests_total',
    ],
    [
      { metric: 'jobs.total.done', unit: '', type: 'sum', temporality: 'cumulative', monotonic: true },
      'jobs_done_total',
    ],
    [
      { metric: 'process.cpu.time', unit: 's', type: 'sum', temporality: 'cumulative', monotonic: true },
      'process_cpu_time_seconds_total',
    ],
    [{ metric: 'cache.hit_ratio', unit: '1' }, 'cache_hit_ratio'],
    [{ metric: 'cpu.utilization', unit: '1' }, 'cpu_utilization_ratio'],
    [{ metric: 'net.io', unit: 'By/s' }, 'net_io_bytes_per_second'],
    [{ metric: 'latency_seconds', unit: 's' }, 'latency_seconds'],
    // A delta sum is no counter: no _total (its points are per-interval increments).
    [{ metric: 'orders', unit: '', type: 'sum', temporality: 'delta', monotonic: true }, 'orders'],
    [{ metric: '2xx.count' }, '_2xx_count'],
  ] as [Partial<StoredSeries>, string][])('%j → %s', (s, name) => {
    expect(prometheusMetricName(stored(s))).toBe(name)
  })

  it('sanitizes label names as Prometheus does', () => {
    expect(sanitizeLabelName('http.route')).toBe('http_route')
    expect(sanitizeLabelName('1st')).toBe('key_1st')
    expect(sanitizeLabelName('ok_name')).toBe('ok_name')
  })

  it('formats bucket bounds and quantiles as Prometheus writes them', () => {
    expect([formatKey(Infinity), formatKey(0.005), formatKey(1), formatKey(2.5)]).toEqual(['+Inf', '0.005', '1', '2.5'])
  })

  it('tells remote-written series (empty scope, resource of service.name alone, classic names) from OTLP ones', () => {
    const rw = { metric: 'http_requests_total' }
    expect(isPrometheusNative({ ...rw, scope: '', resource: { 'service.name': 'api' }, type: 'sum' })).toBe(true)
    expect(isPrometheusNative({ ...rw, scope: '', resource: {}, type: 'gauge' })).toBe(true)
    expect(isPrometheusNative({ ...rw, scope: 'meter', resource: { 'service.name': 'api' }, type: 'sum' })).toBe(false)
    expect(
      isPrometheusNative({ ...rw, scope: '', resource: { 'service.name': 'api', 'host.name': 'h' }, type: 'gauge' }),
    ).toBe(false)
    expect(isPrometheusNative({ ...rw, scope: '', resource: { 'service.name': 'api' }, type: 'histogram' })).toBe(false)
    // An OTLP request written by hand (no scope, no other resource attribute) has dotted names.
    expect(
      isPrometheusNative({
        metric: 'room.temperature',
        scope: '',
        resource: { 'service.name': 'demo' },
        type: 'gauge',
      }),
    ).toBe(false)
  })

  it('keeps a remote-written series as it was sent', () => {
    const [f, ...rest] = exposedFamilies(
      stored({
        metric: 'http_requests_total',
        type: 'sum',
        scope: '',
        resource: { 'service.name': 'api' },
        attributes: { job: 'api', instance: 'a:9090', 'odd.key': 'x' },
      }),
    )
    expect(rest).toHaveLength(0)
    expect(f!.labels).toEqual({ __name__: 'http_requests_total', job: 'api', instance: 'a:9090', 'odd.key': 'x' })
  })

  it('exposes an OTLP histogram as _bucket{le}, _sum and _count with job and instance from the resource', () => {
    const fams = exposedFamilies(
      stored({
        metric: 'http.server.request.duration',
        unit: 's',
        type: 'histogram',
        temporality: 'cumulative',
        resource: { 'service.name': 'checkout', 'service.namespace': 'shop', 'service.instance.id': 'pod-1' },
        attributes: { 'http.route': '/pay' },
      }),
    )
    expect(fams.map((f) => [f.labels.__name__, f.part, f.keyLabel, f.ownName])).toEqual([
      ['http_server_request_duration_seconds_bucket', 'bucket', 'le', 'http.server.request.duration_bucket'],
      ['http_server_request_duration_seconds_sum', 'sum', undefined, 'http.server.request.duration_sum'],
      ['http_server_request_duration_seconds_count', 'count', undefined, 'http.server.request.duration_count'],
    ])
    expect(fams[0]!.labels).toEqual({
      __name__: 'http_server_request_duration_seconds_bucket',
      http_route: '/pay',
      job: 'shop/checkout',
      instance: 'pod-1',
    })
  })

  it('exposes a summary as {quantile}, _sum and _count', () => {
    expect(
      exposedFamilies(stored({ metric: 'rpc.latency', unit: 'ms', type: 'summary' })).map((f) => f.labels.__name__),
    ).toEqual(['rpc_latency_milliseconds', 'rpc_latency_milliseconds_sum', 'rpc_latency_milliseconds_count'])
  })

  it('gives stems that include the stored name of any exposed name', () => {
    expect(nameStems('http_server_request_duration_seconds_bucket')).toContain('http_server_request_duration')
  })
})
