import { api, qs } from '../api.ts'
import { badge, h, num, timeEl } from '../dom.ts'
import { href, type PageContext } from '../router.ts'
import type { ChangeEvent, Controller, ControllerList, EventList, Slo, SloList, SloWithStatus } from '../types.ts'
import { changeList } from './changes.ts'
import { sloChip } from './services.ts'

/**
 * SLOs with their budget and burn rates, and controllers with what each last saw and did and
 * why: their decisions, holds and knob changes are change-log events (actor `controller:<name>`).
 */
export async function controlPage(ctx: PageContext): Promise<Node> {
  const service = ctx.query.get('service') ?? undefined
  const [{ slos }, { controllers }, decisions, knobChanges] = await Promise.all([
    api<SloList>(`/slos${qs({ service })}`),
    api<ControllerList>(`/controllers${qs({ service })}`),
    api<EventList>(`/events${qs({ kind: 'controller', service, limit: 500 })}`),
    api<EventList>(`/events${qs({ kind: 'knob', service, limit: 500 })}`),
  ])
  const events = [...decisions.events, ...knobChanges.events.filter((e) => e.actor.startsWith('controller:'))]
  return h(
    'section',
    null,
    h('h1', null, 'SLOs & controllers', service !== undefined ? h('span', { class: 'muted' }, ` of ${service}`) : null),
    h('h2', null, 'SLOs'),
    slos.length === 0 ? h('p', { class: 'empty' }, 'No SLO yet (PUT /api/v1/slos/{service}/{name}).') : sloTable(slos),
    h('h2', null, 'Controllers'),
    controllers.length === 0
      ? h('p', { class: 'empty' }, 'No controller yet (PUT /api/v1/controllers/{service}/{name}).')
      : h(
          'div',
          { class: 'grid wide' },
          controllers.map((c) => controllerCard(c, events)),
        ),
  )
}

/** One row per SLO: objective, SLI, budget left, alert, and the burn rates that fire. */
export function sloTable(slos: readonly SloWithStatus[]): HTMLElement {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'slos' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          ['SLO', 'Objective', 'SLI now', 'Budget left', 'State', 'Burn rates (long / short)'].map((c) =>
            h('th', null, c),
          ),
        ),
      ),
      h(
        'tbody',
        null,
        slos.map((s) =>
          h(
            'tr',
            { 'data-slo': `${s.service}/${s.name}` },
            h(
              'td',
              { 'data-label': 'SLO' },
              h('a', { href: href('service', s.service) }, s.service),
              `/${s.name}`,
              h('div', { class: 'muted' }, describeSli(s)),
            ),
            h('td', { 'data-label': 'Objective' }, `${s.objective} % / ${s.window}`),
            h(
              'td',
              { 'data-label': 'SLI now' },
              s.current_sli === null ? h('span', { class: 'muted' }, 'no events') : `${num(s.current_sli)} %`,
            ),
            h('td', { 'data-label': 'Budget left' }, budgetBar(s.error_budget_remaining)),
            h('td', { 'data-label': 'State' }, sloChip(s)),
            h(
              'td',
              { 'data-label': 'Burn rates' },
              (s.burn_rates ?? []).map((b) =>
                h(
                  'div',
                  { class: b.firing ? 'firing' : 'muted' },
                  `${b.long_window}/${b.short_window} > ${b.threshold}: ${num(b.long)} / ${num(b.short)}`,
                  b.firing ? badge(b.severity, 'bad') : null,
                  b.notes !== undefined && b.notes.length > 0
                    ? h('span', { class: 'burn-note', title: b.notes.join('\n') }, ' ⓘ')
                    : null,
                ),
              ),
            ),
          ),
        ),
      ),
    ),
  )
}

function describeSli(s: Slo): string {
  const sli = s.sli
  if (sli.type === 'latency') return `p${sli.percentile ?? ''} of ${sli.metric} ≤ ${sli.threshold_ms ?? ''} ms`
  if (sli.type === 'gauge_max') return `${sli.metric} ≤ ${sli.max ?? ''}`
  return `errors of ${sli.metric}`
}

function budgetBar(remaining: number | null): Node {
  if (remaining === null) return h('span', { class: 'muted' }, '–')
  const pct = Math.max(0, Math.min(100, remaining * 100))
  const meter = h('meter', {
    min: 0,
    max: 100,
    low: 25,
    high: 50,
    optimum: 100,
    value: pct,
    'aria-label': 'error budget left',
  })
  return h('span', { class: 'budget' }, meter, ` ${num(Math.round(remaining * 1000) / 10)} %`)
}

function controllerCard(c: Controller, events: readonly ChangeEvent[]): HTMLElement {
  const mine = events
    .filter((e) => e.service === c.service && (e.actor === `controller:${c.name}` || e.data.controller === c.name))
    .sort((a, b) => Date.parse(b.time) - Date.parse(a.time))
    .slice(0, 20)
  const obs = c.last_observation
  const dec = c.last_decision
  return h(
    'article',
    { class: 'card controller', 'data-controller': `${c.service}/${c.name}` },
    h(
      'header',
      null,
      h('h3', null, h('span', { class: 'muted' }, `${c.service}/`), c.name),
      badge(c.mode, c.mode === 'active' ? 'info' : 'muted'),
    ),
    h(
      'p',
      null,
      `turns `,
      h('strong', null, c.knob),
      ` to keep SLO `,
      h('strong', null, c.slo),
      ` (${c.algorithm}${c.min !== undefined ? `, ${c.min} to ${c.max ?? '…'}` : ''})`,
      c.effect === 'lowers' ? ' — raising it lowers the SLI' : '',
      c.guard ? [' — without breaking SLO ', h('strong', { class: 'guard' }, c.guard.slo)] : '',
    ),
    h(
      'dl',
      null,
      h('dt', null, 'Saw'),
      h(
        'dd',
        null,
        obs === null ? h('span', { class: 'muted' }, 'nothing yet') : [obs.text, ' ', timeEl(obs.at, true)],
      ),
      h('dt', null, 'Did'),
      h(
        'dd',
        null,
        dec === null
          ? h('span', { class: 'muted' }, 'nothing yet')
          : [
              badge(dec.kind, dec.kind === 'hold' ? 'muted' : 'warn'),
              ' ',
              dec.value !== null ? `${num(dec.value)} ` : '',
              dec.applied ? '' : '(not applied) ',
              dec.reason,
              ' ',
              timeEl(dec.at, true),
            ],
      ),
      c.holding !== null
        ? [
            h('dt', null, 'Holding'),
            h('dd', null, `${c.holding.kind}: ${c.holding.reason} since `, timeEl(c.holding.since)),
          ]
        : null,
    ),
    h('h4', null, 'Decisions and why'),
    mine.length === 0 ? h('p', { class: 'muted' }, 'No decision recorded yet.') : changeList(mine),
  )
}
