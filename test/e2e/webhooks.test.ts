import { createHmac, timingSafeEqual } from 'node:crypto'
import { once } from 'node:events'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkAnswers } from '../helpers/answer-schemas.ts'
import { startServer } from '../helpers/server.ts'

// A real receiver on a loopback port: it verifies the Standard Webhooks signature of every
// request on its own (node:crypto, not Governor's code), answers 500 to the first two
// attempts of each message and 200 to the third. Each event must get exactly one 2xx.

const KEY_B64 = Buffer.from('governor-e2e-webhook-key-0123456789').toString('base64')
const SECRET = `whsec_${KEY_B64}`

interface Received {
  path: string
  headers: IncomingHttpHeaders
  body: string
  answered: number
  valid: boolean
}

function verify(headers: IncomingHttpHeaders, body: string): boolean {
  const id = headers['webhook-id'],
    ts = headers['webhook-timestamp'],
    sig = headers['webhook-signature']
  if (typeof id !== 'string' || typeof ts !== 'string' || typeof sig !== 'string') return false
  if (Math.abs(Date.now() / 1000 - Number(ts)) > 300) return false
  const expected = Buffer.from(
    `v1,${createHmac('sha256', Buffer.from(KEY_B64, 'base64')).update(`${id}.${ts}.${body}`).digest('base64')}`,
  )
  return sig
    .split(' ')
    .some((s) => Buffer.from(s).length === expected.length && timingSafeEqual(Buffer.from(s), expected))
}

async function until<T>(
  what: string,
  f: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMillis = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMillis
  for (;;) {
    const v = await f()
    if (v !== undefined && v !== false) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe('webhooks end to end', () => {
  const received: Received[] = []
  const attemptsById = new Map<string, number>()
  let receiver: Server
  let governor: { app: FastifyInstance; url: string }

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = ''
      req.setEncoding('utf8')
      req.on('data', (c: string) => {
        body += c
      })
      req.on('end', () => {
        let status = 200
        let valid = true
        if (req.url === '/hook') {
          valid = verify(req.headers, body)
          const id = String(req.headers['webhook-id'])
          const n = (attemptsById.get(id) ?? 0) + 1
          attemptsById.set(id, n)
          status = !valid ? 401 : n <= 2 ? 500 : 200
        }
        received.push({ path: req.url ?? '', headers: req.headers, body, answered: status, valid })
        res.writeHead(status).end(status === 200 ? 'ok' : 'try again')
      })
    }).listen(0, '127.0.0.1')
    await once(receiver, 'listening')
    const { port } = receiver.address() as { port: number }
    governor = await startServer(
      {
        sinks: JSON.stringify([
          { name: 'audit', type: 'webhook', url: `http://127.0.0.1:${port}/hook`, secret: SECRET },
          { name: 'chat', type: 'slack', url: `http://127.0.0.1:${port}/slack`, kinds: ['deploy', 'incident'] },
        ]),
        webhookBackoffBaseMillis: 20,
        webhookScanIntervalMillis: 25,
        webhookAllowPrivate: 1, // the receiver is on loopback
      },
      { instrument: checkAnswers() },
    )
  })
  afterAll(async () => {
    await governor?.app.close()
    receiver?.close()
  })

  const post = async (path: string, body: object) => {
    const res = await fetch(`${governor.url}/api/v1/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    expect(res.status).toBe(201)
    return (await res.json()) as { id: string }
  }

  it('delivers each event exactly once after two 500s, signed, with a stable webhook-id', async () => {
    const ids = [
      (
        await post('deploys', {
          service: 'checkout',
          version: '1.4.2',
          actor: 'alice',
          commit: '9f2c1e0',
          description: 'faster cart totals',
          url: 'https://ci.example.com/b/1',
        })
      ).id,
      (await post('events', { kind: 'incident', title: 'card payments failing', actor: 'bob', service: 'checkout' }))
        .id,
      (await post('events', { kind: 'note', title: 'cache warmed', actor: 'carol', service: 'search' })).id,
    ]
    const hooks = () => received.filter((r) => r.path === '/hook')
    const delivered = (id: string) => hooks().filter((r) => JSON.parse(r.body).data.id === id && r.answered === 200)
    await until('three deliveries', () => ids.every((id) => delivered(id).length > 0))
    await new Promise((r) => setTimeout(r, 300)) // several scan intervals: nothing more may come

    for (const id of ids) {
      const attempts = hooks().filter((r) => JSON.parse(r.body).data.id === id)
      expect(
        attempts.map((a) => a.answered),
        `event ${id}`,
      ).toEqual([500, 500, 200])
      expect(new Set(attempts.map((a) => a.headers['webhook-id'])).size).toBe(1)
      expect(attempts.every((a) => a.valid)).toBe(true)
    }
    expect(hooks().every((r) => r.valid)).toBe(true)
    expect(JSON.parse(delivered(ids[0]!)[0]!.body)).toMatchObject({
      type: 'governor.deploy',
      data: { id: ids[0], kind: 'deploy', service: 'checkout', version: '1.4.2' },
    })

    const texts = received.filter((r) => r.path === '/slack').map((r) => JSON.parse(r.body).text as string)
    expect(texts).toEqual([
      ':rocket: alice deployed checkout 1.4.2 to production (9f2c1e0) — faster cart totals <https://ci.example.com/b/1|details>',
      ':rotating_light: incident on checkout: card payments failing (bob)',
    ])

    const res = (await (await fetch(`${governor.url}/api/v1/webhooks/deliveries?sink=audit`)).json()) as {
      deliveries: Record<string, unknown>[]
    }
    expect(res.deliveries).toHaveLength(3)
    for (const d of res.deliveries) {
      const headerId = hooks().find((r) => JSON.parse(r.body).data.id === d.event_id)!.headers['webhook-id']
      expect(d).toMatchObject({
        sink: 'audit',
        status: 'delivered',
        attempts: 3,
        last_status_code: 200,
        webhook_id: headerId,
        next_attempt_at: null,
      })
    }
    expect(res.deliveries.map((d) => d.event_id)).toEqual([...ids].reverse())
    const failed = await fetch(`${governor.url}/api/v1/webhooks/deliveries?status=lost`)
    expect(failed.status).toBe(400)

    const sinks = (await (await fetch(`${governor.url}/api/v1/webhooks/sinks`)).json()) as {
      sinks: Record<string, unknown>[]
    }
    expect(sinks.sinks).toEqual([
      expect.objectContaining({ name: 'audit', type: 'webhook', signed: true, disabled: false, pending: 0 }),
      expect.objectContaining({ name: 'chat', type: 'slack', kinds: ['deploy', 'incident'], signed: false }),
    ])
    expect(JSON.stringify(sinks)).not.toContain(KEY_B64)

    const metrics = await (await fetch(`${governor.url}/metrics`)).text()
    expect(metrics).toContain('governor_webhook_deliveries_total{sink="audit",outcome="retried"} 6')
    expect(metrics).toContain('governor_webhook_deliveries_total{sink="audit",outcome="delivered"} 3')
  })
})
