import { seeded } from './random.ts'
import type { SampleValue, WriteSeries } from './remote-write.ts'
import { INTERVAL_MILLIS, SPAN_MILLIS } from './promql-cases.ts'

/**
 * Seeded series with the names, labels and shapes of the demo service the prometheus/compliance
 * PromQL query set is written against (three instances `demo.promlabs.com:1000x` of job `demo`),
 * so that every query of promql-compliance-queries.ts has data to work on: counters
 * (`demo_cpu_usage_seconds_total` by `mode`), gauges (`demo_memory_usage_bytes` by `type`,
 * `demo_disk_usage_bytes`, `demo_num_cpus`), a batch job's last-success timestamp, a metric that
 * comes and goes with stale markers, and a classic histogram with `le` buckets, `_sum` and
 * `_count`. Same interval and span as promql-cases.ts.
 */

const INSTANCES = ['demo.promlabs.com:10000', 'demo.promlabs.com:10001', 'demo.promlabs.com:10002'] as const
const JOB = 'demo'

/** The demo series, from `start` (epoch ms, a whole minute). */
export function demoSeries(start: number): WriteSeries[] {
  const rnd = seeded(7)
  const n = SPAN_MILLIS / INTERVAL_MILLIS
  const times = Array.from({ length: n }, (_, i) => start + i * INTERVAL_MILLIS)
  const out: WriteSeries[] = []
  const series = (labels: Record<string, string>, value: (t: number, i: number) => SampleValue | undefined): void => {
    const samples: [number, SampleValue][] = []
    times.forEach((t, i) => {
      const v = value(t, i)
      if (v !== undefined) samples.push([t, v])
    })
    out.push({ labels, samples })
  }

  INSTANCES.forEach((instance, x) => {
    const base = { instance, job: JOB }
    const cpus = 2 + 2 * x
    series({ __name__: 'demo_num_cpus', ...base }, () => cpus)

    // CPU counters climb by a random share of each interval; one instance restarts half-way.
    for (const mode of ['idle', 'system', 'user']) {
      let v = 1000 * (x + 1)
      series({ __name__: 'demo_cpu_usage_seconds_total', ...base, mode }, (_, i) => {
        if (x === 1 && i === n / 2) v = 0
        v += Math.round(rnd() * 15 * cpus * 1000) / 1000
        return v
      })
    }

    // Memory gauges in bytes: random walks around a few gigabytes.
    for (const [type, level] of [
      ['buffers', 1e8],
      ['cached', 5e8],
      ['free', 2e9],
      ['used', 4e9],
    ] as const) {
      let v = level * (1 + x / 4)
      series({ __name__: 'demo_memory_usage_bytes', ...base, type }, () => {
        v = Math.max(0, Math.round(v + ((rnd() - 0.5) * level) / 50))
        return v
      })
    }

    // Disk usage grows steadily with noise; total disk is constant.
    let disk = 5e10 * (x + 1)
    series({ __name__: 'demo_disk_usage_bytes', ...base }, () => {
      disk += Math.round(rnd() * 2e6)
      return disk
    })
    series({ __name__: 'demo_disk_total_bytes', ...base }, () => 2e11)

    // A batch job that succeeds every few minutes: its last success time, in seconds.
    let last = start / 1000 - 600 * (x + 1)
    series({ __name__: 'demo_batch_last_success_timestamp_seconds', ...base }, (t, i) => {
      if (i % (12 + 4 * x) === 0) last = t / 1000
      return last
    })

    // A metric that disappears with a stale marker for a few minutes at a time.
    series({ __name__: 'demo_intermittent_metric', ...base }, (_, i) => {
      const phase = (i + 7 * x) % 40
      if (phase === 20) return 'stale'
      return phase < 20 ? 1 : undefined
    })

    series({ __name__: 'promhttp_metric_handler_requests_in_flight', ...base }, () => 1)
    for (const code of ['200', '500', '503']) {
      let v = 0
      series({ __name__: 'promhttp_metric_handler_requests_total', ...base, code }, () => {
        v += code === '200' ? 1 : rnd() < 0.05 ? 1 : 0
        return v
      })
    }

    // A classic histogram of request durations: cumulative buckets, +Inf equal to _count.
    const bounds = ['0.0001', '0.00015', '0.0002', '0.0003', '0.0005', '0.001', '+Inf']
    for (const [method, path, status] of [
      ['GET', '/api/foo', '200'],
      ['POST', '/api/bar', '200'],
      ['GET', '/api/foo', '500'],
    ] as const) {
      const labels = { ...base, method, path, status }
      const counts = bounds.map(() => 0)
      let sum = 0
      const buckets = bounds.map(() => [] as [number, number][])
      const sums: [number, number][] = []
      const totals: [number, number][] = []
      for (const t of times) {
        const k = status === '500' ? 1 : 20
        for (let j = 0; j < k; j++) {
          const d = 0.00005 + rnd() ** 2 * 0.0012
          sum += d
          bounds.forEach((b, m) => {
            if (b === '+Inf' || d <= Number(b)) counts[m]!++
          })
        }
        buckets.forEach((b, m) => b.push([t, counts[m]!]))
        sums.push([t, Math.round(sum * 1e9) / 1e9])
        totals.push([t, counts[counts.length - 1]!])
      }
      bounds.forEach((le, m) =>
        out.push({
          labels: { __name__: 'demo_api_request_duration_seconds_bucket', ...labels, le },
          samples: buckets[m]!,
        }),
      )
      out.push({ labels: { __name__: 'demo_api_request_duration_seconds_sum', ...labels }, samples: sums })
      out.push({ labels: { __name__: 'demo_api_request_duration_seconds_count', ...labels }, samples: totals })
    }
  })
  return out
}
