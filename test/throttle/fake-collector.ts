import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { KnobJson } from '../../throttle/src/wire.ts'

/**
 * A collector stand-in speaking the knob API's wire format (SSE stream, list with ETag,
 * declarations), for what the real collector never does: send a bad value, cut a stream,
 * refuse to stream.
 */
export class FakeCollector {
  readonly server: Server
  url = ''
  /** Knobs by name, as the collector's JSON shows them. */
  readonly knobs = new Map<string, Record<string, unknown>>()
  readonly requests: { method: string; path: string; headers: IncomingMessage['headers'] }[] = []
  readonly streams = new Set<ServerResponse>()
  /** Answer the stream with this status instead of streaming. */
  streamStatus = 200
  /** Hold the answers to declarations this long (they carry the knob as it was when asked). */
  putDelayMillis = 0
  seq = 0
  /** Events held for Last-Event-ID. */
  readonly sent: { id: string; data: string }[] = []

  constructor() {
    this.server = createServer((req, res) => this.#handle(req, res))
  }

  async start(): Promise<this> {
    this.server.listen(0, '127.0.0.1')
    await once(this.server, 'listening')
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`
    return this
  }

  async close(): Promise<void> {
    for (const s of this.streams) s.destroy()
    this.server.closeAllConnections()
    await new Promise((r) => this.server.close(r))
  }

  /** Sets a knob (any value: no check) and sends it to every stream. */
  push(knob: Record<string, unknown>): void {
    const full = { ...this.knobs.get(knob.name as string), ...knob }
    this.knobs.set(full.name as string, full)
    const id = `fake.${++this.seq}`
    const data = JSON.stringify(full)
    this.sent.push({ id, data })
    for (const s of this.streams) s.write(`id: ${id}\nevent: knob\ndata: ${data}\n\n`)
  }

  /** Ends every open stream, as a collector restart does. */
  cutStreams(): void {
    for (const s of this.streams) s.end()
    this.streams.clear()
  }

  count(method: string, path: string): number {
    return this.requests.filter((r) => r.method === method && r.path.startsWith(path)).length
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url!, 'http://x')
    this.requests.push({ method: req.method!, path: url.pathname + url.search, headers: req.headers })
    const m = /^\/api\/v1\/knobs\/([^/]+)\/([^/]+)$/.exec(url.pathname)
    if (req.method === 'PUT' && m !== null) {
      let body = ''
      req.on('data', (d: Buffer) => {
        body += d.toString()
      })
      req.on('end', () => {
        const def = JSON.parse(body) as Record<string, unknown>
        const name = decodeURIComponent(m[2]!)
        const old = this.knobs.get(name)
        // The stand-in keeps whatever a test pushes (bad values too); a declaration it answers as the collector does.
        const knob: Record<string, unknown> = old ?? { ...declared(decodeURIComponent(m[1]!), name, def) }
        this.knobs.set(name, knob)
        const answer = JSON.stringify(knob)
        setTimeout(
          () => res.writeHead(old === undefined ? 201 : 200, { 'content-type': 'application/json' }).end(answer),
          this.putDelayMillis,
        )
      })
      return
    }
    if (req.method === 'GET' && url.pathname === '/api/v1/knobs/stream') {
      if (this.streamStatus !== 200) {
        res.writeHead(this.streamStatus).end('no streams here')
        return
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.write('retry: 1000\n\n')
      const last = req.headers['last-event-id']
      const at = this.sent.findIndex((e) => e.id === last)
      if (typeof last === 'string' && at >= 0) {
        for (const e of this.sent.slice(at + 1)) res.write(`id: ${e.id}\nevent: knob\ndata: ${e.data}\n\n`)
      } else {
        res.write(
          `id: fake.${this.seq}\nevent: snapshot\ndata: ${JSON.stringify({ knobs: [...this.knobs.values()] })}\n\n`,
        )
      }
      this.streams.add(res)
      res.on('close', () => this.streams.delete(res))
      return
    }
    if (req.method === 'GET' && url.pathname === '/api/v1/knobs') {
      const etag = `"fake.${this.seq}.${this.knobs.size}"`
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, { etag }).end()
        return
      }
      res
        .writeHead(200, { 'content-type': 'application/json', etag })
        .end(JSON.stringify({ knobs: [...this.knobs.values()] }))
      return
    }
    res.writeHead(404).end()
  }
}

/** A knob as the collector answers a first declaration: the wire format, field for field. */
export function declared(service: string, name: string, def: Record<string, unknown>): KnobJson {
  return {
    service,
    name,
    type: def.type as KnobJson['type'],
    default: def.default as KnobJson['default'],
    min: (def.min as number | undefined) ?? null,
    max: (def.max as number | undefined) ?? null,
    values: (def.values as string[] | undefined) ?? null,
    unit: (def.unit as string | undefined) ?? '',
    description: (def.description as string | undefined) ?? '',
    owner: (def.owner as string | undefined) ?? '',
    mode: 'manual',
    value: def.default as KnobJson['value'],
    version: 1,
    changed_at: new Date().toISOString(),
    changed_by: 'app',
    reason: 'declared',
    change_id: `declared-${name}`,
    follows_default: true,
    conflict: null,
  }
}

/** Resolves when `check` holds, polling; fails with `what` after `timeoutMillis`. */
export async function waitFor(check: () => boolean, what: string, timeoutMillis = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMillis
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}
