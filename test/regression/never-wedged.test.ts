import { appendFileSync, existsSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { buildApp } from '../../collector/src/app.ts'
import { checkAnswers } from '../helpers/answer-schemas.ts'
import { encodeBatch } from '../../collector/src/store/encoded-batch.ts'
import { openPipeline, walDirOf } from '../../collector/src/batch/open-pipeline.ts'
import { WriteAheadLog } from '../../collector/src/batch/wal.ts'
import { PointBatch } from '../../collector/src/model/batch.ts'
import type { SeriesInfo } from '../../collector/src/model/types.ts'
import type { Settings } from '../../collector/src/settings.ts'
import { encodeSeries } from '../../collector/src/store/encode-tsv.ts'
import { Store } from '../../collector/src/store/store.ts'
import { gaugeRequest } from '../helpers/otlp.ts'
import { testSettings } from '../helpers/settings.ts'

// Issue "Never wedged": one row the store refuses halted ingest for good and blocked every
// restart; a damaged log segment stopped the start with a stack trace; a segment replayed
// after more than 1,000 other commits was stored twice. Each case against the real engine.

const T = Math.floor(Date.now() / 1000) * 1000 - 3_600_000
const apps: FastifyInstance[] = []
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close()
})

function seriesOf(id: bigint, metric = 'wedge.points'): SeriesInfo {
  return {
    id,
    metric,
    type: 'gauge',
    temporality: 'unspecified',
    monotonic: false,
    unit: '',
    description: '',
    service: 'wedge',
    scope: '',
    resource: { 'service.name': 'wedge' },
    attributes: { id: String(id) },
  }
}

function batchOf(points: [SeriesInfo, number][]): PointBatch {
  const b = new PointBatch()
  for (const [s, ts] of points) {
    b.series.set(s.id, s)
    b.samples.push(s, ts, 0, 0, ts - T)
  }
  return b
}

/** A collector on `settings`, its log lines kept as objects. */
async function open(settings: Settings): Promise<{ app: FastifyInstance; logs: Record<string, unknown>[] }> {
  const logs: Record<string, unknown>[] = []
  const app = await buildApp(settings, {
    logger: {
      level: 'info',
      stream: {
        write: (l: string) => {
          logs.push(JSON.parse(l) as Record<string, unknown>)
        },
      },
    },
    instrument: checkAnswers(),
  })
  apps.push(app)
  return { app, logs }
}

async function count(store: Store, sql: string): Promise<number> {
  const rs = await store.client.query({ query: sql, format: 'JSONCompactEachRow' })
  const [[n] = [0]] = await rs.json<[number | string]>()
  return Number(n)
}

const samplesOf = (store: Store, id: bigint | string) =>
  count(store, `SELECT count() FROM ${store.db}.samples WHERE series_id = ${id}`)
const seriesRows = (store: Store, id: bigint | string) =>
  count(store, `SELECT count() FROM ${store.db}.series FINAL WHERE series_id = ${id}`)
const walSegments = (settings: Settings) => readdirSync(walDirOf(settings)!).filter((n) => n.endsWith('.wal'))
const withCode = (logs: Record<string, unknown>[], code: string) => logs.filter((l) => l.code === code)

