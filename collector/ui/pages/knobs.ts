import { api, qs } from '../api.ts'
import { h } from '../dom.ts'
import { knobCard } from '../knob-card.ts'
import type { PageContext } from '../router.ts'
import type { KnobList } from '../types.ts'

/** Every knob (or one service's: `#/knobs?service=checkout`), each with its controls and history. */
export async function knobsPage(ctx: PageContext): Promise<Node> {
  const service = ctx.query.get('service') ?? undefined
  const { knobs } = await api<KnobList>(`/knobs${qs({ service })}`)
  return h(
    'section',
    null,
    h('h1', null, 'Knobs', service !== undefined ? h('span', { class: 'muted' }, ` of ${service}`) : null),
    service !== undefined ? h('p', null, h('a', { href: '#/knobs' }, 'All services')) : null,
    ctx.canOperate ? null : h('p', { class: 'muted' }, 'Read only: an operate token can change knobs.'),
    knobs.length === 0
      ? h(
          'p',
          { class: 'empty' },
          'No knob yet: apps declare them (PUT /api/v1/knobs/{service}/{name}, or the throttle library).',
        )
      : h(
          'div',
          { class: 'grid' },
          knobs.map((k) => knobCard(k, ctx)),
        ),
  )
}
