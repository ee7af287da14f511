import { join, resolve, sep } from 'node:path'
import type { FastifyBaseLogger } from 'fastify'
import { GovernorError } from '../errors.ts'
import type { Settings } from '../settings.ts'
import type { Store } from '../store/store.ts'
import { isDataError } from '../store/data-error.ts'
import { durableCommit } from './durable-commit.ts'
import { Quarantine } from './quarantine.ts'
import type { TableInsert } from './split-commit.ts'
import { WriteAheadLog } from './wal.ts'
import { WritePipeline } from './write-pipeline.ts'

/** What the pipeline reports to: a commit's size and duration, failures, rows set aside, damage found in the log. */
export interface CommitObserver {
  committed(points: number, durationMillis: number): void
  failed(): void
  quarantined?(table: string, rows: number): void
  walDamaged?(kind: string): void
}

/** The log's directory: GOVERNOR_WAL_DIR, `<data dir>/wal` when unset, undefined when off. */
export function walDirOf(settings: Settings): string | undefined {
  if (settings.walDir === 'off') return undefined
  return resolve(settings.walDir === '' ? join(settings.dataDir, 'wal') : settings.walDir)
}

/** Where rows the store refuses are kept: beside the log, or in the data directory without one. */
export function quarantineDirOf(settings: Settings): string {
  return join(walDirOf(settings) ?? resolve(settings.dataDir), 'quarantine')
}

/**
 * The ingest pipeline over `store`: opens the write-ahead log (unless it is off), commits what
 * an earlier run left in it, and only then returns, so that nothing acknowledged before a
 * crash is missing once Governor takes traffic again.
 */
export async function openPipeline(
  settings: Settings,
  store: Store,
  log: FastifyBaseLogger,
  observe: () => CommitObserver | undefined,
): Promise<WritePipeline> {
  const dir = walDirOf(settings)
  // Embedded, the data directory's lock covers a log inside it; a log elsewhere, or next to
  // a server, is locked on its own.
  const insideDataDir = dir !== undefined && dir.startsWith(resolve(settings.dataDir) + sep)
  const opened =
    dir === undefined
      ? undefined
      : WriteAheadLog.open(dir, { lock: !store.embedded || !insideDataDir, fsyncMillis: settings.walFsyncMillis })
  const wal = opened?.wal
  for (const d of opened?.damage ?? []) {
    observe()?.walDamaged?.(d.kind)
    const kept = d.keptAt === '' ? 'could not be moved aside' : `kept in ${d.keptAt}`
    const what =
      d.kind === 'torn-tail'
        ? `its ${d.records} good records are replayed, the ${d.bytes} bytes after them cut off (${kept})`
        : `the segment is not replayed (${kept})`
    log.error(
      { code: 'GOV_ERR_WAL_DAMAGED', ...d },
      `GOV_ERR_WAL_DAMAGED: write-ahead log segment ${d.segment} is damaged (${d.kind}: ${d.reason}); ${what}`,
    )
  }
  const quarantine = new Quarantine(quarantineDirOf(settings))
  const insert: TableInsert = (table, rows, token) => store.insertRows(table, rows, token)
  let failing = false
  const pipeline = new WritePipeline({
    commit: durableCommit({
      insert,
      isDataError,
      quarantine,
      recordCommitted: wal === undefined ? undefined : (token) => store.recordCommitted(token),
      onQuarantined: (e) => {
        observe()?.quarantined?.(e.table, e.rows)
        log.error(
          { code: 'GOV_ERR_STORE_QUARANTINED', entry: e.id, table: e.table, rows: e.rows, error: e.errors[0] },
          `GOV_ERR_STORE_QUARANTINED: the store refused ${e.rows} ${e.table} row(s) for their content; the rest of the commit is stored and these rows are kept in ${join(quarantine.dir, e.id)}.tsv (GET /api/v1/quarantine, replay with POST /api/v1/quarantine/replay)`,
        )
      },
    }),
    committedTokens: wal === undefined ? undefined : (tokens) => store.committedTokens(tokens),
    quarantine: {
      list: () => quarantine.list(),
      rowsOf: (id) => quarantine.rowsOf(id),
      replay: (ids) => quarantine.replay(insert, isDataError, ids),
    },
    isStored: (id) => store.hasSeries(id),
    onSeriesStored: (ids) => store.markSeriesStored(ids),
    wal,
    maxBatchPoints: settings.maxBatchPoints,
    flushIntervalMillis: settings.flushIntervalMillis,
    maxPendingPoints: settings.maxPendingPoints,
    onLogRefused: () => store.noteWriteFailure(),
    onCommit: ({ points, durationMillis, error }) => {
      if (error === undefined) {
        store.noteWriteSuccess()
        observe()?.committed(points, durationMillis)
        if (failing) log.info({ points }, 'commits to the store resumed')
        failing = false
        return
      }
      observe()?.failed()
      // Logged once a streak: with a log, a refused commit is retried every second.
      if (!failing)
        log.error(
          { err: error, points },
          wal === undefined
            ? 'commit to the store failed'
            : 'commit to the store failed; the points stay in the write-ahead log and the commit is retried',
        )
      failing = true
    },
  })
  const leftovers = opened?.leftovers ?? []
  if (leftovers.length > 0) {
    try {
      const { segments, points, skipped } = await pipeline.replay(leftovers)
      log.info({ segments, points, skipped }, 'replayed the write-ahead log')
    } catch (err) {
      wal?.close()
      throw new GovernorError(
        'GOV_ERR_STORE_UNAVAILABLE',
        `the store refused the points left in the write-ahead log (${dir}): ${(err as Error).message}`,
        { cause: err },
      )
    }
  }
  return pipeline
}
