import type { ChangeEvent, DeployPlan } from '../changelog/types.ts'
import type { MetricSummary, SeriesRow } from '../store/queries.ts'
import type { Expected, SignalSpec } from './types.ts'

/** Where signals find the service's metrics; `StoreQueries` is one. */
export interface SeriesSource {
  metrics(): Promise<MetricSummary[]>
  series(metric: string, service?: string): Promise<SeriesRow[]>
}

/** A signal with the series it reads: all of them, and for an error ratio the 5xx ones. */
export interface ResolvedSignal {
  spec: SignalSpec
  series: SeriesRow[]
  errorSeries?: SeriesRow[] | undefined
}

/** Request duration histograms of the OTel HTTP semantic conventions: current (s), then the older name (ms). */
export const LATENCY_METRICS = ['http.server.request.duration', 'http.server.duration'] as const
/** Attributes that carry an HTTP status: OTel (current, older), then Prometheus-style labels. */
export const STATUS_ATTRIBUTES = [
  'http.response.status_code',
  'http.status_code',
  'code',
  'status',
  'status_code',
] as const

/**
 * The signals to compare for a deploy.
 *
 * - The plan names metrics (`watch`, and the metrics of `expect`): one signal per name, by
 *   its type: p99 of a histogram or summary, rate of a counter, average of a gauge or of a
 *   non-monotonic sum. A name with no series for the service gets a signal with no series.
 * - Otherwise, what is recognised (see `defaultSignals`).
 *
 * Series of another `deployment.environment.name` (or `deployment.environment`) than the
 * deploy's are left out; series without that attribute are kept.
 */
export async function resolveSignals(source: SeriesSource, deploy: ChangeEvent): Promise<ResolvedSignal[]> {
  const plan = (deploy.data.plan ?? null) as DeployPlan | null
  const expected = new Map<string, Expected>((plan?.expect ?? []).map((e) => [e.metric, e.change]))
  const named = [...new Set([...(plan?.watch ?? []), ...expected.keys()])]
  const ofService = async (metric: string) =>
    (await source.series(metric, deploy.service)).filter((s) => inEnvironment(s, deploy.environment))
  if (named.length > 0) {
    return Promise.all(named.map(async (metric) => planSignal(metric, await ofService(metric), expected.get(metric))))
  }
  const available = (await source.metrics()).filter((m) => m.services.includes(deploy.service))
  return defaultSignals(available, ofService)
}

function planSignal(metric: string, series: SeriesRow[], expected: Expected | undefined): ResolvedSignal {
  const first = series[0]
  const unit = first?.unit ?? ''
  const latency = (LATENCY_METRICS as readonly string[]).includes(metric)
  if (first === undefined) {
    return {
      spec: {
        metric,
        kind: 'value',
        label: metric,
        bad: badFromPlan(expected, 'any'),
        intrinsic: false,
        expected,
        source: 'plan',
        unit,
      },
      series,
    }
  }
  if (first.type === 'histogram' || first.type === 'exponential_histogram' || first.type === 'summary') {
    // A distribution: its p99. A latency one is bad going up whatever the plan says.
    if (latency)
      return {
        spec: { metric, kind: 'p99', label: 'p99 latency', bad: 'up', intrinsic: true, expected, source: 'plan', unit },
        series,
      }
    return {
      spec: {
        metric,
        kind: 'p99',
        label: `p99 of ${metric}`,
        bad: badFromPlan(expected, 'up'),
        intrinsic: false,
        expected,
        source: 'plan',
        unit,
      },
      series,
    }
  }
  const counter = first.type === 'sum' && first.monotonic
  return {
    spec: {
      metric,
      kind: counter ? 'rate' : 'value',
      label: counter ? `rate of ${metric}` : metric,
      bad: badFromPlan(expected, 'any'),
      intrinsic: false,
      expected,
      source: 'plan',
      unit,
    },
    series,
  }
}

/** The bad direction a plan's expectation implies: the opposite of what it expects; `any` for "none". */
function badFromPlan(expected: Expected | undefined, fallback: 'up' | 'any'): 'up' | 'down' | 'any' {
  if (expected === 'up') return 'down'
  if (expected === 'down') return 'up'
  if (expected === 'none') return 'any'
  return fallback
}

