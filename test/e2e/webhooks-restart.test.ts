import { spawnSync, type ChildProcess } from 'node:child_process'
import { createHmac } from 'node:crypto'
import { once } from 'node:events'
import { mkdtempSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort, spawnServer } from '../helpers/server.ts'

// The outbox is durable: events accepted while the receiver is down are delivered by the
// next Governor started on the same data directory, with the same webhook-ids.

const KEY_B64 = Buffer.from('governor-e2e-restart-key-0123456789').toString('base64')
const children: ChildProcess[] = []
const servers: Server[] = []
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
  for (const s of servers) s.close()
})

function signatureValid(h: IncomingHttpHeaders, body: string): boolean {
  const mac = createHmac('sha256', Buffer.from(KEY_B64, 'base64'))
    .update(`${h['webhook-id']}.${h['webhook-timestamp']}.${body}`)
    .digest('base64')
  return h['webhook-signature'] === `v1,${mac}`
}

async function until<T>(
  what: string,
  f: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMillis = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMillis
  for (;;) {
    const v = await f()
    if (v !== undefined && v !== false) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

interface Delivery {
  event_id: string
  webhook_id: string
  status: string
  attempts: number
  last_error: string | null
}

describe('webhook outbox across a restart', () => {
  it('delivers events accepted while the receiver was down once Governor starts again', async () => {
    const port = await freePort() // nothing listens there yet: connections are refused
    const env = {
      GOVERNOR_DATA_DIR: mkdtempSync(join(tmpdir(), 'governor-webhooks-')),
      GOVERNOR_SINKS: JSON.stringify([
        { name: 'audit', type: 'webhook', url: `http://127.0.0.1:${port}/hook`, secret: `whsec_${KEY_B64}` },
      ]),
      GOVERNOR_WEBHOOK_BACKOFF_BASE_MILLIS: '50',
      GOVERNOR_WEBHOOK_BACKOFF_MAX_MILLIS: '200',
      GOVERNOR_WEBHOOK_SCAN_INTERVAL_MILLIS: '50',
      GOVERNOR_WEBHOOK_ALLOW_PRIVATE: '1', // the receiver is on loopback
    }
    const first = await spawnServer(env)
    children.push(first.child)
    const ids: string[] = []
    for (const title of ['one', 'two', 'three']) {
      const res = await fetch(`${first.url}/api/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ kind: 'note', title, actor: 'ci', service: 'checkout' }),
      })
      expect(res.status).toBe(201)
      ids.push(((await res.json()) as { id: string }).id)
    }
    const before = await until('failed attempts on every event', async () => {
      const { deliveries } = (await (await fetch(`${first.url}/api/v1/webhooks/deliveries`)).json()) as {
        deliveries: Delivery[]
      }
      return deliveries.length === 3 && deliveries.every((d) => d.status === 'pending' && d.attempts >= 1) && deliveries
    })
    expect(before[0]!.last_error).toContain('ECONNREFUSED')
    first.child.kill('SIGTERM')
    const [code] = (await once(first.child, 'exit')) as [number]
    expect(code).toBe(0)

    const got: { headers: IncomingHttpHeaders; body: string }[] = []
    const receiver = createServer((req, res) => {
      let body = ''
      req.setEncoding('utf8')
      req.on('data', (c: string) => {
        body += c
      })
      req.on('end', () => {
        got.push({ headers: req.headers, body })
        res.writeHead(200).end()
      })
    }).listen(port, '127.0.0.1')
    servers.push(receiver)
    await once(receiver, 'listening')
    expect(got).toHaveLength(0)

    const second = await spawnServer(env)
    children.push(second.child)
    await until(
      'every event delivered after the restart',
      () => new Set(got.map((g) => JSON.parse(g.body).data.id)).size === 3,
    )
    expect(got.map((g) => JSON.parse(g.body).data.id).sort()).toEqual([...ids].sort())
    expect(got.every((g) => signatureValid(g.headers, g.body))).toBe(true)
    const idsBefore = new Map(before.map((d) => [d.event_id, d.webhook_id]))
    for (const g of got) expect(g.headers['webhook-id']).toBe(idsBefore.get(JSON.parse(g.body).data.id))
    const after = await until('delivered states', async () => {
      const { deliveries } = (await (await fetch(`${second.url}/api/v1/webhooks/deliveries`)).json()) as {
        deliveries: Delivery[]
      }
      return deliveries.every((d) => d.status === 'delivered') && deliveries
    })
    expect(after).toHaveLength(3)
    expect(got).toHaveLength(3)
    second.child.kill('SIGTERM')
    await once(second.child, 'exit')
  }, 60_000)

  it('refuses to start with an invalid sink, naming the sink and the problem', () => {
    const bin = fileURLToPath(new URL('../../collector/bin/governor.js', import.meta.url))
    const r = spawnSync(process.execPath, [bin, 'start'], {
      encoding: 'utf8',
      timeout: 30_000,
      env: {
        ...process.env,
        GOVERNOR_DATA_DIR: mkdtempSync(join(tmpdir(), 'governor-webhooks-')),
        GOVERNOR_PORT: '0',
        GOVERNOR_SINKS: '[{"name": "audit", "type": "webhook", "url": "http://127.0.0.1:9/x", "secret": "hunter2"}]',
      },
    })
    expect(r.status).toBe(1)
    expect(r.stderr).toContain(
      'GOV_ERR_SETTINGS_INVALID: GOVERNOR_SINKS: sink "audit": secret must start with "whsec_"',
    )
    expect(r.stderr).not.toContain('hunter2')
  })
})
