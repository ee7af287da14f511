import { api, qs } from '../api.ts'
import { errorBox, h } from '../dom.ts'
import { knobCard } from '../knob-card.ts'
import type { PageContext } from '../router.ts'
import { knobLines, metricCharts, type ChartRange } from '../service-charts.ts'
import { timeChart } from '../chart.ts'
import type { EventList, ServiceDetail } from '../types.ts'
import { impactVerdicts } from '../impact.ts'
import { changeList } from './changes.ts'
import { lastDeployBanner, sloChip } from './services.ts'

/** The ranges offered. */
const RANGES: Record<string, number> = { '1h': 3_600_000, '6h': 21_600_000, '24h': 86_400_000, '7d': 604_800_000 }
const MIN_STEP_SECONDS = 120

/**
 * One service: the last deploy up top; latency, errors, throughput and every other metric
 * over time, then its knobs' values, each chart with a marker per deploy and change; the
 * changes of the range; its knobs with their controls.
 */
export async function servicePage(ctx: PageContext): Promise<Node> {
  const service = ctx.params.service ?? ''
  const rangeName = ctx.query.get('range') ?? '1h'
  const to = Date.now()
  const range: ChartRange = { from: to - (RANGES[rangeName] ?? RANGES['1h']!), to, stepSeconds: 0 }
  // About 120 points a chart, and a step of at least two exports at OTel SDKs' default interval
  // (60 s): rates and quantiles are computed from the increase between points inside a step.
  range.stepSeconds = Math.max(MIN_STEP_SECONDS, Math.round((range.to - range.from) / 1000 / 120))
  const [detail, changes] = await Promise.all([
    api<ServiceDetail>(`/services/${encodeURIComponent(service)}`),
    api<EventList>(`/events${qs({ service, from: range.from, to: range.to, limit: 1000 })}`),
  ])
  const events = changes.events.slice().reverse() // oldest first for the charts
  const verdicts = await impactVerdicts(changes.events.slice(0, 50), service)
  const [charts, knobCharts] = await Promise.all([
    metricCharts(service, detail.metrics, range, events),
    knobLines(detail.knobs, range)
      .then((lines) =>
        lines.map((l) =>
          timeChart({
            title: `knob ${l.label}`,
            unit: l.unit,
            lines: [l],
            changes: events,
            from: range.from,
            to: range.to,
            stepped: true,
          }),
        ),
      )
      .catch((err: unknown) => [errorBox(err)]),
  ])
  return h(
    'section',
    { class: 'service', 'data-service': service },
    h(
      'div',
      { class: 'page-head' },
      h('h1', null, service),
      h(
        'nav',
        { class: 'ranges', 'aria-label': 'Time range' },
        Object.keys(RANGES).map((r) =>
          h(
            'a',
            {
              href: `#/service/${encodeURIComponent(service)}?range=${r}`,
              class: r === rangeName ? 'active' : undefined,
            },
            r,
          ),
        ),
      ),
    ),
    lastDeployBanner(detail.last_deploy),
    detail.slos.length > 0
      ? h(
          'div',
          { class: 'chips' },
          h('a', { href: `#/control?service=${encodeURIComponent(service)}` }, 'SLOs: '),
          detail.slos.map(sloChip),
        )
      : null,
    h(
      'div',
      { class: 'legend-markers muted' },
      'Markers: ',
      h('span', { class: 'key deploy' }, 'deploy'),
      h('span', { class: 'key knob' }, 'knob'),
      h('span', { class: 'key controller' }, 'controller'),
      h('span', { class: 'key other' }, 'other'),
    ),
    h('div', { class: 'charts' }, charts, knobCharts),
    h('h2', null, 'Changes in this range'),
    changes.events.length === 0
      ? h('p', { class: 'empty' }, 'No change in this range.')
      : changeList(changes.events.slice(0, 50), verdicts),
    h('h2', null, 'Knobs'),
    detail.knobs.length === 0
      ? h('p', { class: 'empty' }, 'No knob declared.')
      : h(
          'div',
          { class: 'grid' },
          detail.knobs.map((k) => knobCard(k, ctx)),
        ),
  )
}
