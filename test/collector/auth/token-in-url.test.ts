import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { redactUrl } from '../../../collector/src/auth/access-control.ts'
import { buildApp } from '../../../collector/src/app.ts'
import { testSettings } from '../../helpers/settings.ts'

// A token in the query string is refused (400), and never reaches the logs: fastify logs each
// request's URL as it came in, before any check runs.

const READ = 'read-7e6d5c4b3a291807'
let app: FastifyInstance
let logs = ''

beforeAll(async () => {
  app = await buildApp(testSettings({ tokens: `dev=read:${READ}`, impactIntervalMillis: 0, controllerTickMillis: 0 }), {
    logger: {
      level: 'debug',
      stream: {
        write: (line: string) => {
          logs += line
        },
      },
    },
  })
})
afterAll(async () => {
  await app?.close()
})

const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers })

describe('a token in the query string', () => {
  it.each([
    [`/api/v1/knobs?access_token=${READ}`, 'the query parameter "access_token"'],
    [`/api/v1/knobs?service=cart&token=${READ}`, 'the query parameter "token"'],
    [`/api/v1/knobs?api_key=${encodeURIComponent(READ)}`, 'the query parameter "api_key"'],
    [`/api/v1/knobs?t=${READ}`, 'a query parameter'], // a configured token, whatever the name
    [`/api/v1/nothing?access_token=${READ}`, 'the query parameter "access_token"'], // 404s too
  ])('%s is refused with 400 GOV_ERR_AUTH_TOKEN_IN_URL', async (url, which) => {
    const res = await get(url)
    expect(res.statusCode).toBe(400)
    expect(res.json()).toEqual({
      error: {
        code: 'GOV_ERR_AUTH_TOKEN_IN_URL',
        message: `a token in the URL is refused (${which}): URLs are kept in logs, proxies and browser history; send it in the header Authorization: Bearer <token>, and replace that token, it may have been seen`,
      },
    })
    expect(res.body).not.toContain(READ)
  })

  it('is refused even with a valid Authorization header, and other query parameters pass', async () => {
    expect((await get(`/api/v1/knobs?access_token=${READ}`, { authorization: `Bearer ${READ}` })).statusCode).toBe(400)
    expect((await get('/api/v1/knobs?service=cart', { authorization: `Bearer ${READ}` })).statusCode).toBe(200)
  })

  it('never reaches the logs: the request lines show it redacted', async () => {
    await get(`/api/v1/deploys/last?access_token=${READ}&service=cart`)
    const lines = logs.split('\n').filter((l) => l !== '')
    expect(lines.some((l) => l.includes('"url":"/api/v1/deploys/last?access_token=[redacted]&service=cart"'))).toBe(
      true,
    )
    expect(logs).not.toContain(READ)
    expect(logs).not.toContain(encodeURIComponent(READ))
  })
})

describe('redactUrl', () => {
  const isToken = (name: string, value: string) => name === 'token' || value === 'secret-value'
  it('replaces the values of token parameters, and a parameter that is a token whole', () => {
    expect(redactUrl('/a?token=x&b=1', isToken)).toBe('/a?token=[redacted]&b=1')
    expect(redactUrl('/a?b=1&c=secret-value', isToken)).toBe('/a?b=1&[redacted]')
    expect(redactUrl('/a?b=1', isToken)).toBe('/a?b=1')
    expect(redactUrl('/a', isToken)).toBe('/a')
    expect(redactUrl('/a?%E0%A4%A=1&token=y', isToken)).toBe('/a?%E0%A4%A=1&token=[redacted]')
  })
})
