import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { gaugeRequest } from '../helpers/otlp.ts'
import { spawnServer } from '../helpers/server.ts'
import type { ChildProcess } from 'node:child_process'

// A collector killed with SIGKILL in the middle of ingest must have, after a restart, every
// point it acknowledged. Eight senders post distinct points as fast as they are answered;
// the process is killed while requests are in flight.

const SENDERS = 8
const POINTS_PER_REQUEST = 50
const children: ChildProcess[] = []
afterAll(() => {
  for (const c of children) c.kill('SIGKILL')
})

describe('crash safety', () => {
  it('keeps every acknowledged point across a SIGKILL', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'governor-crash-'))
    const first = await spawnServer({ GOVERNOR_DATA_DIR: dataDir, GOVERNOR_FLUSH_INTERVAL_MILLIS: '20' })
    children.push(first.child)
    const base = Date.now() - 60_000
    const acked = new Map<string, number[]>() // sender → acknowledged timestamps
    let killed = false
    let inFlightAtKill = 0
    let inFlight = 0

    const sender = async (id: number) => {
      const sent: number[] = []
      acked.set(`s${id}`, sent)
      for (let round = 0; !killed; round++) {
        const points = Array.from({ length: POINTS_PER_REQUEST }, (_, i) => ({
          ts: base + round * POINTS_PER_REQUEST + i,
          value: round,
          attrs: { sender: `s${id}` },
        }))
        inFlight++
        try {
          const res = await fetch(`${first.url}/v1/metrics`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(gaugeRequest('crash', { 'crash.points': points })),
          })
          if (res.status === 200) sent.push(...points.map((p) => p.ts))
        } catch {
          /* the connection died with the process */
        } finally {
          inFlight--
        }
      }
    }
    const running = Array.from({ length: SENDERS }, (_, i) => sender(i))
    await new Promise((r) => setTimeout(r, 1500))
    inFlightAtKill = inFlight
    killed = true
    first.child.kill('SIGKILL')
    await Promise.all(running)
    const totalAcked = [...acked.values()].reduce((n, a) => n + a.length, 0)
    expect(totalAcked).toBeGreaterThan(SENDERS * POINTS_PER_REQUEST)
    expect(inFlightAtKill).toBeGreaterThan(0)

    const second = await spawnServer({ GOVERNOR_DATA_DIR: dataDir })
    children.push(second.child)
    for (const [name, ts] of acked) {
      const q = new URLSearchParams({
        metric: 'crash.points',
        match: `sender=${name}`,
        from: String(base),
        to: String(base + 10_000_000),
      })
      const res = (await (await fetch(`${second.url}/api/v1/query?${q}`)).json()) as {
        series: { points: number[][] }[]
      }
      const stored = new Set((res.series[0]?.points ?? []).map((p) => p[0]))
      const missing = ts.filter((t) => !stored.has(t))
      expect(missing, `${name}: ${missing.length} of ${ts.length} acknowledged points missing`).toEqual([])
    }
    second.child.kill('SIGTERM')
  }, 90_000)
})
