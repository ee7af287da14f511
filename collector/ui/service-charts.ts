import { api, qs } from './api.ts'
import { timeChart, type Line } from './chart.ts'
import { errorBox, h } from './dom.ts'
import type { ChangeEvent, Knob, KnobDetail, MetricInfo, QueryAnswer } from './types.ts'

/** The time range of a page, and the step of its aggregates. */
export interface ChartRange {
  from: number
  to: number
  stepSeconds: number
}

/** HTTP server latency histograms, by OpenTelemetry's semantic conventions (newest name first). */
const HTTP_LATENCY = ['http.server.request.duration', 'http.server.duration']
const STATUS_ATTRS = ['http.response.status_code', 'http.status_code']
/** Charts of other metrics beyond the HTTP ones, at most. */
const MAX_OTHER = 12

const HISTOGRAMS = new Set(['histogram', 'exponential_histogram'])

function query(metric: string, service: string, r: ChartRange, agg: string, by = 'service'): Promise<QueryAnswer> {
  return api<QueryAnswer>(`/query${qs({ metric, service, from: r.from, to: r.to, step: r.stepSeconds, agg, by })}`)
}

/** Points of every series of an answer, in one line when the answer is grouped by service. */
function firstLine(a: QueryAnswer, label: string, scale = 1): Line {
  return { label, points: (a.series[0]?.points ?? []).map((p) => [p[0]!, p[1]! * scale]) }
}

/** A chart, or the reason it could not be drawn. */
async function chart(
  title: string,
  build: () => Promise<{ unit: string; lines: Line[] }>,
  r: ChartRange,
  changes: readonly ChangeEvent[],
): Promise<HTMLElement> {
  try {
    const { unit, lines } = await build()
    return timeChart({ title, unit, lines, changes, from: r.from, to: r.to })
  } catch (err) {
    return h('figure', { class: 'chart' }, h('figcaption', null, title), errorBox(err))
  }
}

/**
 * The charts of a service: latency (p50, p99), throughput and the 5xx share from its HTTP
 * server histogram when it has one, then each other metric (histograms as p99, counters as a
 * rate, gauges as an average).
 */
export function metricCharts(
  service: string,
  metrics: readonly MetricInfo[],
  r: ChartRange,
  changes: readonly ChangeEvent[],
): Promise<HTMLElement[]> {
  const http = metrics.find((m) => HTTP_LATENCY.includes(m.name) && HISTOGRAMS.has(m.type))
  const charts: Promise<HTMLElement>[] = []
  if (http !== undefined) {
    const toMs = http.unit === 's' ? 1000 : http.unit === 'us' ? 0.001 : 1
    const unit = http.unit === 's' || http.unit === 'us' || http.unit === 'ms' ? 'ms' : http.unit
    charts.push(
      chart(
        'Latency',
        async () => {
          const [p50, p99] = await Promise.all([
            query(http.name, service, r, 'p50'),
            query(http.name, service, r, 'p99'),
          ])
          return { unit, lines: [firstLine(p50, 'p50', toMs), firstLine(p99, 'p99', toMs)] }
        },
        r,
        changes,
      ),
    )
    charts.push(
      chart(
        'Errors',
        async () => {
          const a = await query(http.name, service, r, 'rate', STATUS_ATTRS.join(','))
          return { unit: '% 5xx', lines: [errorShare(a)] }
        },
        r,
        changes,
      ),
    )
    charts.push(
      chart(
        'Throughput',
        async () => ({ unit: 'req/s', lines: [firstLine(await query(http.name, service, r, 'rate'), 'requests/s')] }),
        r,
        changes,
      ),
    )
  }
  for (const m of metrics.filter((x) => x !== http).slice(0, MAX_OTHER)) {
    const agg = HISTOGRAMS.has(m.type) ? 'p99' : m.type === 'sum' ? 'rate' : 'avg'
    const unit = agg === 'rate' ? `${m.unit === '' || m.unit === '1' ? '' : m.unit}/s` : m.unit
    charts.push(
      chart(m.name, async () => ({ unit, lines: [firstLine(await query(m.name, service, r, agg), agg)] }), r, changes),
    )
  }
  return Promise.all(charts)
}

/** The share of 5xx in the request rate, per step, in percent. */
function errorShare(a: QueryAnswer): Line {
  const all = new Map<number, number>()
  const bad = new Map<number, number>()
  for (const s of a.series) {
    const isError = STATUS_ATTRS.some((k) => /^5\d\d$/.test(s.labels[k] ?? ''))
    for (const [ts, v] of s.points) {
      all.set(ts!, (all.get(ts!) ?? 0) + v!)
      if (isError) bad.set(ts!, (bad.get(ts!) ?? 0) + v!)
    }
  }
  const points = [...all]
    .filter(([, total]) => total > 0)
    .sort((x, y) => x[0] - y[0])
    .map(([ts, total]) => [ts, ((bad.get(ts) ?? 0) / total) * 100])
  return { label: '5xx share', points }
}

/** A knob's value over the range, from its history: a line per numeric or boolean knob. */
export async function knobLines(knobs: readonly Knob[], r: ChartRange): Promise<(Line & { unit: string })[]> {
  const charted = knobs.filter((k) => ['int', 'float', 'percent', 'bool'].includes(k.type)).slice(0, MAX_OTHER)
  return Promise.all(
    charted.map(async (k) => {
      const { history } = await api<KnobDetail>(`/knobs/${encodeURIComponent(k.service)}/${encodeURIComponent(k.name)}`)
      const asNumber = (v: unknown) => (typeof v === 'boolean' ? Number(v) : Number(v))
      const versions = history
        .map((v) => ({ t: Date.parse(v.changed_at), v: asNumber(v.value) }))
        .sort((a, b) => a.t - b.t)
      const before = versions.filter((v) => v.t <= r.from).at(-1)
      const points: number[][] = []
      if (before !== undefined) points.push([r.from, before.v])
      for (const v of versions) if (v.t > r.from && v.t <= r.to) points.push([v.t, v.v])
      if (points.length > 0) points.push([r.to, asNumber(k.value)])
      return { label: k.name, unit: k.type === 'percent' ? '%' : (k.unit ?? ''), points }
    }),
  )
}
