import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { seriesIdsOf } from '../../../collector/src/store/encoded-batch.ts'
import { WriteAheadLog } from '../../../collector/src/batch/wal.ts'
import {
  WritePipeline,
  type CommitFn,
  type CommitGroup,
  type WritePipelineOptions,
} from '../../../collector/src/batch/write-pipeline.ts'
import { isGovernorError } from '../../../collector/src/errors.ts'
import { PointBatch } from '../../../collector/src/model/batch.ts'
import type { SeriesInfo } from '../../../collector/src/model/types.ts'

function seriesOf(id: bigint): SeriesInfo {
  return {
    id,
    metric: 'm',
    type: 'gauge',
    temporality: 'unspecified',
    monotonic: false,
    unit: '',
    description: '',
    service: 's',
    scope: '',
    resource: {},
    attributes: {},
  }
}

function batchOf(points: number, id = 1n): PointBatch {
  const s = seriesOf(id)
  const b = new PointBatch()
  b.series.set(s.id, s)
  for (let i = 0; i < points; i++) b.samples.push(s, i, 0, 0, i)
  return b
}

/** Rows of a table in a commit (TSV lines). */
const rows = (g: CommitGroup, table: number) => (g.tables[table]?.toString().split('\n').length ?? 1) - 1

/** A commit function that parks each call until the test releases it. */
function manualCommit() {
  const calls: { group: CommitGroup; release: (err?: unknown) => void }[] = []
  const commit: CommitFn = (group) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ group, release: (err) => (err === undefined ? resolve() : reject(err)) })
    })
  return { calls, commit }
}

const stored = new Set<bigint>()
function pipeline(opts: Partial<WritePipelineOptions> & Pick<WritePipelineOptions, 'commit'>): WritePipeline {
  stored.clear()
  return new WritePipeline({
    isStored: (id) => stored.has(id),
    onSeriesStored: (ids) => ids.forEach((id) => stored.add(id)),
    maxBatchPoints: 1000,
    flushIntervalMillis: 0,
    maxPendingPoints: 10_000,
    ...opts,
  })
}

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms))

