import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ERROR_CODES, GovernorError, isGovernorError } from '../../collector/src/errors.ts'

describe('error codes', () => {
  const readme = readFileSync(new URL('../../docs/reference/errors.md', import.meta.url), 'utf8')

  it.each(Object.entries(ERROR_CODES))(
    '%s is documented in docs/reference/errors.md with its status',
    (code, { status }) => {
      const line = readme.split('\n').find((l) => l.includes(`\`${code}\``))
      expect(line, `${code} is missing from the error table of docs/reference/errors.md`).toBeDefined()
      expect(line).toContain(String(status))
    },
  )

  it('names follow GOV_ERR_<AREA>_<WHAT>', () => {
    for (const code of Object.keys(ERROR_CODES)) expect(code).toMatch(/^GOV_ERR_[A-Z]+_[A-Z_]+$/)
  })

  it('recognises a Governor error by its brand, also across copies of the module', () => {
    const err = new GovernorError('GOV_ERR_QUERY_PARAM', 'x')
    expect(isGovernorError(err)).toBe(true)
    expect(err.statusCode).toBe(400)
    const foreign = { [Symbol.for('governor.error')]: true }
    expect(isGovernorError(foreign)).toBe(true)
    expect(isGovernorError(new Error('x'))).toBe(false)
    expect(isGovernorError(null)).toBe(false)
  })
})
