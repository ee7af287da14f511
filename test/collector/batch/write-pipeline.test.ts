import { describe, expect, it } from 'vitest'
import { WritePipeline } from '../../../collector/src/batch/write-pipeline.ts'
import { isGovernorError } from '../../../collector/src/errors.ts'
import { PointBatch } from '../../../collector/src/model/batch.ts'
import type { SeriesInfo } from '../../../collector/src/model/types.ts'

const series: SeriesInfo = {
  id: 1n, metric: 'm', type: 'gauge', temporality: 'unspecified', monotonic: false, unit: '', description: '',
  service: 's', scope: '', resource: {}, attributes: {},
}

function batchOf(points: number): PointBatch {
  const b = new PointBatch()
  b.series.set(series.id, series)
  for (let i = 0; i < points; i++) b.samples.push(series, i, 0, 0, i)
  return b
}

/** A commit function that parks each call until the test releases it. */
function manualCommit() {
  const calls: { sizes: number[]; release: (err?: unknown) => void }[] = []
  const commit = (batches: readonly PointBatch[]) => new Promise<void>((resolve, reject) => {
    calls.push({ sizes: batches.map((b) => b.pointCount), release: (err) => (err === undefined ? resolve() : reject(err)) })
  })
  return { calls, commit }
}

describe('WritePipeline', () => {
  it('groups requests that arrive within the flush interval into one commit', async () => {
    const { calls, commit } = manualCommit()
    const p = new WritePipeline({ commit, maxBatchPoints: 1000, flushIntervalMillis: 20, maxPendingPoints: 10_000 })
    const a = p.submit(batchOf(3))
    const b = p.submit(batchOf(4))
    await new Promise((r) => setTimeout(r, 40))
    expect(calls.map((c) => c.sizes)).toEqual([[3, 4]])
    calls[0]!.release()
    await expect(Promise.all([a, b])).resolves.toEqual([undefined, undefined])
  })

  it('does not settle a request before its commit finishes', async () => {
    const { calls, commit } = manualCommit()
    const p = new WritePipeline({ commit, maxBatchPoints: 1, flushIntervalMillis: 1000, maxPendingPoints: 100 })
    let settled = false
    const a = p.submit(batchOf(5)).then(() => { settled = true })
    await new Promise((r) => setTimeout(r, 10))
    expect(calls).toHaveLength(1)
    expect(settled).toBe(false)
    calls[0]!.release()
    await a
    expect(settled).toBe(true)
  })

  it('commits at once when maxBatchPoints is reached, and splits at request boundaries', async () => {
    const { calls, commit } = manualCommit()
    const p = new WritePipeline({ commit, maxBatchPoints: 10, flushIntervalMillis: 60_000, maxPendingPoints: 1000 })
    const reqs = [p.submit(batchOf(6)), p.submit(batchOf(6)), p.submit(batchOf(6))]
    await new Promise((r) => setTimeout(r, 5))
    expect(calls.map((c) => c.sizes)).toEqual([[6]])
    calls[0]!.release()
    await reqs[0]
    await new Promise((r) => setTimeout(r, 5))
    expect(calls.map((c) => c.sizes)).toEqual([[6], [6]])
    calls[1]!.release()
    await new Promise((r) => setTimeout(r, 5))
    calls[2]!.release()
    await Promise.all(reqs)
  })

  it('refuses with GOV_ERR_PIPELINE_FULL once pending points pass the limit', async () => {
    const { calls, commit } = manualCommit()
    const p = new WritePipeline({ commit, maxBatchPoints: 1000, flushIntervalMillis: 0, maxPendingPoints: 10 })
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
    const p = new WritePipeline({ commit, maxBatchPoints: 1000, flushIntervalMillis: 0, maxPendingPoints: 10 })
    const big = p.submit(batchOf(50))
    await new Promise((r) => setTimeout(r, 5))
    calls[0]!.release()
    await expect(big).resolves.toBeUndefined()
  })

  it('rejects every request of a failed commit with GOV_ERR_STORE_WRITE and keeps going', async () => {
    const { calls, commit } = manualCommit()
    const p = new WritePipeline({ commit, maxBatchPoints: 1000, flushIntervalMillis: 10, maxPendingPoints: 1000 })
    const a = p.submit(batchOf(1)).catch((e: unknown) => e)
    const b = p.submit(batchOf(1)).catch((e: unknown) => e)
    await new Promise((r) => setTimeout(r, 30))
    calls[0]!.release(new Error('disk full'))
    for (const err of [await a, await b]) {
      expect(isGovernorError(err) && err.code).toBe('GOV_ERR_STORE_WRITE')
      expect((err as Error).message).toContain('disk full')
    }
    const c = p.submit(batchOf(2))
    await new Promise((r) => setTimeout(r, 30))
    calls[1]!.release()
    await expect(c).resolves.toBeUndefined()
  })

  it('close() commits what was accepted and refuses what comes after', async () => {
    const committed: number[] = []
    const p = new WritePipeline({
      commit: async (batches) => { for (const b of batches) committed.push(b.pointCount) },
      maxBatchPoints: 1000, flushIntervalMillis: 60_000, maxPendingPoints: 1000,
    })
    const a = p.submit(batchOf(3))
    await p.close()
    await a
    expect(committed).toEqual([3])
    await expect(p.submit(batchOf(1))).rejects.toThrow(/shutting down/)
  })
})
