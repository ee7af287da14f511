import { GovernorError } from '../errors.ts'
import type { Principal } from './roles.ts'

/**
 * The actor a change records when it is made with a token named `tokenName`: the token
 * vouches for who acts, so its name is always part of it.
 *
 *   body actor      token   recorded
 *   (none)          ci      ci
 *   ci              ci      ci
 *   alice           ci      alice via ci
 */
export function actorWithToken(bodyActor: string | undefined, tokenName: string): string {
  const actor = bodyActor?.trim() ?? ''
  if (actor === '' || actor === tokenName) return tokenName
  return `${actor} via ${tokenName}`
}

/**
 * The actor and reason of a DELETE, from the query (`?actor=&reason=`) or a JSON body; a
 * reason is required, an actor too without a token. Throws `code` (400) naming what is missing.
 */
export function deletionWho(
  query: { actor?: string; reason?: string },
  body: unknown,
  principal: Principal | null,
  code: 'GOV_ERR_CONTROLLER_INVALID' | 'GOV_ERR_SLO_INVALID',
): { actor: string; reason: string } {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>
  const text = (k: 'actor' | 'reason') =>
    (typeof query[k] === 'string' ? query[k] : typeof b[k] === 'string' ? (b[k] as string) : '').trim()
  const problems: string[] = []
  if (text('actor') === '' && principal === null) problems.push('actor is required')
  if (text('reason') === '') problems.push('reason is required: say why it is deleted')
  if (problems.length > 0) throw new GovernorError(code, problems.join('; '))
  return {
    actor: principal !== null ? actorWithToken(text('actor') || undefined, principal.name) : text('actor'),
    reason: text('reason'),
  }
}