describe('a row the store refuses (regression: never wedged)', () => {
  it('stores the rest of its commit, quarantines it, keeps ingest flowing, restarts clean and replays it once fixed', async () => {
    const settings = testSettings({ flushIntervalMillis: 60_000 })
    let { app, logs } = await open(settings)
    const { pipeline, store } = app.governor
    // A value no decoder should let through (the decoders validate; this is the defence
    // behind them): a series id of -1 in UInt64 columns, in the same commit as good rows.
    const good = seriesOf(111n),
      poison = seriesOf(-1n)
    await pipeline.submit(
      batchOf([...Array.from({ length: 10 }, (_, i) => [good, T + i] as [SeriesInfo, number]), [poison, T]]),
    )
    await pipeline.sync()

    expect(pipeline.pendingPoints).toBe(0) // not retried forever: the commit is done
    expect(await samplesOf(store, 111n)).toBe(10)
    expect(await seriesRows(store, 111n)).toBe(1)
    const entries = pipeline.quarantine!.list()
    expect(entries.map((e) => [e.table, e.rows]).sort()).toEqual([
      ['samples', 1],
      ['series', 1],
    ])
    expect(entries[0]!.errors[0]).toMatch(/Code: \d+/)
    expect(pipeline.quarantine!.rowsOf(entries.find((e) => e.table === 'samples')!.id).toString()).toBe(
      `-1\t${T}\t0\t0\t0\n`,
    )
    expect(withCode(logs, 'GOV_ERR_STORE_QUARANTINED')).toHaveLength(2) // once per entry
    const metrics = (await app.inject('/metrics')).body
    expect(metrics).toContain('governor_quarantined_rows_total{table="samples"} 1')
    expect(metrics).toContain('governor_quarantined_rows_total{table="series"} 1')
    expect((await app.inject('/readyz')).statusCode).toBe(200) // a bad row is not a failing store

    // Ingest goes on.
    const res = await app.inject({
      method: 'POST',
      url: '/v1/metrics',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(
        gaugeRequest('wedge', {
          'after.poison': [
            { ts: T + 1, value: 1 },
            { ts: T + 2, value: 2 },
          ],
        }),
      ),
    })
    expect(res.statusCode).toBe(200)
    await pipeline.sync()
    expect(
      await count(
        store,
        `SELECT count() FROM ${store.db}.samples WHERE series_id IN (SELECT series_id FROM ${store.db}.series WHERE metric = 'after.poison')`,
      ),
    ).toBe(2)

    // A restart is clean: nothing left in the log, nothing stored twice, nothing refused again.
    await app.close()
    apps.splice(0)
    expect(walSegments(settings)).toEqual([])
    ;({ app, logs } = await open(settings))
    expect(withCode(logs, 'GOV_ERR_STORE_QUARANTINED')).toHaveLength(0)
    expect(await samplesOf(app.governor.store, 111n)).toBe(10)

    // The quarantine through the API: listed, replayed while still refused (kept), fixed, replayed.
    const listed = (await app.inject('/api/v1/quarantine')).json<{
      entries: { id: string; table: string; rows: number }[]
    }>()
    expect(listed.entries.map((e) => e.table).sort()).toEqual(['samples', 'series'])
    const refusedAgain = (await app.inject({ method: 'POST', url: '/api/v1/quarantine/replay', payload: {} })).json<{
      replayed: { stored: number; refused: number }[]
    }>()
    expect(refusedAgain.replayed.map((r) => [r.stored, r.refused])).toEqual([
      [0, 1],
      [0, 1],
    ])
    expect(app.governor.pipeline.quarantine!.list()).toHaveLength(2)
    // An operator corrects the rows (plain TSV files) and replays them.
    const dir = join(walDirOf(settings)!, 'quarantine')
    for (const e of listed.entries) {
      const path = join(dir, `${e.id}.tsv`)
      writeFileSync(
        path,
        readFileSync(path, 'utf8').replace(
          e.table === 'series' ? '\t-1\t' : /^-1\t/,
          e.table === 'series' ? '\t222\t' : '222\t',
        ),
      )
    }
    const detail = (
      await app.inject(`/api/v1/quarantine?id=${listed.entries.find((e) => e.table === 'samples')!.id}`)
    ).json<{ entries: { rows_tsv: string[] }[] }>()
    expect(detail.entries[0]!.rows_tsv).toEqual([`222\t${T}\t0\t0\t0`])
    const replayed = (await app.inject({ method: 'POST', url: '/api/v1/quarantine/replay', payload: {} })).json<{
      replayed: { stored: number; refused: number }[]
    }>()
    expect(replayed.replayed.map((r) => [r.stored, r.refused])).toEqual([
      [1, 0],
      [1, 0],
    ])
    expect((await app.inject('/api/v1/quarantine')).json()).toEqual({ entries: [] })
    expect(await samplesOf(app.governor.store, 222n)).toBe(1)
    expect(await seriesRows(app.governor.store, 222n)).toBe(1)
  }, 60_000)

  it('starts when a segment left in the log holds a poisoned row: the good rows are stored, the bad one quarantined', async () => {
    const settings = testSettings()
    const good = seriesOf(333n)
    const { wal } = WriteAheadLog.open(walDirOf(settings)!)
    wal.append({
      points: 3,
      chunks: [encodeSeries([good]), Buffer.from(`333\t${T}\t0\t0\t1\n-5\t${T}\t0\t0\t1\n333\t${T + 1}\t0\t0\t2\n`)],
    })
    wal.close() // the process dies with the segment uncommitted

    const { app, logs } = await open(settings)
    expect(await samplesOf(app.governor.store, 333n)).toBe(2)
    expect(app.governor.pipeline.quarantine!.list().map((e) => [e.table, e.rows])).toEqual([['samples', 1]])
    expect(withCode(logs, 'GOV_ERR_STORE_QUARANTINED')).toHaveLength(1)
    expect(walSegments(settings)).toEqual([])
  }, 60_000)
})

