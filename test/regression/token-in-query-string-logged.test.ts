import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../collector/src/app.ts'
import { testSettings } from '../helpers/settings.ts'

// Bug: a token sent in the query string (?access_token=…) was written verbatim to the log
// line of the request, which fastify writes before any check. It is now refused, and the log
// shows it redacted; here through a real listening server, as clients send it.

const TOKEN = 'read-0f0e0d0c0b0a0908'
let app: FastifyInstance
let url: string
let logs = ''
beforeAll(async () => {
  app = await buildApp(
    testSettings({ tokens: `dev=read:${TOKEN}`, impactIntervalMillis: 0, controllerTickMillis: 0 }),
    {
      logger: {
        level: 'debug',
        stream: {
          write: (line: string) => {
            logs += line
          },
        },
      },
    },
  )
  await app.listen({ host: '127.0.0.1', port: 0 })
  url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
})
afterAll(async () => {
  await app?.close()
})

describe('a token in the query string', () => {
  it('is refused, and appears in no log line', async () => {
    const res = await fetch(`${url}/api/v1/knobs?access_token=${TOKEN}`)
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('GOV_ERR_AUTH_TOKEN_IN_URL')
    const notFound = await fetch(`${url}/no/such/path?token=${TOKEN}`)
    expect(notFound.status).toBe(400)
    expect(await notFound.text()).not.toContain(TOKEN)
    // The request lines were written (so the check below looks at real ones).
    expect(logs).toContain('"url":"/api/v1/knobs?access_token=[redacted]"')
    expect(logs).toContain('"url":"/no/such/path?token=[redacted]"')
    expect(logs).not.toContain(TOKEN)
  })
})