describe('WritePipeline without a log (acknowledged on commit)', () => {
  it('groups requests that arrive within the flush interval into one commit, series rows once', async () => {
    const { calls, commit } = manualCommit()
    const p = pipeline({ commit, flushIntervalMillis: 20 })
    const a = p.submit(batchOf(3))
    const b = p.submit(batchOf(4))
    await tick(40)
    expect(calls).toHaveLength(1)
    expect(calls[0]!.group.points).toBe(7)
    expect(rows(calls[0]!.group, 1)).toBe(7)
    expect(rows(calls[0]!.group, 0)).toBe(1) // the series row travels with the first request only
    expect(calls[0]!.group.token).toBeUndefined()
    calls[0]!.release()
    await expect(Promise.all([a, b])).resolves.toEqual([undefined, undefined])
    expect(stored.has(1n)).toBe(true)
  })

  it('does not settle a request before its commit finishes', async () => {
    const { calls, commit } = manualCommit()
    const p = pipeline({ commit, maxBatchPoints: 1, flushIntervalMillis: 1000 })
    let settled = false
    const a = p.submit(batchOf(5)).then(() => {
      settled = true
    })
    await tick(10)
    expect(calls).toHaveLength(1)
    expect(settled).toBe(false)
    calls[0]!.release()
    await a
    expect(settled).toBe(true)
  })

  it('commits once maxBatchPoints is reached, at request boundaries, one commit at a time', async () => {
    const { calls, commit } = manualCommit()
    const p = pipeline({ commit, maxBatchPoints: 10, flushIntervalMillis: 60_000 })
    const reqs = [p.submit(batchOf(6)), p.submit(batchOf(6)), p.submit(batchOf(6)), p.submit(batchOf(6))]
    await tick()
    expect(calls.map((c) => c.group.points)).toEqual([12])
    calls[0]!.release()
    await Promise.all(reqs.slice(0, 2))
    await tick()
    expect(calls.map((c) => c.group.points)).toEqual([12, 12])
    calls[1]!.release()
    await Promise.all(reqs)
  })

  it('hands each commit its own rows while the memory that joins them is reused', async () => {
    const seen: string[] = []
    const p = pipeline({
      commit: async (group) => {
        await tick(1)
        seen.push(group.tables[1]!.toString())
      },
      maxBatchPoints: 4,
      flushIntervalMillis: 60_000,
    })
    // Two requests a commit, so that each commit's rows are joined; the values tell the commits apart.
    const requests = [1, 2, 3].flatMap((c) => {
      const batch = () => {
        const b = batchOf(2, BigInt(c))
        b.samples.value.fill(c)
        return b
      }
      return [p.submit(batch()), p.submit(batch())]
    })
    await Promise.all(requests)
    expect(seen).toHaveLength(3)
    for (const [i, text] of seen.entries()) {
      const values = text
        .trim()
        .split('\n')
        .map((line) => line.split('\t').at(-1))
      expect(values).toEqual(Array(4).fill(String(i + 1)))
    }
  })

  it('refuses with GOV_ERR_PIPELINE_FULL once pending points pass the limit', async () => {
    const { calls, commit } = manualCommit()
    const p = pipeline({ commit, maxPendingPoints: 10 })
    const first = p.submit(batchOf(8))
    const err = await p.submit(batchOf(5)).catch((e: unknown) => e)
    expect(isGovernorError(err) && err.code).toBe('GOV_ERR_PIPELINE_FULL')
    expect(p.pendingPoints).toBe(8)
    calls[0]!.release()
    await first
    expect(p.pendingPoints).toBe(0)
  })

  it('accepts one oversized request when the pipeline is empty', async () => {
    const { calls, commit } = manualCommit()
    const p = pipeline({ commit, maxPendingPoints: 10 })
    const big = p.submit(batchOf(50))
    await tick()
    calls[0]!.release()
    await expect(big).resolves.toBeUndefined()
  })

  it('rejects every request of a failed commit with GOV_ERR_STORE_WRITE, and sends the series row again', async () => {
    const { calls, commit } = manualCommit()
    const p = pipeline({ commit, flushIntervalMillis: 10 })
    const a = p.submit(batchOf(1)).catch((e: unknown) => e)
    const b = p.submit(batchOf(1)).catch((e: unknown) => e)
    await tick(30)
    calls[0]!.release(new Error('disk full'))
    for (const err of [await a, await b]) {
      expect(isGovernorError(err) && err.code).toBe('GOV_ERR_STORE_WRITE')
      expect((err as Error).message).toContain('disk full')
    }
    const c = p.submit(batchOf(2))
    await tick(30)
    expect(rows(calls[1]!.group, 0)).toBe(1)
    calls[1]!.release()
    await expect(c).resolves.toBeUndefined()
  })

  it('close() commits what was accepted and refuses what comes after', async () => {
    const committed: number[] = []
    const p = pipeline({
      commit: async (g) => {
        committed.push(g.points)
      },
      flushIntervalMillis: 60_000,
    })
    const a = p.submit(batchOf(3))
    await p.close()
    await a
    expect(committed).toEqual([3])
    await expect(p.submit(batchOf(1))).rejects.toThrow(/shutting down/)
  })
})

