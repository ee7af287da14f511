import { request } from 'node:http'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer } from '../helpers/server.ts'

// Bug: HEAD /api/v1/knobs/stream (fastify adds a HEAD route to every GET) ran the stream's
// handler: it opened the stream, whose headers Node never sends on a HEAD until the response
// ends, so the request hung, holding a connection and a subscription. HEAD now answers the
// headers at once.

let app: FastifyInstance
let url: string
beforeAll(async () => {
  ;({ app, url } = await startServer({ impactIntervalMillis: 0, controllerTickMillis: 0 }))
})
afterAll(async () => {
  await app?.close()
})

/** A HEAD through a real connection: the answer's status and headers, or a rejection after `millis`. */
function head(path: string, millis: number): Promise<{ status: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method: 'HEAD' }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }))
    })
    req.setTimeout(millis, () => req.destroy(new Error(`HEAD ${path} did not answer in ${millis} ms`)))
    req.on('error', reject)
    req.end()
  })
}

describe('HEAD on the knob stream', () => {
  it("answers at once with the stream's headers, over a real connection", async () => {
    const res = await head('/api/v1/knobs/stream?service=checkout', 5_000)
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toBe('text/event-stream')
  })

  it('answers through inject too (which waits for the end of the response)', async () => {
    const res = await app.inject({ method: 'HEAD', url: '/api/v1/knobs/stream' })
    expect(res.statusCode).toBe(200)
    expect(res.body).toBe('')
  })

  it('leaves no stream open behind it: GET still streams', async () => {
    const ac = new AbortController()
    const res = await fetch(`${url}/api/v1/knobs/stream`, { signal: ac.signal })
    const reader = res.body!.getReader()
    let text = ''
    while (!text.includes('event: snapshot')) text += new TextDecoder().decode((await reader.read()).value)
    ac.abort()
  })
})
