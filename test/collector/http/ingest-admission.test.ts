import { connect } from 'node:net'
import { once } from 'node:events'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { gaugeRequest } from '../../helpers/otlp.ts'
import { startServer } from '../../helpers/server.ts'

// Admission of the receivers' requests before their bodies are read: a ceiling on the bytes
// of bodies being read and decoded at once, and a bound on the time a request has waited.
// Without a write-ahead log a request waits for its commit, held here by a long flush
// interval, so the bytes of its body stay taken until the test commits.

let app: FastifyInstance
let url: string
beforeAll(async () => {
  ;({ app, url } = await startServer({
    walDir: 'off',
    flushIntervalMillis: 60_000,
    maxInflightIngestBodyBytes: 1024,
    ingestMaxWaitMillis: 60_000,
  }))
})
afterAll(async () => {
  await app?.close()
})

let ts = Date.now() - 60_000
/** An OTLP JSON body of about `bytes` bytes (a long metric name pads it). */
const body = (bytes: number) => {
  const base = JSON.stringify(gaugeRequest('admission', { m: [{ ts: ts++, value: 1 }] }))
  return JSON.stringify(
    gaugeRequest('admission', { [`m${'x'.repeat(Math.max(0, bytes - base.length))}`]: [{ ts: ts++, value: 1 }] }),
  )
}
const post = (payload: string) =>
  fetch(`${url}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload })
const metrics = async () => (await fetch(`${url}/metrics`)).text()

/** Sends only the head of a request (its Content-Length announces a body never sent) and reads the answer. */
async function headOnly(path: string, contentLength: number, contentType: string): Promise<string> {
  const { port } = new URL(url)
  const socket = connect(Number(port), '127.0.0.1')
  await once(socket, 'connect')
  socket.write(
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${contentType}\r\nContent-Length: ${contentLength}\r\n\r\n`,
  )
  let answer = ''
  socket.setEncoding('utf8')
  socket.on('data', (d: string) => {
    answer += d
  })
  while (!/\r\n\r\n/.test(answer) || !answer.includes('GOV_ERR')) await once(socket, 'data')
  socket.destroy()
  return answer
}

describe('ingest admission', () => {
  it('refuses with 503 and Retry-After, before reading it, a body that would take the bytes being read past the ceiling, and counts it', async () => {
    const first = body(700)
    const held = post(first)
    while (app.governor.pipeline.pendingPoints === 0) await new Promise((r) => setTimeout(r, 5))
    let m = await metrics()
    expect(m).toMatch(new RegExp(`^governor_ingest_body_bytes_inflight ${Buffer.byteLength(first)}$`, 'm'))

    // 700 + 600 > 1024: refused, though its body was never sent.
    const answer = await headOnly('/v1/metrics', 600, 'application/json')
    expect(answer).toMatch(/^HTTP\/1\.1 503 /)
    expect(answer).toMatch(/\r\nretry-after: 1\r\n/i)
    expect(answer).toContain('"error":"GOV_ERR_INGEST_OVERLOADED"')
    expect(answer).toContain('GOVERNOR_MAX_INFLIGHT_INGEST_BODY_BYTES')
    // Remote write is refused the same way, in its own (plain text) shape.
    const rw = await headOnly('/api/v1/write', 600, 'application/x-protobuf')
    expect(rw).toMatch(/^HTTP\/1\.1 503 /)
    expect(rw).toMatch(/\r\n\r\nGOV_ERR_INGEST_OVERLOADED: /)
    m = await metrics()
    expect(m).toMatch(/^governor_ingest_admission_refused_total\{reason="body_bytes"\} 2$/m)

    // A small body still fits beside the first.
    const small = post(body(200))
    while (app.governor.pipeline.pendingPoints < 2) await new Promise((r) => setTimeout(r, 5))
    await app.governor.pipeline.sync()
    expect((await held).status).toBe(200)
    expect((await small).status).toBe(200)
    // Every byte comes back once the requests are answered.
    while (!/^governor_ingest_body_bytes_inflight 0$/m.test((m = await metrics())))
      await new Promise((r) => setTimeout(r, 5))
    const again = post(body(900))
    while (app.governor.pipeline.pendingPoints === 0) await new Promise((r) => setTimeout(r, 5))
    await app.governor.pipeline.sync()
    expect((await again).status).toBe(200)
  })

  it('sheds with 503 and Retry-After, unprocessed, a request that waited past the bound since it arrived', async () => {
    const { arrivalClock } = app
    const arrival = arrivalClock.arrival.bind(arrivalClock)
    // Every request now seems to have waited a minute and a half in the event loop.
    arrivalClock.arrival = () => performance.now() - 90_000
    try {
      const pending = app.governor.pipeline.pendingPoints
      const res = await post(body(100))
      expect(res.status).toBe(503)
      expect(res.headers.get('retry-after')).toBe('1')
      const error = (await res.json()) as { error: string; message: string }
      expect(error.error).toBe('GOV_ERR_INGEST_OVERLOADED')
      expect(error.message).toMatch(/waited \d+ ms for the server, past 60000 ms \(GOVERNOR_INGEST_MAX_WAIT_MILLIS\)/)
      expect(app.governor.pipeline.pendingPoints).toBe(pending) // nothing of it was taken
      // Health is not held to the bound.
      expect((await fetch(`${url}/readyz`)).status).toBe(200)
    } finally {
      arrivalClock.arrival = arrival
    }
    expect(await metrics()).toMatch(/^governor_ingest_admission_refused_total\{reason="waited"\} 1$/m)
    const ok = post(body(100))
    while (app.governor.pipeline.pendingPoints === 0) await new Promise((r) => setTimeout(r, 5))
    await app.governor.pipeline.sync()
    expect((await ok).status).toBe(200)
  })
})
