import { describe, expect, it } from 'vitest'
import { loadTokens } from '../../collector/src/auth/tokens.ts'

// Bug: a token entry written the other way round (the token where the name or the roles go)
// printed the token in the start-up error: the name was quoted whenever it was a valid name,
// and an unknown role whenever it was letters only. The error now names the entry by its
// position and a masked form.

const HEX = '9f8e7d6c5b4a39281706'
const LETTERS = 'zxcvbnmasdfghjklqw'

function error(tokens: string): string {
  try {
    loadTokens({ tokens, tokensFile: '' })
  } catch (err) {
    return (err as Error).message
  }
  throw new Error('expected a refusal')
}

describe('a reversed token entry', () => {
  it.each([`${HEX}=ingest:app`, `${LETTERS}:app=ingest`, `app=${LETTERS}:ingest`, `${LETTERS}=ingest:checkout`])(
    '%s: the error holds no token',
    (entry) => {
      const msg = error(entry)
      expect(msg).toMatch(/^GOVERNOR_TOKENS entry 1 \(/)
      expect(msg).not.toContain(HEX)
      expect(msg).not.toContain(LETTERS)
    },
  )

  it('says where the token is, masked', () => {
    expect(error(`${HEX}=ingest:app`)).toContain(
      'GOVERNOR_TOKENS entry 1 ([20 chars]=ingest:[3 chars]): the token is shorter than 16 characters (is the entry reversed?',
    )
  })
})
