import { ApiError, token } from '../api.ts'
import { h } from '../dom.ts'

/**
 * Asks for a bearer token (Governor runs with tokens). The token is kept in this browser's
 * localStorage and sent as `Authorization: Bearer …` with every API call.
 */
export function tokenPage(err: unknown, done: () => void): HTMLElement {
  const input = h('input', {
    type: 'password',
    name: 'token',
    autocomplete: 'current-password',
    required: true,
    placeholder: 'token',
    'aria-label': 'Token',
  })
  const stale = token.get() !== null && err instanceof ApiError && err.status === 401
  return h(
    'section',
    { class: 'card narrow' },
    h('h1', null, 'Sign in'),
    h(
      'p',
      null,
      'This Governor requires a token. A read token shows everything; an operate token can also change knobs.',
    ),
    stale
      ? h(
          'p',
          { class: 'error', role: 'alert' },
          'The stored token was refused: it is not one of the configured tokens.',
        )
      : null,
    h(
      'form',
      {
        class: 'token-form',
        onsubmit: (e) => {
          e.preventDefault()
          token.set(input.value)
          done()
        },
      },
      input,
      h('button', { type: 'submit' }, 'Sign in'),
    ),
    h('p', { class: 'muted' }, 'Kept in this browser only (localStorage). Sign out forgets it.'),
  )
}
