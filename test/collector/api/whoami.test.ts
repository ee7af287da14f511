import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../../collector/src/app.ts'
import { checkAnswers } from '../../helpers/answer-schemas.ts'
import { testSettings } from '../../helpers/settings.ts'

// With tokens: whoami tells each token its granted roles; the UI's page and assets are open,
// the services aggregate needs a read token like every other GET under /api/v1.

const TOKENS = {
  app: 'app-8c1d2e3f4a5b6c7d',
  ci: 'ci-3f9a4b5c6d7e8f90',
  ops: 'ops-77aa88bb99cc00dd',
  dev: 'dev-1a2b3c4d5e6f7a8b',
}
let app: FastifyInstance
beforeAll(async () => {
  const tokens = `app=ingest:${TOKENS.app},ci=deploy:${TOKENS.ci},ops=operate:${TOKENS.ops},dev=read:${TOKENS.dev}`
  app = await buildApp(testSettings({ tokens, impactIntervalMillis: 0, controllerTickMillis: 0 }), {
    logger: false,
    instrument: checkAnswers(),
  })
})
afterAll(async () => {
  await app?.close()
})

const get = (url: string, who?: keyof typeof TOKENS) =>
  app.inject({ method: 'GET', url, headers: who === undefined ? {} : { authorization: `Bearer ${TOKENS[who]}` } })

describe('GET /api/v1/whoami with tokens', () => {
  it('answers each token its name and the roles it is granted (deploy and operate read too)', async () => {
    const answers = Object.fromEntries(
      await Promise.all(
        (Object.keys(TOKENS) as (keyof typeof TOKENS)[]).map(async (who) => [
          who,
          (await get('/api/v1/whoami', who)).json(),
        ]),
      ),
    )
    expect(answers).toEqual({
      app: { open: false, name: 'app', roles: ['ingest'] },
      ci: { open: false, name: 'ci', roles: ['deploy', 'read'] },
      ops: { open: false, name: 'ops', roles: ['operate', 'read'] },
      dev: { open: false, name: 'dev', roles: ['read'] },
    })
  })

  it('refuses a request without a valid token with 401, as every route does', async () => {
    const none = await get('/api/v1/whoami')
    expect(none.statusCode).toBe(401)
    expect(none.json().error.code).toBe('GOV_ERR_AUTH_MISSING')
    expect(none.headers['www-authenticate']).toBe('Bearer realm="governor"')
    const wrong = await app.inject({
      method: 'GET',
      url: '/api/v1/whoami',
      headers: { authorization: 'Bearer not-a-configured-token' },
    })
    expect(wrong.statusCode).toBe(401)
  })
})

describe('the web UI with tokens', () => {
  it('serves the page and its assets without a token: they hold no data', async () => {
    const page = await get('/')
    expect(page.statusCode).toBe(200)
    const script = /src="(\/ui\/[^"]+)"/.exec(page.body)![1]!
    expect((await get(script)).statusCode).toBe(200)
  })

  it('reads the services aggregate with a read token only', async () => {
    expect((await get('/api/v1/services')).statusCode).toBe(401)
    expect((await get('/api/v1/services', 'app')).statusCode).toBe(403)
    expect((await get('/api/v1/services', 'dev')).statusCode).toBe(200)
    expect((await get('/api/v1/services/checkout', 'ops')).statusCode).toBe(200)
  })
})
