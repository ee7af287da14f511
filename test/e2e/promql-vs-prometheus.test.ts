import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PROMETHEUS_BIN, startPrometheus, stop, type Server } from '../../bench/lib/peer-servers.ts'
import { INSTANT_OFFSETS, QUERIES, RANGE_STEP_MILLIS, seededSeries, SPAN_MILLIS } from '../helpers/promql-cases.ts'
import { answerDiff, type PromAnswer } from '../helpers/promql-compare.ts'
import { remoteWrite } from '../helpers/remote-write.ts'
import { spawnServer } from '../helpers/server.ts'
import { hasPeer } from '../setup/debian-peers.ts'

// The same seeded data remote-written into Prometheus (Debian's 2.42, installed when missing)
// and into a spawned Governor; every query of promql-cases.ts is asked of both, as instant
// queries at several times and as a range query, and the answers must agree: same series,
// same timestamps, values within 1e-6 relative, NaN equal to NaN.

/**
 * Queries known to differ from Prometheus 2.42, with the reason. Each must still differ (a
 * fixed one is taken off the list), so the list says exactly where Governor stands.
 */
const KNOWN_DIFFERENCES: Readonly<Record<string, string>> = {
  // At +26m two counters are equal (507): Prometheus' heap keeps b:1, the engine the other one.
  'bottomk(2, http_requests_total)': 'which of two equal values bottomk keeps (a tie at one step of the range query)',
}

const START = Math.floor((Date.now() - 2 * 3_600_000) / 60_000) * 60_000
let prometheus: Server | undefined
let governor: { child: ChildProcess; url: string } | undefined
const dirs: string[] = []

async function ask(base: string, path: string, params: Record<string, string>): Promise<PromAnswer> {
  const res = await fetch(`${base}${path}`, { method: 'POST', body: new URLSearchParams(params), headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  const text = await res.text()
  try {
    return JSON.parse(text) as PromAnswer
  } catch {
    return { status: 'error', errorType: `http ${res.status}`, error: text.slice(0, 200) }
  }
}

// Debian's Prometheus is installed by the global setup when it can be; without it, skipped loudly.
describe.skipIf(!hasPeer('prometheus'))('PromQL answers against Prometheus', { timeout: 600_000 }, () => {
  beforeAll(async () => {
    const promDir = mkdtempSync(join(tmpdir(), 'promql-prometheus-'))
    const govDir = mkdtempSync(join(tmpdir(), 'promql-governor-'))
    dirs.push(promDir, govDir)
    prometheus = await startPrometheus(promDir, () => 'global:\n  scrape_interval: 1h\nstorage:\n  tsdb:\n    out_of_order_time_window: 30d\n', {
      extraArgs: ['--web.enable-remote-write-receiver', '--storage.tsdb.allow-overlapping-blocks'],
    })
    governor = await spawnServer({ GOVERNOR_DATA_DIR: govDir, GOVERNOR_RATE_LIMIT_API_PER_MINUTE: '0', GOVERNOR_RATE_LIMIT_INGEST_PER_MINUTE: '0' })
    const series = seededSeries(START)
    for (let i = 0; i < series.length; i += 10) {
      const chunk = series.slice(i, i + 10)
      await remoteWrite(`${prometheus.url}/api/v1/write`, chunk)
      await remoteWrite(`${governor.url}/api/v1/write`, chunk)
    }
  }, 300_000)

  afterAll(async () => {
    await stop(prometheus)
    if (governor !== undefined && governor.child.exitCode === null) {
      governor.child.kill('SIGTERM')
      await once(governor.child, 'exit')
    }
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })

  it('holds the same data as Prometheus', async () => {
    const params = { query: 'count by (__name__) ({__name__=~".+"})', time: String((START + SPAN_MILLIS) / 1000) }
    const want = await ask(prometheus!.url, '/api/v1/query', params)
    expect(want.status).toBe('success')
    expect(answerDiff(await ask(`${governor!.url}/prometheus`, '/api/v1/query', params), want)).toBeUndefined()
  })

  it('answers the query list as Prometheus does', async () => {
    const failures: string[] = []
    let cases = 0
    for (const query of QUERIES) {
      const asks: [string, Record<string, string>][] = INSTANT_OFFSETS.map((o) => ['/api/v1/query', { query, time: String((START + o) / 1000) }])
      asks.push(['/api/v1/query_range', { query, start: String(START / 1000), end: String((START + SPAN_MILLIS + 5 * 60_000) / 1000), step: String(RANGE_STEP_MILLIS / 1000) }])
      const diffs: string[] = []
      for (const [path, params] of asks) {
        cases++
        const d = answerDiff(await ask(`${governor!.url}/prometheus`, path, params), await ask(prometheus!.url, path, params))
        if (d !== undefined) diffs.push(`${path.endsWith('range') ? 'range' : `at +${(Number(params.time) * 1000 - START) / 1000}s`}: ${d}`)
      }
      if (diffs.length > 0) failures.push(`${query}\n    ${diffs.slice(0, 2).join('\n    ')}`)
    }
    const failed = new Set(failures.map((f) => f.split('\n')[0]!))
    process.stdout.write(`PromQL vs Prometheus ${PROMETHEUS_BIN}: ${QUERIES.length - failed.size}/${QUERIES.length} queries (${cases} instant and range cases) agree\n`)
    const unexpected = failures.filter((f) => KNOWN_DIFFERENCES[f.split('\n')[0]!] === undefined)
    const fixed = Object.keys(KNOWN_DIFFERENCES).filter((q) => !failed.has(q))
    expect(unexpected.join('\n')).toBe('')
    expect(fixed).toEqual([])
  })
})
