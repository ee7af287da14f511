import type { Socket } from 'node:net'
import type { FastifyInstance } from 'fastify'

/** How often, while closing, connections that have sent nothing are looked for again. */
const SWEEP_MILLIS = 100

/**
 * Lets the app close while clients hold connections open. Fastify runs its onClose hooks (the
 * pipeline's last commit, closing the store) only once every connection has ended, and Node's
 * server.close() ends only the connections idle at that moment; it counts a connection that
 * has not sent a request yet as busy. Left alone, either kind held the close until the client
 * let go (undici after 4 s, others never) and `governor` hit its shutdown timeout. So, once
 * closing:
 *
 *  - every answer says `Connection: close`: the connection of a request still in flight (an
 *    ingest waiting for its commit) ends with its answer;
 *  - connections that have sent nothing (a pooled connection opened but not yet used, a load
 *    balancer's TCP probe) are ended, at once and every SWEEP_MILLIS until the server closes.
 */
export function installGracefulClose(app: FastifyInstance): void {
  const sockets = new Set<Socket>()
  app.server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  let closing = false
  let sweeper: NodeJS.Timeout | undefined
  const sweep = () => {
    for (const s of sockets) if (s.bytesRead === 0) s.destroy()
  }
  app.addHook('preClose', (done) => {
    closing = true
    sweep()
    sweeper = setInterval(sweep, SWEEP_MILLIS).unref()
    done()
  })
  app.addHook('onClose', (_app, done) => {
    clearInterval(sweeper)
    done()
  })
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (closing) reply.header('connection', 'close')
    done(null, payload)
  })
}
