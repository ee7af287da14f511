import { once } from 'node:events'
import { connect } from 'node:net'
import Fastify from 'fastify'
import { Registry } from 'prom-client'
import { expect, it } from 'vitest'
import { installArrivalClock } from '../../../collector/src/http/arrival-clock.ts'
import { installIngestAdmission } from '../../../collector/src/http/ingest-admission.ts'

// The ingest turns give way to new connections (Turns.noteAccept): admission must tell them
// of every connection the server accepts, or the rule is dead code.
it('tells the decoding turns of every connection the server accepts', async () => {
  const app = Fastify()
  installArrivalClock(app)
  const admission = installIngestAdmission(
    app,
    { ingestMaxWaitMillis: 0, maxInflightIngestBodyBytes: 0 },
    new Registry(),
  )
  let accepted = 0
  const noteAccept = admission.turns.noteAccept.bind(admission.turns)
  admission.turns.noteAccept = () => {
    accepted++
    noteAccept()
  }
  await app.listen({ host: '127.0.0.1', port: 0 })
  try {
    const { port } = app.server.address() as { port: number }
    for (let n = 1; n <= 2; n++) {
      const socket = connect(port, '127.0.0.1')
      await once(socket, 'connect')
      while (accepted < n) await new Promise((r) => setImmediate(r))
      socket.destroy()
    }
    expect(accepted).toBe(2)
  } finally {
    await app.close()
  }
})
