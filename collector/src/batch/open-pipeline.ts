import { join, resolve, sep } from 'node:path'
import type { FastifyBaseLogger } from 'fastify'
import { GovernorError } from '../errors.ts'
import type { Settings } from '../settings.ts'
import type { Store } from '../store/store.ts'
import { WriteAheadLog } from './wal.ts'
import { WritePipeline } from './write-pipeline.ts'

/** What the pipeline reports to: a commit's size and duration, and failures. */
export interface CommitObserver {
  committed(points: number, durationMillis: number): void
  failed(): void
}

/** The log's directory: GOVERNOR_WAL_DIR, `<data dir>/wal` when unset, undefined when off. */
export function walDirOf(settings: Settings): string | undefined {
  if (settings.walDir === 'off') return undefined
  return resolve(settings.walDir === '' ? join(settings.dataDir, 'wal') : settings.walDir)
}

/**
 * The ingest pipeline over `store`: opens the write-ahead log (unless it is off), commits what
 * an earlier run left in it, and only then returns, so that nothing acknowledged before a
 * crash is missing once Governor takes traffic again.
 */
export async function openPipeline(settings: Settings, store: Store, log: FastifyBaseLogger, observe: () => CommitObserver | undefined): Promise<WritePipeline> {
  const dir = walDirOf(settings)
  // Embedded, the data directory's lock covers a log inside it; a log elsewhere, or next to
  // a server, is locked on its own.
  const insideDataDir = dir !== undefined && dir.startsWith(resolve(settings.dataDir) + sep)
  const opened = dir === undefined ? undefined : WriteAheadLog.open(dir, { lock: !store.embedded || !insideDataDir })
  const wal = opened?.wal
  let failing = false
  const pipeline = new WritePipeline({
    commit: (group) => store.writeRows(group),
    isStored: (id) => store.hasSeries(id),
    onSeriesStored: (ids) => store.markSeriesStored(ids),
    wal,
    maxBatchPoints: settings.maxBatchPoints,
    flushIntervalMillis: settings.flushIntervalMillis,
    maxPendingPoints: settings.maxPendingPoints,
    onLogRefused: () => store.noteWriteFailure(),
    onCommit: ({ points, durationMillis, error }) => {
      if (error === undefined) {
        observe()?.committed(points, durationMillis)
        if (failing) log.info({ points }, 'commits to the store resumed')
        failing = false
        return
      }
      observe()?.failed()
      // Logged once a streak: with a log, a refused commit is retried every second.
      if (!failing) log.error({ err: error, points }, wal === undefined ? 'commit to the store failed' : 'commit to the store failed; the points stay in the write-ahead log and the commit is retried')
      failing = true
    },
  })
  const leftovers = opened?.leftovers ?? []
  if (leftovers.length > 0) {
    try {
      const { segments, points } = await pipeline.replay(leftovers)
      const torn = leftovers.reduce((n, s) => n + s.tornBytes, 0)
      log.info({ segments, points, tornBytes: torn }, 'replayed the write-ahead log')
    } catch (err) {
      wal?.close()
      throw new GovernorError('GOV_ERR_STORE_UNAVAILABLE', `the store refused the points left in the write-ahead log (${dir}): ${(err as Error).message}`, { cause: err })
    }
  }
  return pipeline
}
