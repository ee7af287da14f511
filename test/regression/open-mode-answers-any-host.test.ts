import { request } from 'node:http'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer } from '../helpers/server.ts'

// Bug: open mode (no tokens, bound to loopback) answered any Host, so a web page that points a
// name of its own at 127.0.0.1 (DNS rebinding) could read and change everything of a Governor
// on a laptop, through the visitor's browser. Requests to names other than loopback ones are
// now refused, over a real connection as a browser would send them.

let app: FastifyInstance
let url: string
beforeAll(async () => {
  ;({ app, url } = await startServer({ impactIntervalMillis: 0, controllerTickMillis: 0 }))
})
afterAll(async () => {
  await app?.close()
})

function send(method: string, path: string, host: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}${path}`,
      { method, headers: { host, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) } },
      (res) => {
        let text = ''
        res.on('data', (d: Buffer) => {
          text += d.toString()
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

describe('open mode and the Host header', () => {
  it('refuses a rebound name, for reads and writes', async () => {
    const port = new URL(url).port
    const read = await send('GET', '/api/v1/knobs', `rebind.example:${port}`)
    expect(read.status).toBe(403)
    expect(JSON.parse(read.body).error.code).toBe('GOV_ERR_AUTH_HOST')
    const write = await send(
      'PUT',
      '/api/v1/knobs/laptop/workers',
      'rebind.example',
      JSON.stringify({ type: 'int', default: 1 }),
    )
    expect(write.status).toBe(403)
    expect(app.governor.knobs.list('laptop')).toEqual([])
  })

  it.each(['localhost:4318', '127.0.0.1', '[::1]'])('answers %s', async (host) => {
    expect((await send('GET', '/api/v1/knobs', host)).status).toBe(200)
  })
})