describe('WritePipeline with a write-ahead log (acknowledged once logged)', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })
  function openLog() {
    const dir = mkdtempSync(join(tmpdir(), 'governor-wal-'))
    dirs.push(dir)
    return { dir, ...WriteAheadLog.open(dir) }
  }
  const segments = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.wal'))

  it('acknowledges before the commit, commits a whole segment with its token, then deletes it', async () => {
    const { dir, wal } = openLog()
    const { calls, commit } = manualCommit()
    const p = pipeline({ commit, wal, flushIntervalMillis: 60_000 })
    await p.submit(batchOf(3)) // resolves with no commit made
    await p.submit(batchOf(4, 2n))
    expect(calls).toHaveLength(0)
    expect(p.pendingPoints).toBe(7)
    expect(segments(dir)).toHaveLength(1)
    const synced = p.sync()
    await tick()
    expect(calls).toHaveLength(1)
    expect(calls[0]!.group.token).toBe(`wal-${segments(dir)[0]!.slice(0, -4)}`)
    expect(rows(calls[0]!.group, 0)).toBe(2)
    calls[0]!.release()
    await synced
    expect(p.pendingPoints).toBe(0)
    expect(segments(dir)).toHaveLength(0)
  })

  it('keeps a refused commit at the head and retries it with the same token; later rows wait behind it', async () => {
    const { wal } = openLog()
    const { calls, commit } = manualCommit()
    const p = pipeline({ commit, wal, flushIntervalMillis: 0, retryMillis: 20 })
    await p.submit(batchOf(2))
    await tick()
    calls[0]!.release(new Error('disk full'))
    await p.submit(batchOf(5)) // still acknowledged: the log took it
    await tick(40)
    expect(calls).toHaveLength(2)
    expect(calls[1]!.group.token).toBe(calls[0]!.group.token)
    expect(calls[1]!.group.points).toBe(2)
    calls[1]!.release()
    await tick()
    expect(calls[2]!.group.points).toBe(5)
    expect(calls[2]!.group.token).not.toBe(calls[0]!.group.token)
    calls[2]!.release()
    await tick()
    expect(p.pendingPoints).toBe(0)
  })

  it('replays what an earlier run left, with the tokens of its segments, and knows its series after', async () => {
    const first = openLog()
    const p1 = pipeline({ commit: () => new Promise(() => {}), wal: first.wal, flushIntervalMillis: 60_000 })
    await p1.submit(batchOf(3, 7n))
    await p1.submit(batchOf(2, 8n))
    first.wal.close() // the process dies here: nothing was committed
    const again = WriteAheadLog.open(first.dir)
    expect(again.leftovers).toHaveLength(1)
    const committed: CommitGroup[] = []
    const p2 = pipeline({
      commit: async (g) => {
        committed.push(g)
      },
      wal: again.wal,
    })
    expect(await p2.replay(again.leftovers)).toEqual({ segments: 1, points: 5, skipped: 0 })
    expect(committed[0]!.token).toBe(`wal-${again.leftovers[0]!.id}`)
    expect(rows(committed[0]!, 1)).toBe(5)
    expect([...stored].sort()).toEqual([7n, 8n])
    expect(segments(first.dir)).toHaveLength(0)
  })

  it('at replay, skips (and removes) a segment whose commit is recorded, whatever the engine remembers', async () => {
    const first = openLog()
    const p1 = pipeline({ commit: () => new Promise(() => {}), wal: first.wal, flushIntervalMillis: 60_000 })
    await p1.submit(batchOf(3, 7n))
    first.wal.close()
    const again = WriteAheadLog.open(first.dir)
    const committed: CommitGroup[] = []
    const asked: string[][] = []
    const p2 = pipeline({
      commit: async (g) => {
        committed.push(g)
      },
      wal: again.wal,
      committedTokens: async (tokens) => {
        asked.push([...tokens])
        return new Set(tokens)
      },
    })
    expect(await p2.replay(again.leftovers)).toEqual({ segments: 0, points: 0, skipped: 1 })
    expect(asked).toEqual([[`wal-${again.leftovers[0]!.id}`]])
    expect(committed).toHaveLength(0)
    expect(segments(first.dir)).toHaveLength(0)
  })

  it('does not take a series for stored when the commit set its row aside; the next batch carries it again', async () => {
    const { wal } = openLog()
    const groups: CommitGroup[] = []
    const p = pipeline({
      commit: async (g) => {
        groups.push(g)
        return { refusedSeries: groups.length === 1 ? [7n] : [] }
      },
      wal,
    })
    await p.submit(batchOf(1, 7n))
    await p.sync()
    expect(stored.has(7n)).toBe(false)
    await p.submit(batchOf(1, 7n))
    await p.sync()
    expect(groups.map((g) => rows(g, 0))).toEqual([1, 1])
    expect(stored.has(7n)).toBe(true)
  })

  it('with a lock, refuses a second opener of the same log until the first closes it', () => {
    const { dir } = openLog()
    const first = WriteAheadLog.open(dir, { lock: true })
    let err: unknown
    try {
      WriteAheadLog.open(dir, { lock: true })
    } catch (e) {
      err = e
    }
    expect(isGovernorError(err) && err.code).toBe('GOV_ERR_STORE_LOCKED')
    first.wal.close()
    WriteAheadLog.open(dir, { lock: true }).wal.close()
  })

  it('refuses with GOV_ERR_STORE_WRITE, acknowledging nothing, when the log cannot be written', async () => {
    const { dir, wal } = openLog()
    const { commit } = manualCommit()
    const p = pipeline({ commit, wal, flushIntervalMillis: 60_000 })
    rmSync(dir, { recursive: true }) // the next segment cannot be created
    const err = await p.submit(batchOf(1)).catch((e: unknown) => e)
    expect(isGovernorError(err) && err.code).toBe('GOV_ERR_STORE_WRITE')
    expect(p.pendingPoints).toBe(0)
  })
})

