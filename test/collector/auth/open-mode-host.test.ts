import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isLoopbackHost } from '../../../collector/src/auth/access-control.ts'
import { buildApp } from '../../../collector/src/app.ts'
import { testSettings } from '../../helpers/settings.ts'

// Open mode (no tokens, loopback only) answers only requests addressed to a loopback name: a
// web page that points a name of its own at 127.0.0.1 (DNS rebinding) sends that name as Host.

describe('isLoopbackHost', () => {
  it.each([
    'localhost',
    'localhost:4318',
    'LOCALHOST:80',
    'governor.localhost:4318',
    'a.b.localhost',
    '127.0.0.1',
    '127.0.0.1:4318',
    '127.9.8.7:1',
    '[::1]',
    '[::1]:4318',
    '[0:0:0:0:0:0:0:1]:4318',
  ])('%s is loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(true)
  })

  it.each([
    'rebind.example',
    'rebind.example:4318',
    'localhost.rebind.example',
    'localhost.',
    'evil-localhost',
    '127.0.0.1.nip.io',
    '128.0.0.1',
    '0.0.0.0:4318',
    '[::]:4318',
    '[::1]x',
    '::1',
    '10.0.0.5:4318',
    '',
    'localhost:99999x',
  ])('%s is not', (host) => {
    expect(isLoopbackHost(host)).toBe(false)
  })
})

describe('open mode', () => {
  let app: FastifyInstance
  beforeAll(async () => {
    app = await buildApp(testSettings({ host: '127.0.0.1', impactIntervalMillis: 0, controllerTickMillis: 0 }), {
      logger: false,
    })
  })
  afterAll(async () => {
    await app?.close()
  })

  const get = (url: string, host: string) => app.inject({ method: 'GET', url, headers: { host } })

  it('refuses a request whose Host is not a loopback name with 403 GOV_ERR_AUTH_HOST, saying how to fix it', async () => {
    const res = await get('/api/v1/knobs', 'rebind.example')
    expect(res.statusCode).toBe(403)
    expect(res.json()).toEqual({
      error: {
        code: 'GOV_ERR_AUTH_HOST',
        message:
          'Host "rebind.example" is not a loopback name: without tokens (open mode) Governor answers only requests addressed to localhost, *.localhost, 127.0.0.0/8 or [::1], so that no web page can reach it through DNS rebinding; use such an address, or set GOVERNOR_TOKENS or GOVERNOR_TOKENS_FILE to serve any Host',
      },
    })
    // Writes, the web UI and unknown paths alike.
    const write = await app.inject({
      method: 'PUT',
      url: '/api/v1/knobs/checkout/workers',
      headers: { host: 'rebind.example:4318' },
      payload: { type: 'int', default: 2 },
    })
    expect(write.statusCode).toBe(403)
    expect((await get('/', 'rebind.example:4318')).statusCode).toBe(403)
    expect((await get('/api/v1/nothing', 'rebind.example')).statusCode).toBe(403)
    expect((await get('/api/v1/knobs', 'localhost:4318')).json().knobs).toEqual([]) // the refused write did nothing
  })

  it.each([
    'localhost:4318',
    'localhost',
    '127.0.0.1',
    '127.0.0.1:4318',
    '[::1]',
    '[::1]:4318',
    'governor.localhost:4318',
  ])('answers Host %s', async (host) => {
    expect((await get('/api/v1/knobs', host)).statusCode).toBe(200)
  })
})

describe('with tokens', () => {
  const READ = 'read-0123456789abcdef'
  let app: FastifyInstance
  beforeAll(async () => {
    app = await buildApp(
      testSettings({ tokens: `dev=read:${READ}`, impactIntervalMillis: 0, controllerTickMillis: 0 }),
      { logger: false },
    )
  })
  afterAll(async () => {
    await app?.close()
  })

  it('answers any Host: the token is the protection', async () => {
    const res = await app.inject({
      method: 'GET',
      url: '/api/v1/knobs',
      headers: { host: 'governor.example.com', authorization: `Bearer ${READ}` },
    })
    expect(res.statusCode).toBe(200)
    expect(
      (await app.inject({ method: 'GET', url: '/api/v1/knobs', headers: { host: 'governor.example.com' } })).statusCode,
    ).toBe(401)
  })
})
