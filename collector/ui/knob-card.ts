import { actorName, api } from './api.ts'
import { badge, errorBox, h, num, replace, timeEl } from './dom.ts'
import type { PageContext } from './router.ts'
import type { Knob, KnobDetail, KnobValue, KnobVersion } from './types.ts'

/**
 * A knob: its value, mode, bounds and last change; its history on demand. For a caller who
 * may operate, a form to set it with a reason, pin and unpin it, switch its mode and revert
 * to a version. For anyone else those controls are not built at all.
 */
export function knobCard(k: Knob, ctx: PageContext): HTMLElement {
  const path = `/knobs/${encodeURIComponent(k.service)}/${encodeURIComponent(k.name)}`
  const status = h('div', { class: 'status' })
  const card = h(
    'article',
    { class: `card knob mode-${k.mode}`, 'data-knob': `${k.service}/${k.name}` },
    h(
      'header',
      null,
      h('h3', null, h('span', { class: 'muted' }, `${k.service}/`), k.name),
      badge(k.mode, k.mode === 'pinned' ? 'warn' : k.mode === 'auto' ? 'info' : 'muted'),
    ),
    h(
      'div',
      { class: 'value' },
      h('span', { class: 'knob-value' }, format(k.value)),
      k.unit ? h('span', { class: 'unit' }, ` ${k.unit}`) : null,
    ),
    h('div', { class: 'muted' }, bounds(k), k.description ? ` — ${k.description}` : ''),
    h(
      'div',
      { class: 'last-change' },
      'v',
      String(k.version),
      ' by ',
      h('strong', null, k.changed_by),
      ' ',
      timeEl(k.changed_at, true),
      k.reason ? `: ${k.reason}` : '',
    ),
    ctx.canOperate ? controls(k, path, ctx, status) : null,
    status,
    history(k, path, ctx, status),
  )
  return card
}

function controls(k: Knob, path: string, ctx: PageContext, status: HTMLElement): HTMLElement {
  const input = valueInput(k)
  const reason = h('input', {
    name: 'reason',
    required: true,
    placeholder: 'reason (recorded in the change log)',
    'aria-label': 'Reason',
    class: 'reason',
  })
  const actor = ctx.who.open
    ? h('input', {
        name: 'actor',
        required: true,
        placeholder: 'your name',
        'aria-label': 'Your name',
        value: actorName.get(),
      })
    : null
  const who = () => {
    if (actor !== null) actorName.set(actor.value)
    return { reason: reason.value.trim(), ...(actor !== null ? { actor: actor.value.trim() } : {}) }
  }
  const act = (run: () => Promise<unknown>) => async () => {
    if (!form.reportValidity()) return
    replace(status)
    try {
      await run()
      ctx.reload()
    } catch (err) {
      replace(status, errorBox(err))
    }
  }
  const button = (label: string, action: string, run: () => Promise<unknown>) =>
    h('button', { type: 'button', 'data-action': action, onclick: act(run) }, label)
  const form: HTMLFormElement = h(
    'form',
    {
      class: 'knob-form',
      onsubmit: (e) => {
        e.preventDefault()
        void act(() => api(`${path}/value`, 'POST', { value: parse(k, input.value), ...who() }))()
      },
    },
    h('label', null, 'Value ', input),
    actor,
    reason,
    h(
      'div',
      { class: 'buttons' },
      h('button', { type: 'submit', 'data-action': 'set' }, 'Set'),
      k.mode === 'pinned'
        ? button('Unpin', 'unpin', () => {
            const w = who()
            return api(`${path}/pin?${new URLSearchParams(w)}`, 'DELETE')
          })
        : button('Pin', 'pin', () => api(`${path}/pin`, 'POST', { value: parse(k, input.value), ...who() })),
      k.mode === 'manual' && ['int', 'float', 'percent'].includes(k.type)
        ? button('Hand to controllers (auto)', 'auto', () => api(`${path}/mode`, 'POST', { mode: 'auto', ...who() }))
        : null,
      k.mode === 'auto'
        ? button('Take over (manual)', 'manual', () => api(`${path}/mode`, 'POST', { mode: 'manual', ...who() }))
        : null,
    ),
  )
  return form
}

