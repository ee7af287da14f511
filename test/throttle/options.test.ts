import { describe, expect, it } from 'vitest'
import { isThrottleError } from '../../throttle/src/errors.ts'
import { CONNECT_NUMBER_OPTIONS, resolveOptions, type ConnectOptions } from '../../throttle/src/options.ts'

function refusal(options: unknown): string {
  try {
    resolveOptions(options as ConnectOptions)
  } catch (err) {
    expect(isThrottleError(err) && err.code).toBe('THROTTLE_ERR_OPTION_INVALID')
    return (err as Error).message
  }
  throw new Error('accepted')
}

describe('connect() options', () => {
  it('fills in the defaults and sends the token as a bearer token', () => {
    const o = resolveOptions({ url: 'http://127.0.0.1:4318/', service: 'checkout', token: 's3cret' })
    expect(o.baseUrl).toBe('http://127.0.0.1:4318')
    expect(o.startupTimeoutMillis).toBe(1_000)
    expect(o.headers).toEqual({ authorization: 'Bearer s3cret' })
    for (const [k, spec] of Object.entries(CONNECT_NUMBER_OPTIONS))
      expect(o[k as keyof typeof CONNECT_NUMBER_OPTIONS]).toBe(spec.default)
  })

  it('refuses a bad value naming the option and the value received', () => {
    expect(refusal({ url: 'ftp://x', service: 'a' })).toBe('url must be an http or https URL, got "ftp://x"')
    expect(refusal({ url: 'http://x', service: 'no spaces' })).toMatch(/service "no spaces"/)
    expect(refusal({ url: 'http://x', service: 'a', startupTimeoutMillis: -1 })).toBe(
      'startupTimeoutMillis must be a number from 0 to 600000, got -1',
    )
    expect(refusal({ url: 'http://x', service: 'a', pollAfterStreamFailures: 1.5 })).toMatch(
      /pollAfterStreamFailures must be a whole number/,
    )
    expect(refusal({ url: 'http://x', service: 'a', stateFile: '' })).toMatch(/stateFile must be a path/)
  })

  it('refuses an unknown option, suggesting the name it resembles', () => {
    expect(refusal({ url: 'http://x', service: 'a', startupTimeout: 500 })).toBe(
      'unknown option startupTimeout; did you mean startupTimeoutMillis?',
    )
    expect(refusal({ url: 'http://x', service: 'a', colour: 'blue' })).toBe('unknown option colour')
  })
})