describe('WritePipeline.begin: a request handed in slices', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })
  function openLog() {
    const dir = mkdtempSync(join(tmpdir(), 'governor-wal-'))
    dirs.push(dir)
    return { dir, ...WriteAheadLog.open(dir) }
  }
  /** A slice with one point of each series. */
  function sliceOf(...ids: bigint[]): PointBatch {
    const b = new PointBatch()
    for (const id of ids) {
      const s = seriesOf(id)
      b.series.set(id, s)
      b.samples.push(s, Number(id), 0, 0, Number(id))
    }
    return b
  }

  it('logs nothing until submit, then the whole request as one record, each new series row once', async () => {
    const { dir, wal } = openLog()
    const p = pipeline({ commit: () => new Promise(() => {}), wal, flushIntervalMillis: 60_000 })
    const request = p.begin()
    request.add(sliceOf(1n, 2n))
    request.add(sliceOf(2n, 3n))
    expect(request.points).toBe(4)
    expect(readdirSync(dir).filter((n) => n.endsWith('.wal'))).toHaveLength(0) // not a byte logged yet
    expect(p.pendingPoints).toBe(0)
    await request.submit()
    expect(p.pendingPoints).toBe(4)
    wal.close() // the process dies here: nothing was committed
    const again = WriteAheadLog.open(dir)
    expect(again.leftovers).toHaveLength(1)
    const records = again.leftovers[0]!.batches
    expect(records.map((r) => r.points)).toEqual([4])
    expect(seriesIdsOf(records[0]!.chunks[0])).toEqual([1n, 2n, 3n])
    expect(records[0]!.chunks[1]!.toString().split('\n').filter(Boolean)).toHaveLength(4)
    again.wal.close()
  })

  it('leaves out the row of a series that rows logged before carry, as submit does', async () => {
    const groups: CommitGroup[] = []
    const p = pipeline({
      commit: async (g) => {
        groups.push(g)
      },
      flushIntervalMillis: 60_000,
    })
    const other = p.submit(sliceOf(5n))
    const request = p.begin()
    request.add(sliceOf(5n, 6n))
    const done = request.submit()
    await p.sync()
    await Promise.all([other, done])
    expect(groups.map((g) => seriesIdsOf(g.tables[0]))).toEqual([[5n, 6n]])
    expect(rows(groups[0]!, 1)).toBe(3)
  })

  it('refuses the whole request when the pipeline is full, and logs none of it', async () => {
    const { dir, wal } = openLog()
    const p = pipeline({ commit: () => new Promise(() => {}), wal, flushIntervalMillis: 60_000, maxPendingPoints: 10 })
    await p.submit(batchOf(8))
    const request = p.begin()
    request.add(sliceOf(1n, 2n))
    request.add(sliceOf(3n))
    const err = await request.submit().catch((e: unknown) => e)
    expect(isGovernorError(err) && err.code).toBe('GOV_ERR_PIPELINE_FULL')
    expect(p.pendingPoints).toBe(8)
    wal.close()
    const again = WriteAheadLog.open(dir)
    expect(again.leftovers.flatMap((s) => s.batches.map((b) => b.points))).toEqual([8])
    again.wal.close()
  })

  it('acknowledges an empty request without logging anything', async () => {
    const { dir, wal } = openLog()
    const p = pipeline({ commit: () => new Promise(() => {}), wal })
    const request = p.begin()
    request.add(new PointBatch())
    await request.submit()
    expect(readdirSync(dir).filter((n) => n.endsWith('.wal'))).toHaveLength(0)
    wal.close()
  })
})