function valueInput(k: Knob): HTMLInputElement | HTMLSelectElement {
  const label = { 'aria-label': `Value of ${k.name}`, name: 'value' }
  if (k.type === 'bool')
    return h(
      'select',
      label,
      ['true', 'false'].map((v) => h('option', { value: v, selected: String(k.value) === v }, v)),
    )
  if (k.type === 'enum')
    return h(
      'select',
      label,
      (k.values ?? []).map((v) => h('option', { value: v, selected: k.value === v }, v)),
    )
  if (k.type === 'string') return h('input', { ...label, value: String(k.value) })
  return h('input', {
    ...label,
    type: 'number',
    required: true,
    value: String(k.value),
    min: k.min ?? undefined,
    max: k.max ?? undefined,
    step: k.type === 'int' ? 1 : 'any',
  })
}

function parse(k: Knob, raw: string): KnobValue {
  if (k.type === 'bool') return raw === 'true'
  if (k.type === 'int' || k.type === 'float' || k.type === 'percent') return Number(raw)
  return raw
}

function format(v: KnobValue): string {
  return typeof v === 'number' ? num(v) : String(v)
}

function bounds(k: Knob): string {
  if (k.type === 'enum') return `enum: ${(k.values ?? []).join(', ')}`
  const range = k.min !== null || k.max !== null ? ` ${k.min ?? '…'} to ${k.max ?? '…'}` : ''
  return `${k.type}${range}, default ${format(k.default)}`
}

/** The versions of the knob, loaded when opened; "revert" buttons for operators. */
function history(k: Knob, path: string, ctx: PageContext, status: HTMLElement): HTMLElement {
  const body = h('div', null)
  const details = h('details', { class: 'history' }, h('summary', null, 'History'), body)
  details.addEventListener('toggle', async () => {
    if (!details.open || body.childElementCount > 0) return
    try {
      const { history: versions } = await api<KnobDetail>(path)
      replace(
        body,
        h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            null,
            h(
              'thead',
              null,
              h(
                'tr',
                null,
                ['v', 'value', 'mode', 'when', 'who', 'reason', ctx.canOperate ? '' : null]
                  .filter((c) => c !== null)
                  .map((c) => h('th', null, c)),
              ),
            ),
            h(
              'tbody',
              null,
              versions.map((v) =>
                h(
                  'tr',
                  null,
                  h('td', null, String(v.version)),
                  h('td', null, h('code', null, format(v.value))),
                  h('td', null, v.mode),
                  h('td', null, timeEl(v.changed_at)),
                  h('td', null, v.changed_by),
                  h('td', null, v.reason),
                  ctx.canOperate
                    ? h('td', null, v.version === k.version ? null : revertButton(k, path, v, ctx, status))
                    : null,
                ),
              ),
            ),
          ),
        ),
      )
    } catch (err) {
      replace(body, errorBox(err))
    }
  })
  return details
}

function revertButton(k: Knob, path: string, v: KnobVersion, ctx: PageContext, status: HTMLElement): HTMLElement {
  return h(
    'button',
    {
      type: 'button',
      class: 'small',
      'data-action': 'revert',
      onclick: async () => {
        const reason = prompt(`Revert ${k.name} to version ${v.version} (${format(v.value)}): reason?`)
        if (reason === null || reason.trim() === '') return
        const actor = ctx.who.open ? (prompt('Your name?', actorName.get()) ?? '') : undefined
        try {
          await api(`${path}/revert`, 'POST', { version: v.version, reason, ...(actor !== undefined ? { actor } : {}) })
          ctx.reload()
        } catch (err) {
          replace(status, errorBox(err))
        }
      },
    },
    'Revert to this',
  )
}
