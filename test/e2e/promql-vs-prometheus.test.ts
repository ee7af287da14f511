import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PROMETHEUS_BIN, startPrometheus, stop, type Server } from '../../bench/lib/peer-servers.ts'
import { INSTANT_OFFSETS, QUERIES, RANGE_STEP_MILLIS, seededSeries, SPAN_MILLIS } from '../helpers/promql-cases.ts'
import { answerDiff, type PromAnswer } from '../helpers/promql-compare.ts'
import { demoSeries } from '../helpers/promql-compliance-data.ts'
import { expandComplianceCases } from '../helpers/promql-compliance-queries.ts'
import { remoteWrite } from '../helpers/remote-write.ts'
import { spawnServer } from '../helpers/server.ts'
import { hasPeer } from '../setup/debian-peers.ts'

// The same seeded data remote-written into Prometheus (Debian's 2.42, installed when missing)
// and into a spawned Governor; every query of promql-cases.ts is asked of both, as instant
// queries at several times and as a range query, and the answers must agree: same series,
// same timestamps, values within 1e-6 relative, NaN equal to NaN. The prometheus/compliance
// query set (promql-compliance-queries.ts) runs over demo series written alongside, each query
// as a range query, and must agree on at least 95 % of queries.

/**
 * Queries known to differ from Prometheus 2.42, with the reason. Each must still differ (a
 * fixed one is taken off the list), so the list says exactly where Governor stands.
 */
const KNOWN_DIFFERENCES: Readonly<Record<string, string>> = {}

/**
 * Queries of the compliance set known to differ from Prometheus 2.42, with the reason; as above,
 * each must still differ.
 */
const KNOWN_COMPLIANCE_DIFFERENCES: Readonly<Record<string, string>> = {}

/** Share of the compliance set that must agree. */
const COMPLIANCE_PASS_RATIO = 0.95
/** Queries in flight at once, so that one server's latency overlaps the other's work. */
const PARALLEL_QUERIES = 6

const START = Math.floor((Date.now() - 2 * 3_600_000) / 60_000) * 60_000
let prometheus: Server | undefined
let governor: { child: ChildProcess; url: string } | undefined
const dirs: string[] = []

async function ask(base: string, path: string, params: Record<string, string>): Promise<PromAnswer> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    body: new URLSearchParams(params),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  })
  const text = await res.text()
  try {
    return JSON.parse(text) as PromAnswer
  } catch {
    return { status: 'error', errorType: `http ${res.status}`, error: text.slice(0, 200) }
  }
}

const RANGE = {
  start: String(START / 1000),
  end: String((START + SPAN_MILLIS + 5 * 60_000) / 1000),
  step: String(RANGE_STEP_MILLIS / 1000),
}

const COMPLIANCE_RANGE = {
  start: String((START + 25 * 60_000) / 1000),
  end: String((START + SPAN_MILLIS + 5 * 60_000) / 1000),
  step: '10',
}

/**
 * The first difference of Governor's answer from Prometheus' (undefined when they agree), and
 * whether Prometheus' answer holds any series or value (an empty answer agrees cheaply).
 */
async function compare(
  path: string,
  params: Record<string, string>,
  shouldFail = false,
): Promise<{ diff: string | undefined; hasData: boolean }> {
  const [got, want] = await Promise.all([
    ask(`${governor!.url}/prometheus`, path, params),
    ask(prometheus!.url, path, params),
  ])
  const diff =
    answerDiff(got, want) ??
    (shouldFail && want.status !== 'error' ? 'Prometheus answers where the query set expects an error' : undefined)
  const result = want.data?.result
  return { diff, hasData: Array.isArray(result) && result.length > 0 }
}

/** Runs `fn` over `items`, PARALLEL_QUERIES at a time. */
async function inParallel<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({ length: PARALLEL_QUERIES }, async () => {
      while (next < items.length) await fn(items[next++]!)
    }),
  )
}

/** The failures that are not on the known list, one per query with its first differences. */
function unexplained(failures: ReadonlyMap<string, string>, known: Readonly<Record<string, string>>): string {
  return [...failures]
    .filter(([q]) => known[q] === undefined)
    .map(([q, d]) => `${q}\n    ${d}`)
    .join('\n')
}

