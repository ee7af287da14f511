import { describe, expect, it } from 'vitest'
import { gaugeRequest } from '../helpers/otlp.ts'
import { startServer } from '../helpers/server.ts'

// chDB binds one data directory per process, so this server gets a test file of its own.
const now = Date.now()

describe('backpressure', () => {
  it('answers 503 with Retry-After when the pipeline is full, and keeps what it accepted', async () => {
    const { app: small, url: smallUrl } = await startServer({ maxPendingPoints: 1, flushIntervalMillis: 1500 })
    try {
      const send = (v: number) =>
        fetch(`${smallUrl}/v1/metrics`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(gaugeRequest('bp', { 'bp.gauge': [{ ts: now + v, value: v }] })),
        })
      const first = send(1)
      await new Promise((r) => setTimeout(r, 200))
      const second = await send(2)
      expect(second.status).toBe(503)
      expect(second.headers.get('retry-after')).toBe('1')
      expect((await first).status).toBe(200)
      const q = (await (await fetch(`${smallUrl}/api/v1/query?metric=bp.gauge`)).json()) as {
        series: { points: number[][] }[]
      }
      expect(q.series[0]!.points).toEqual([[now + 1, 1]])
    } finally {
      await small.close()
    }
  })
})
