import { describe, expect, it, vi } from 'vitest'
import { isThrottleError, THROTTLE_ERROR_CODES, ThrottleError } from '../../throttle/src/errors.ts'

describe('ThrottleError', () => {
  it('is recognised across two copies of the library, where instanceof is not', async () => {
    vi.resetModules()
    const other = (await import('../../throttle/src/errors.ts')) as typeof import('../../throttle/src/errors.ts')
    expect(other.ThrottleError).not.toBe(ThrottleError)
    const theirs = new other.ThrottleError('THROTTLE_ERR_VALUE_REFUSED', 'from the other copy', { knob: 'w' })
    expect(theirs instanceof ThrottleError).toBe(false)
    expect(isThrottleError(theirs)).toBe(true)
    expect(other.isThrottleError(new ThrottleError('THROTTLE_ERR_CLOSED', 'ours'))).toBe(true)
    expect(theirs).toMatchObject({ code: 'THROTTLE_ERR_VALUE_REFUSED', knob: 'w', name: 'ThrottleError' })
  })

  it('does not take other errors for its own', () => {
    expect(isThrottleError(new Error('x'))).toBe(false)
    expect(isThrottleError({ code: 'THROTTLE_ERR_CLOSED' })).toBe(false)
    expect(isThrottleError(null)).toBe(false)
    expect(isThrottleError('THROTTLE_ERR_CLOSED')).toBe(false)
  })

  it('has a documented, stable code for every error', () => {
    for (const [code, doc] of Object.entries(THROTTLE_ERROR_CODES)) {
      expect(code).toMatch(/^THROTTLE_ERR_[A-Z_]+$/)
      expect(doc.length).toBeGreaterThan(10)
    }
  })
})
