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
