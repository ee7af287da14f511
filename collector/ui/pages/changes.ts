import { api, qs } from '../api.ts'
import { badge, h, timeEl } from '../dom.ts'
import { impactBadge, impactVerdicts, type Verdicts } from '../impact.ts'
import { href, type PageContext } from '../router.ts'
import type { ChangeEvent, EventList } from '../types.ts'

const KINDS = ['', 'deploy', 'knob', 'controller', 'slo', 'incident', 'note', 'alert', 'analysis', 'gate']

/**
 * The change log, newest first, with full-text search (every word must appear) and filters
 * by kind and service. The search is in the hash (`#/changes?q=redis&kind=incident`), so a
 * search can be linked to.
 */
export async function changesPage(ctx: PageContext): Promise<Node> {
  const q = ctx.query.get('q') ?? ''
  const kind = ctx.query.get('kind') ?? ''
  const service = ctx.query.get('service') ?? ''
  const { events } = await api<EventList>(`/events${qs({ q, kind, service, limit: 200 })}`)
  const verdicts = await impactVerdicts(events, service)
  const qIn = h('input', {
    type: 'search',
    name: 'q',
    value: q,
    placeholder: 'search: every word must appear',
    'aria-label': 'Search the change log',
  })
  const kindIn = h(
    'select',
    { name: 'kind', 'aria-label': 'Kind' },
    KINDS.map((k) => h('option', { value: k, selected: k === kind }, k === '' ? 'every kind' : k)),
  )
  const serviceIn = h('input', { name: 'service', value: service, placeholder: 'service', 'aria-label': 'Service' })
  return h(
    'section',
    null,
    h('h1', null, 'Change log'),
    h(
      'form',
      {
        class: 'search',
        role: 'search',
        onsubmit: (e) => {
          e.preventDefault()
          location.hash = `#/changes${qs({ q: qIn.value.trim(), kind: kindIn.value, service: serviceIn.value.trim() })}`
        },
      },
      qIn,
      kindIn,
      serviceIn,
      h('button', { type: 'submit' }, 'Search'),
    ),
    events.length === 0 ? h('p', { class: 'empty' }, 'No change matches.') : changeList(events, verdicts),
  )
}

/**
 * A list of changes: when, what kind, which service, the title, who, and the text; a deploy
 * with its impact verdict (`verdicts`, see `impactVerdicts`).
 */
export function changeList(events: readonly ChangeEvent[], verdicts: Verdicts = new Map()): HTMLElement {
  return h(
    'ol',
    { class: 'changes' },
    events.map((e) =>
      h(
        'li',
        { class: `change kind-${e.kind}`, 'data-id': e.id },
        h(
          'div',
          { class: 'change-head' },
          timeEl(e.time),
          ' ',
          badge(e.kind, toneOf(e)),
          ' ',
          e.service !== '' ? h('a', { href: href('service', e.service) }, e.service) : null,
          ' ',
          h('span', { class: 'title' }, e.title),
          e.kind === 'deploy' ? [' ', impactBadge(verdicts.get(e.id))] : null,
        ),
        h(
          'div',
          { class: 'muted' },
          'by ',
          h('span', { class: 'actor' }, e.actor),
          e.environment !== '' && e.environment !== 'production' ? ` in ${e.environment}` : '',
        ),
        e.text !== '' && e.text !== e.title ? h('div', { class: 'text' }, e.text) : null,
      ),
    ),
  )
}

function toneOf(e: ChangeEvent): 'ok' | 'warn' | 'bad' | 'info' | 'muted' {
  if (e.kind === 'deploy') return 'info'
  if (e.kind === 'incident' || e.kind === 'alert' || e.kind === 'gate') return 'bad'
  if (e.kind === 'knob' || e.kind === 'controller') return 'warn'
  return 'muted'
}
