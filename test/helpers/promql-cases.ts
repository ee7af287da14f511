import { seeded } from './random.ts'
import type { WriteSeries, SampleValue } from './remote-write.ts'

/**
 * The data and the queries that Governor's PromQL answers are compared on against a real
 * Prometheus (test/e2e/promql-vs-prometheus.test.ts). The data is seeded, so every run writes
 * the same points: counters with resets, gauges with a gap, a stale marker and a NaN, a
 * classic histogram with `le` buckets and its `_sum` and `_count`.
 *
 * Queries are plain strings, each run as an instant query at every time of `INSTANT_OFFSETS`
 * and as a range query over the data. The prometheus/compliance query set has its own data and
 * list: promql-compliance-data.ts and promql-compliance-queries.ts.
 */

/** Sample interval of the seeded series. */
export const INTERVAL_MILLIS = 15_000
/** How long the seeded data lasts. */
export const SPAN_MILLIS = 60 * 60_000

/** Instant query times, as offsets from the start of the data. */
export const INSTANT_OFFSETS = [
  5 * 60_000,
  17 * 60_000 + 7_500,
  30 * 60_000,
  46 * 60_000,
  SPAN_MILLIS + 2 * 60_000,
] as const
/** Range query step. */
export const RANGE_STEP_MILLIS = 60_000

/** The seeded series, from `start` (epoch ms, a whole minute). */
export function seededSeries(start: number): WriteSeries[] {
  const rnd = seeded(42)
  const n = SPAN_MILLIS / INTERVAL_MILLIS
  const times = Array.from({ length: n }, (_, i) => start + i * INTERVAL_MILLIS)
  const out: WriteSeries[] = []

  // Counters: steady climbs, one with a reset half-way.
  for (const [instance, code, resetAt] of [
    ['a:1', '200', -1],
    ['a:1', '500', n / 2],
    ['b:1', '200', -1],
  ] as const) {
    let v = 0
    out.push({
      labels: { __name__: 'http_requests_total', job: 'api', instance, code },
      samples: times.map((t, i) => {
        if (i === resetAt) v = 0
        v += Math.floor(rnd() * 10)
        return [t, v] as const
      }),
    })
  }

  // Gauges: a random walk; the second has a 10-minute gap and a NaN; `up` of a:1 goes stale.
  for (const [instance, gap] of [
    ['a:1', false],
    ['b:1', true],
  ] as const) {
    let v = 20
    const samples: [number, SampleValue][] = []
    times.forEach((t, i) => {
      v += rnd() - 0.5
      if (gap && i >= 80 && i < 120) return
      samples.push([t, gap && i === 150 ? NaN : Math.round(v * 1000) / 1000])
    })
    out.push({ labels: { __name__: 'temperature_celsius', job: 'sensors', instance }, samples })
  }
  const up: [number, SampleValue][] = []
  times.forEach((t, i) => {
    if (i === 100) up.push([t, 'stale'])
    else if (i < 100 || i >= 140) up.push([t, 1])
  })
  out.push({ labels: { __name__: 'up', job: 'api', instance: 'a:1' }, samples: up })
  out.push({ labels: { __name__: 'up', job: 'api', instance: 'b:1' }, samples: times.map((t) => [t, 1] as const) })

  // A classic histogram: cumulative bucket counters, +Inf equal to _count.
  const bounds = ['0.05', '0.1', '0.25', '0.5', '1', '+Inf']
  for (const route of ['/pay', '/cart']) {
    const counts = bounds.map(() => 0)
    let sum = 0
    const series = bounds.map((le) => ({
      labels: { __name__: 'request_duration_seconds_bucket', job: 'api', route, le },
      samples: [] as [number, number][],
    }))
    const sums: [number, number][] = []
    const totals: [number, number][] = []
    for (const t of times) {
      for (let k = 0; k < 5; k++) {
        const d = rnd() ** 2
        sum += d
        bounds.forEach((b, j) => {
          if (b === '+Inf' || d <= Number(b)) counts[j]!++
        })
      }
      series.forEach((s, j) => s.samples.push([t, counts[j]!]))
      sums.push([t, Math.round(sum * 1e6) / 1e6])
      totals.push([t, counts[counts.length - 1]!])
    }
    out.push(...series)
    out.push({ labels: { __name__: 'request_duration_seconds_sum', job: 'api', route }, samples: sums })
    out.push({ labels: { __name__: 'request_duration_seconds_count', job: 'api', route }, samples: totals })
  }
  return out
}