describe('a damaged write-ahead log at start (regression: never wedged)', () => {
  it('starts, stores the good records before the damage, and logs and counts each damaged segment with its code', async () => {
    const settings = testSettings()
    const dir = walDirOf(settings)!
    const s = seriesOf(444n)
    const { wal } = WriteAheadLog.open(dir)
    for (let r = 0; r < 3; r++)
      wal.append(
        encodeBatch(
          batchOf([
            [s, T + 2 * r],
            [s, T + 2 * r + 1],
          ]),
          () => r > 0,
          () => false,
        ),
      )
    const torn = join(dir, `${wal.seal()!}.wal`)
    wal.append(
      encodeBatch(
        batchOf([[s, T + 100]]),
        () => true,
        () => false,
      ),
    )
    const zeroTail = join(dir, `${wal.seal()!}.wal`)
    wal.close()
    truncateSync(torn, statSync(torn).size - 5) // the third record cut short
    appendFileSync(zeroTail, Buffer.alloc(4096)) // the file grew, its data never reached the disk
    const zeroed = '0000000000001-0000000000000000-00000001.wal'
    writeFileSync(join(dir, zeroed), Buffer.alloc(4096)) // a valid name, nothing but zeros

    const { app, logs } = await open(settings)
    expect(await samplesOf(app.governor.store, 444n)).toBe(5) // two good records of the torn segment, and the other one
    const damaged = withCode(logs, 'GOV_ERR_WAL_DAMAGED')
    expect(damaged.map((l) => l.kind).sort()).toEqual(['bad-header', 'torn-tail', 'torn-tail'])
    expect(String(damaged.find((l) => l.kind === 'bad-header')!.msg)).toContain(zeroed)
    expect(existsSync(join(dir, 'damaged', zeroed))).toBe(true)
    const metrics = (await app.inject('/metrics')).body
    expect(metrics).toContain('governor_wal_damaged_segments_total{kind="bad-header"} 1')
    expect(metrics).toContain('governor_wal_damaged_segments_total{kind="torn-tail"} 2')
    expect(walSegments(settings)).toEqual([])
  }, 60_000)
})

describe('replay long after the commit (regression: never wedged)', () => {
  it('stores nothing twice when a committed segment is replayed after 2,000 other commits', async () => {
    const settings = testSettings({ flushIntervalMillis: 0, walFsyncMillis: -1 })
    const store = await Store.open(settings)
    const quiet = Fastify({ logger: false }).log
    try {
      const dir = walDirOf(settings)!
      const early = seriesOf(555n),
        later = seriesOf(556n)
      // A segment as a crash leaves it: logged, not committed. Kept aside, to be found again
      // after its commit, as a crash between a commit and the deletion of its segment leaves it.
      const { wal } = WriteAheadLog.open(dir)
      wal.append(
        encodeBatch(
          batchOf(Array.from({ length: 10 }, (_, i) => [early, T + i] as [SeriesInfo, number])),
          () => false,
          () => false,
        ),
      )
      const segment = join(dir, `${wal.seal()!}.wal`)
      wal.close()
      const kept = readFileSync(segment)

      let pipeline = await openPipeline(settings, store, quiet, () => undefined) // replays it
      expect(existsSync(segment)).toBe(false)
      expect(await samplesOf(store, 555n)).toBe(10)
      // 2,000 commits of one point each: the engine forgets the tokens of all but its last 1,000 inserts.
      const COMMITS = 2000
      for (let i = 0; i < COMMITS; i++) await pipeline.submit(batchOf([[later, T + i]]))
      await pipeline.close()
      expect(await samplesOf(store, 556n)).toBe(COMMITS)

      writeFileSync(segment, kept)
      pipeline = await openPipeline(settings, store, quiet, () => undefined)
      await pipeline.close()
      expect(existsSync(segment)).toBe(false)
      expect(await samplesOf(store, 555n)).toBe(10)
    } finally {
      await store.close()
    }
  }, 180_000)
})
