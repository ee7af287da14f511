import { once } from 'node:events'
import { connect } from 'node:net'
import { describe, expect, it } from 'vitest'
import { gaugeRequest } from '../helpers/otlp.ts'
import { startServer } from '../helpers/server.ts'

// Bug: closing the app waited for clients to let go of their connections. Node's
// server.close() ends only the connections idle when it is called, so two kinds held the
// close (and the pipeline and store, closed after it) until the client closed them: the
// keep-alive connection of an ingest request still waiting for its commit (answered 200 with
// `Connection: keep-alive`), and a connection that had sent nothing yet, which Node counts as
// busy. `governor` hit its 10 s shutdown timeout on SIGTERM and exited 1.
// (test/e2e/shutdown.test.ts shows it end to end, with the real process.)

describe('closing with connections open', () => {
  it('answers the request in flight with Connection: close, ends the silent connection, and closes without waiting for the clients', async () => {
    const { app, url } = await startServer({ flushIntervalMillis: 1000, walDir: 'off' }) // the request waits for its commit
    const silent = connect(Number(new URL(url).port), '127.0.0.1') // opened, never used
    await once(silent, 'connect')
    const silentEnded = once(silent, 'close')
    silent.on('error', () => {})
    const answer = fetch(`${url}/v1/metrics`, {
      // fetch keeps its connections alive
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(gaugeRequest('close', { 'close.gauge': [{ ts: Date.now(), value: 1 }] })),
    })
    while (app.governor.pipeline.pendingPoints === 0) await new Promise((r) => setTimeout(r, 5))
    const started = performance.now()
    const closed = app.close()
    const res = await answer
    expect(res.status).toBe(200)
    expect(res.headers.get('connection')).toBe('close')
    await silentEnded
    await closed
    expect(performance.now() - started).toBeLessThan(3_000) // the commit waits up to 1 s; the held close waited for the clients
  })
})