/**
 * The service's request signals, found by name:
 *
 * - latency: the p99 of `http.server.request.duration`, else `http.server.duration`
 *   (histogram or exponential histogram), all the service's series pooled;
 * - errors and throughput: from that histogram when its series carry a status attribute
 *   (`http.response.status_code` or `http.status_code`): error ratio = rate of the 5xx
 *   series' counts / rate of all counts, throughput = rate of all counts. Otherwise from a
 *   Prometheus-style counter: a monotonic sum named `*_total` whose series carry a `code`,
 *   `status` or `status_code` label holding an HTTP status (`500`, `5xx`); names with `http`
 *   and `request` are preferred. Without either, throughput is the histogram's count rate.
 *
 * Classic Prometheus histograms (`*_bucket` counters) are not reassembled, so their latency is
 * not recognised: name the metric in the plan to watch its `_count` rate, or send OTLP.
 */
export async function defaultSignals(
  available: MetricSummary[],
  seriesOf: (metric: string) => Promise<SeriesRow[]>,
): Promise<ResolvedSignal[]> {
  const out: ResolvedSignal[] = []
  const names = new Set(available.map((m) => m.name))
  const latencyName = LATENCY_METRICS.find(
    (n) => names.has(n) && ['histogram', 'exponential_histogram'].includes(available.find((m) => m.name === n)!.type),
  )
  let latencySeries: SeriesRow[] = []
  if (latencyName !== undefined) {
    latencySeries = await seriesOf(latencyName)
    if (latencySeries.length > 0) {
      const unit = latencySeries[0]!.unit
      out.push({
        spec: {
          metric: latencyName,
          kind: 'p99',
          label: 'p99 latency',
          bad: 'up',
          intrinsic: true,
          source: 'default',
          unit,
        },
        series: latencySeries,
      })
      if (latencySeries.some((s) => statusOf(s) !== undefined)) {
        out.push(...requestSignals(latencyName, latencySeries))
        return out
      }
    }
  }
  const counters = available
    .filter((m) => m.type === 'sum' && m.name.endsWith('_total'))
    .sort((a, b) => score(b.name) - score(a.name) || a.name.localeCompare(b.name))
  for (const c of counters) {
    const series = (await seriesOf(c.name)).filter((s) => s.monotonic)
    if (series.some((s) => isHttpStatus(statusOf(s)))) {
      out.push(...requestSignals(c.name, series))
      return out
    }
  }
  if (latencyName !== undefined && latencySeries.length > 0) out.push(throughput(latencyName, latencySeries))
  return out
}

function requestSignals(metric: string, series: SeriesRow[]): ResolvedSignal[] {
  return [
    {
      spec: {
        metric,
        kind: 'error_ratio',
        label: 'error ratio',
        bad: 'up',
        intrinsic: true,
        source: 'default',
        unit: '1',
      },
      series,
      errorSeries: series.filter((s) => is5xx(statusOf(s))),
    },
    throughput(metric, series),
  ]
}

function throughput(metric: string, series: SeriesRow[]): ResolvedSignal {
  return {
    spec: {
      metric,
      kind: 'throughput',
      label: 'throughput',
      bad: 'down',
      intrinsic: false,
      source: 'default',
      unit: '{request}/s',
    },
    series,
  }
}

function score(name: string): number {
  return (name.includes('http') ? 2 : 0) + (name.includes('request') ? 1 : 0)
}

/** The HTTP status a series carries, from the first status attribute it has. */
export function statusOf(s: SeriesRow): string | undefined {
  for (const a of STATUS_ATTRIBUTES) {
    const v = s.attributes[a]
    if (v !== undefined) return v
  }
  return undefined
}

function isHttpStatus(v: string | undefined): boolean {
  return v !== undefined && /^[1-5](\d\d|xx)$/i.test(v)
}

/** A server error: 500 to 599, or `5xx` as some exporters aggregate it. */
export function is5xx(v: string | undefined): boolean {
  return v !== undefined && /^5(\d\d|xx)$/i.test(v)
}

function inEnvironment(s: SeriesRow, environment: string): boolean {
  const env = s.resource['deployment.environment.name'] ?? s.resource['deployment.environment']
  return env === undefined || env === environment
}