/** The queries, each compared as instant and as range query. */
export const QUERIES: readonly string[] = [
  // Literals and functions of no series.
  '1 + 1',
  'vector(1)',
  'time()',
  'scalar(vector(2)) * 3',
  '"a string"',
  // Selectors.
  'up',
  'http_requests_total',
  'http_requests_total{code="500"}',
  'http_requests_total{code=~"5.."}',
  'http_requests_total{code!="200"}',
  '{__name__=~"temperature_.*"}',
  'temperature_celsius offset 5m',
  'request_duration_seconds_bucket{le="+Inf"}',
  'temperature_celsius{instance="b:1"}',
  // Range functions.
  'rate(http_requests_total[5m])',
  'irate(http_requests_total[5m])',
  'increase(http_requests_total[10m])',
  'resets(http_requests_total[30m])',
  'delta(temperature_celsius[10m])',
  'idelta(temperature_celsius[5m])',
  'deriv(temperature_celsius[10m])',
  'changes(temperature_celsius[30m])',
  'avg_over_time(temperature_celsius[10m])',
  'min_over_time(temperature_celsius[10m])',
  'max_over_time(temperature_celsius[10m])',
  'sum_over_time(temperature_celsius[10m])',
  'count_over_time(temperature_celsius[10m])',
  'last_over_time(up[10m])',
  'quantile_over_time(0.5, temperature_celsius[10m])',
  'stddev_over_time(temperature_celsius[10m])',
  'stdvar_over_time(temperature_celsius[10m])',
  'present_over_time(up[5m])',
  'absent_over_time(up[1m])',
  'predict_linear(temperature_celsius[10m], 600)',
  'holt_winters(temperature_celsius[10m], 0.5, 0.5)',
  'rate(http_requests_total[5m] offset 10m)',
  // Aggregations.
  'sum(rate(http_requests_total[5m]))',
  'sum by (code) (rate(http_requests_total[5m]))',
  'avg without (instance) (temperature_celsius)',
  'count by (job) (up)',
  'max(temperature_celsius)',
  'min by (job) (temperature_celsius)',
  'topk(1, temperature_celsius)',
  'bottomk(2, http_requests_total)',
  'quantile(0.9, temperature_celsius)',
  'stddev(temperature_celsius)',
  'group by (job) (up)',
  'count_values("v", up)',
  // Histograms.
  'histogram_quantile(0.9, sum by (le) (rate(request_duration_seconds_bucket[5m])))',
  'histogram_quantile(0.5, rate(request_duration_seconds_bucket[10m]))',
  'rate(request_duration_seconds_sum[5m]) / rate(request_duration_seconds_count[5m])',
  // Operators.
  'temperature_celsius - 20',
  'abs(temperature_celsius - 20)',
  'http_requests_total > 100',
  'http_requests_total > bool 100',
  'sum(temperature_celsius) / count(temperature_celsius)',
  'rate(http_requests_total{code="500"}[5m]) / ignoring(code) rate(http_requests_total{code="200"}[5m])',
  'up and on(instance) temperature_celsius',
  'up or temperature_celsius',
  'up unless on(instance) temperature_celsius',
  'http_requests_total / on(instance) group_left up',
  '2 ^ 3 % 5',
  '-up',
  // Other functions.
  'absent(nonexistent)',
  'absent(up)',
  'timestamp(up)',
  'round(temperature_celsius, 0.5)',
  'clamp_max(temperature_celsius, 20)',
  'clamp(temperature_celsius, 19, 21)',
  'ceil(temperature_celsius)',
  'floor(temperature_celsius)',
  'sqrt(http_requests_total)',
  'ln(http_requests_total + 1)',
  'exp(up)',
  'sgn(temperature_celsius - 20)',
  'label_replace(up, "host", "$1", "instance", "(.*):.*")',
  'label_join(up, "both", "-", "job", "instance")',
  'sort(temperature_celsius)',
  'sort_desc(http_requests_total)',
  'minute(timestamp(up))',
  'hour()',
  'day_of_week()',
  'scalar(up)',
  'vector(time())',
  // Subqueries and the @ modifier.
  'max_over_time(rate(http_requests_total[5m])[10m:1m])',
  'avg_over_time(temperature_celsius[10m:30s])',
  'sum_over_time(http_requests_total[1h:5m])',
  'http_requests_total @ end()',
  'rate(http_requests_total[5m] @ start())',
  'count_over_time(up[10m])',
  // Nothing to select, and errors (compared by errorType).
  'nonexistent_metric',
  'rate(nonexistent[5m])',
  'sum(nonexistent)',
  'http_requests_total[5m]',
  'rate(up)',
  'sum by (',
  'label_replace(up, "1x", "", "", "")',
]
