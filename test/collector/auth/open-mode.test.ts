import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../../collector/src/app.ts'
import { testSettings } from '../../helpers/settings.ts'

// No tokens, bound to loopback: open for local use, as before tokens existed.

let app: FastifyInstance
let logs = ''

beforeAll(async () => {
  app = await buildApp(testSettings({ host: '127.0.0.1' }), {
    logger: {
      level: 'warn',
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

describe('open mode', () => {
  it('says so at start in one log line', () => {
    const lines = logs.split('\n').filter((l) => l.includes('open mode'))
    expect(lines).toHaveLength(1)
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 40,
      msg: 'no tokens configured: open mode, anyone who can reach 127.0.0.1 may send, read and change everything (for local use); set GOVERNOR_TOKENS or GOVERNOR_TOKENS_FILE to require bearer tokens',
    })
  })

  it('serves every route without a token, and ignores a token it cannot know', async () => {
    const ingest = await app.inject({
      method: 'POST',
      url: '/v1/metrics',
      headers: { 'content-type': 'application/json' },
      payload: { resourceMetrics: [] },
    })
    expect(ingest.statusCode).toBe(200)
    expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200)
    expect(
      (
        await app.inject({
          method: 'GET',
          url: '/api/v1/deploys/last',
          headers: { authorization: 'Bearer whatever-it-may-be-0000' },
        })
      ).statusCode,
    ).toBe(200)
  })

  it('keeps the body actor, and still requires it', async () => {
    const deploy = await app.inject({
      method: 'POST',
      url: '/api/v1/deploys',
      payload: { service: 'api', version: '1', actor: 'alice' },
    })
    expect(deploy.statusCode).toBe(201)
    expect(deploy.json()).toMatchObject({ actor: 'alice' })
    const anonymous = await app.inject({
      method: 'POST',
      url: '/api/v1/deploys',
      payload: { service: 'api', version: '2' },
    })
    expect(anonymous.statusCode).toBe(400)
    expect(anonymous.json()).toEqual({ error: { code: 'GOV_ERR_CHANGE_INVALID', message: 'actor is required' } })
    const declared = await app.inject({
      method: 'PUT',
      url: '/api/v1/knobs/api/workers',
      payload: { type: 'int', default: 2 },
    })
    expect(declared.json()).toMatchObject({ changed_by: 'app:api' })
    const noActor = await app.inject({
      method: 'POST',
      url: '/api/v1/knobs/api/workers/value',
      payload: { value: 3, reason: 'x' },
    })
    expect(noActor.statusCode).toBe(400)
    expect(noActor.json().error.message).toBe('actor is required')
  })
})
