import type { ServerResponse } from 'node:http'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { KnobChange, KnobService, KnobState } from './knob-service.ts'

/** Milliseconds between SSE comments that keep idle connections (and proxies) open. */
const HEARTBEAT_MILLIS = 15_000

/** The services a list or stream shows: one, several (a scoped token's), or every one. */
export type KnobScope = string | readonly string[] | undefined

/** Whether `service` is among those `scope` shows. */
export function inScope(scope: KnobScope, service: string): boolean {
  return scope === undefined || (typeof scope === 'string' ? scope === service : scope.includes(service))
}

/**
 * The live knob stream, as Server-Sent Events: a snapshot of the scope's knobs, then each
 * change as it happens; a comment every HEARTBEAT_MILLIS. A client that reconnects with
 * Last-Event-ID gets the changes it missed, or a fresh snapshot when they are no longer held.
 *
 *   id: <boot>.<seq>   event: snapshot | knob   data: {"knobs": [...]} | <knob JSON>
 *
 * The knob's JSON is the route's (`json`), so that the stream carries what the API answers.
 */
export class KnobStreams {
  readonly #knobs: KnobService
  readonly #json: (knob: KnobState) => unknown
  readonly #open = new Set<ServerResponse>()

  constructor(knobs: KnobService, json: (knob: KnobState) => unknown) {
    this.#knobs = knobs
    this.#json = json
  }

  /** Answers `req` with a stream of the knobs in `scope`, open until the client leaves or `endAll`. */
  open(req: FastifyRequest, reply: FastifyReply, scope: KnobScope): void {
    // HEAD (fastify adds it to every GET) answers the headers at once: no stream is opened.
    if (req.method === 'HEAD') {
      reply.header('content-type', 'text/event-stream').header('cache-control', 'no-cache').send()
      return
    }
    reply.hijack()
    const res = reply.raw
    // The headers set so far (security headers, rate limits) go out too: hijacking skips them.
    res.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string | number | string[]>),
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    })
    const knobs = this.#knobs
    const send = (id: string, event: string, data: unknown) =>
      res.write(`id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
    const sendChange = (c: KnobChange) => {
      if (inScope(scope, c.knob.service)) send(`${knobs.bootId}.${c.seq}`, 'knob', this.#json(c.knob))
    }
    res.write('retry: 1000\n\n')
    // Nothing awaits between the catch-up below and the subscription, so no change can fall
    // between them.
    const lastId = req.headers['last-event-id']
    const missed = typeof lastId === 'string' ? knobs.changesSince(lastId) : undefined
    if (missed !== undefined) {
      for (const c of missed) sendChange(c)
    } else {
      send(knobs.lastId, 'snapshot', { knobs: knobs.list(scope).map(this.#json) })
    }
    const unsubscribe = knobs.subscribe(sendChange)
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), HEARTBEAT_MILLIS)
    this.#open.add(res)
    res.on('close', () => {
      clearInterval(heartbeat)
      unsubscribe()
      this.#open.delete(res)
    })
  }

  /** Ends every open stream: open streams would hold a closing server open. */
  endAll(): void {
    for (const res of this.#open) res.end()
  }
}