// Debian's Prometheus is installed by the global setup when it can be; without it, skipped loudly.
describe.skipIf(!hasPeer('prometheus'))('PromQL answers against Prometheus', { timeout: 600_000 }, () => {
  beforeAll(async () => {
    const promDir = mkdtempSync(join(tmpdir(), 'promql-prometheus-'))
    const govDir = mkdtempSync(join(tmpdir(), 'promql-governor-'))
    dirs.push(promDir, govDir)
    prometheus = await startPrometheus(
      promDir,
      () => 'global:\n  scrape_interval: 1h\nstorage:\n  tsdb:\n    out_of_order_time_window: 30d\n',
      {
        extraArgs: ['--web.enable-remote-write-receiver', '--storage.tsdb.allow-overlapping-blocks'],
      },
    )
    governor = await spawnServer({
      GOVERNOR_DATA_DIR: govDir,
      GOVERNOR_RATE_LIMIT_API_PER_MINUTE: '0',
      GOVERNOR_RATE_LIMIT_INGEST_PER_MINUTE: '0',
    })
    const series = [...seededSeries(START), ...demoSeries(START)]
    for (let i = 0; i < series.length; i += 20) {
      const chunk = series.slice(i, i + 20)
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
    const failures = new Map<string, string>()
    let cases = 0
    await inParallel(QUERIES, async (query) => {
      const asks: [string, Record<string, string>][] = INSTANT_OFFSETS.map((o) => [
        '/api/v1/query',
        { query, time: String((START + o) / 1000) },
      ])
      asks.push(['/api/v1/query_range', { query, ...RANGE }])
      const diffs: string[] = []
      for (const [path, params] of asks) {
        cases++
        const d = (await compare(path, params)).diff
        if (d !== undefined)
          diffs.push(
            `${path.endsWith('range') ? 'range' : `at +${(Number(params.time) * 1000 - START) / 1000}s`}: ${d}`,
          )
      }
      if (diffs.length > 0) failures.set(query, diffs.slice(0, 2).join('\n    '))
    })
    process.stdout.write(
      `PromQL vs Prometheus ${PROMETHEUS_BIN}: ${QUERIES.length - failures.size}/${QUERIES.length} queries (${cases} instant and range cases) agree\n`,
    )
    expect(unexplained(failures, KNOWN_DIFFERENCES)).toBe('')
    expect(Object.keys(KNOWN_DIFFERENCES).filter((q) => !failures.has(q))).toEqual([])
  })

  // As the compliance tester does, each query of the set is compared as a range query with a
  // 10 s step, which puts window edges between samples (15 s apart); its 40 minutes take in the
  // counter reset, the stale markers and the end of the data.
  it('answers the prometheus/compliance query set as Prometheus does, at least 95 %', async () => {
    const queries = expandComplianceCases()
    const failures = new Map<string, string>()
    let withData = 0
    await inParallel(queries, async ({ query, shouldFail }) => {
      const { diff, hasData } = await compare('/api/v1/query_range', { query, ...COMPLIANCE_RANGE }, shouldFail)
      if (hasData) withData++
      if (diff !== undefined) failures.set(query, diff.slice(0, 300))
    })
    const agree = queries.length - failures.size
    process.stdout.write(
      `PromQL compliance set vs Prometheus ${PROMETHEUS_BIN}: ${agree}/${queries.length} queries agree (${((100 * agree) / queries.length).toFixed(1)} %), ${withData} of them with data\n`,
    )
    expect(unexplained(failures, KNOWN_COMPLIANCE_DIFFERENCES)).toBe('')
    expect(Object.keys(KNOWN_COMPLIANCE_DIFFERENCES).filter((q) => !failures.has(q))).toEqual([])
    expect(agree / queries.length).toBeGreaterThanOrEqual(COMPLIANCE_PASS_RATIO)
    // The demo series must give the set something to compare: most queries answer series.
    expect(withData / queries.length).toBeGreaterThan(0.85)
  })
})
