import { api } from '../api.ts'
import { ago, badge, h, num, timeEl } from '../dom.ts'
import { href, type PageContext } from '../router.ts'
import type { Deploy, ServiceList, ServiceSummary, Slo, SloSummary } from '../types.ts'

/** Every service: its last deploy (who, what, when), its SLOs' state and budget, its knobs' modes. */
export async function servicesPage(_ctx: PageContext): Promise<Node> {
  const { services } = await api<ServiceList>('/services')
  if (services.length === 0) {
    return h(
      'section',
      null,
      h('h1', null, 'Services'),
      h('p', { class: 'empty' }, 'No service yet. Send metrics over OTLP to /v1/metrics, or record a deploy.'),
    )
  }
  return h(
    'section',
    null,
    h('h1', null, 'Services'),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'services' },
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            h('th', null, 'Service'),
            h('th', null, 'Last deploy'),
            h('th', null, 'SLOs'),
            h('th', null, 'Knobs'),
          ),
        ),
        h(
          'tbody',
          null,
          services.map((s) =>
            h(
              'tr',
              { 'data-service': s.service },
              h(
                'td',
                { 'data-label': 'Service' },
                h('a', { href: href('service', s.service), class: 'service-link' }, s.service),
                h('div', { class: 'muted' }, `${s.metrics} metric${s.metrics === 1 ? '' : 's'}`),
              ),
              h('td', { 'data-label': 'Last deploy' }, deployCell(s.last_deploy)),
              h(
                'td',
                { 'data-label': 'SLOs' },
                s.slos.length === 0 ? h('span', { class: 'muted' }, 'none') : s.slos.map(sloChip),
              ),
              h('td', { 'data-label': 'Knobs' }, knobCell(s)),
            ),
          ),
        ),
      ),
    ),
  )
}

/** "1.4.2 by alice, 12 min ago — faster cart totals". */
export function deployCell(d: Deploy | null): Node {
  if (d === null) return h('span', { class: 'muted' }, 'never deployed')
  return h(
    'div',
    { class: 'deploy' },
    h('strong', null, d.version),
    d.rollback ? badge('rollback', 'warn') : null,
    ' by ',
    h('span', { class: 'actor' }, d.actor),
    ', ',
    h('span', { title: d.finished_at }, ago(Date.parse(d.finished_at))),
    d.environment !== 'production' ? h('span', { class: 'muted' }, ` (${d.environment})`) : null,
    d.description !== '' ? h('div', { class: 'muted desc' }, d.description) : null,
  )
}

/**
 * An SLO's state and the share of its error budget left. The colour follows the budget as
 * well as the burn: a spent budget is red (the gate denies) whether or not a burn pair fires.
 */
export function sloChip(s: SloSummary | Slo): Node {
  // An SLO of a service's page has no status when the store could not compute it (`error` says why).
  const remaining = s.error_budget_remaining ?? null
  const spent = s.state === 'spent' || (s.state === null && remaining !== null && remaining <= 0)
  const tone =
    s.error !== undefined
      ? 'warn'
      : spent || s.alert === 'page'
        ? 'bad'
        : s.state === 'no_data'
          ? 'muted'
          : s.alert === 'ticket'
            ? 'warn'
            : 'ok'
  const budget =
    remaining === null || s.state === 'no_data' ? '' : ` · budget ${num(Math.round(remaining * 1000) / 10)} %`
  const word = spent
    ? `budget spent${s.alert !== null && s.alert !== 'ok' ? `, ${s.alert}` : ''}`
    : s.state === 'no_data'
      ? 'no data'
      : (s.alert ?? 'ok')
  const text = s.error !== undefined ? `${s.name}: unreadable` : `${s.name}: ${word}${budget}`
  return h(
    'span',
    {
      class: `badge ${tone} slo-chip`,
      title:
        s.error ??
        `objective ${s.objective} % over ${s.window}; SLI ${s.current_sli === null ? 'no events' : `${num(s.current_sli)} %`}`,
    },
    text,
  )
}

function knobCell(s: ServiceSummary): Node {
  if (s.knobs.length === 0) return h('span', { class: 'muted' }, 'none')
  const modes = (['manual', 'auto', 'pinned'] as const)
    .filter((m) => s.knob_modes[m] > 0)
    .map((m) => `${s.knob_modes[m]} ${m}`)
    .join(' · ')
  return h(
    'div',
    null,
    h('a', { href: `#/knobs?service=${encodeURIComponent(s.service)}` }, modes),
    h(
      'ul',
      { class: 'knob-list' },
      s.knobs.map((k) =>
        h(
          'li',
          null,
          h('span', { class: 'knob-name' }, k.name),
          ' ',
          h('code', null, String(k.value)),
          ' ',
          badge(k.mode, k.mode === 'pinned' ? 'warn' : k.mode === 'auto' ? 'info' : 'muted'),
        ),
      ),
    ),
    s.controllers > 0
      ? h('div', { class: 'muted' }, `${s.controllers} controller${s.controllers === 1 ? '' : 's'}`)
      : null,
  )
}

/** The last deploy, prominent: for the top of a service's page. */
export function lastDeployBanner(d: Deploy | null): Node {
  if (d === null) return h('div', { class: 'last-deploy none' }, 'No deploy recorded yet.')
  return h(
    'div',
    { class: 'last-deploy', 'data-test': 'last-deploy' },
    h('div', { class: 'label' }, 'Last deploy'),
    h('div', { class: 'big' }, h('strong', null, d.version), ' ', ago(Date.parse(d.finished_at))),
    h(
      'div',
      null,
      'by ',
      h('strong', null, d.actor),
      ' at ',
      timeEl(d.finished_at),
      d.commit !== '' ? h('code', null, ` ${d.commit.slice(0, 10)}`) : null,
      d.rollback ? badge('rollback', 'warn') : null,
    ),
    d.description !== '' ? h('div', { class: 'desc' }, d.description) : null,
  )
}
