import type { FastifyInstance } from 'fastify'
import { OPERATE, READ } from '../auth/roles.ts'
import { GovernorError } from '../errors.ts'
import type { QuarantineEntry } from '../batch/quarantine.ts'
import {
  QUARANTINE_LIST_JSON_SCHEMA,
  REPLAY_JSON_SCHEMA,
  type QuarantineEntryJson,
  type QuarantineListJson,
  type ReplayJson,
} from './wire/quarantine.ts'

const ID = /^[A-Za-z0-9_.-]{1,200}$/
/** Most ids one replay may name. */
const MAX_IDS = 1000

/**
 * The quarantine over HTTP (rows the store refused for their content, see quarantine.ts).
 * A route of the running collector rather than a command: the embedded engine serves one
 * process, so only the collector itself can send the rows to the store without being stopped.
 *
 *   GET  /quarantine                 every entry: table, rows, the store's messages, time, source
 *   GET  /quarantine?id=ID           that entry with its rows (TSV lines)
 *   POST /quarantine/replay {ids?}   send the entries' rows (all without ids) to the store again;
 *                                    what it takes leaves the quarantine, what it refuses stays
 */
export async function quarantineRoutes(app: FastifyInstance): Promise<void> {
  const { pipeline } = app.governor
  // One replay at a time: two would send the same rows side by side.
  let replaying: Promise<unknown> = Promise.resolve()

  const list = { response: { 200: QUARANTINE_LIST_JSON_SCHEMA } }
  app.get<{ Querystring: { id?: string } }>(
    '/quarantine',
    { config: { roles: READ }, schema: list },
    async (req): Promise<QuarantineListJson> => {
      const q = pipeline.quarantine
      const id = req.query.id
      if (id !== undefined && !ID.test(id))
        throw new GovernorError('GOV_ERR_QUERY_PARAM', `id=${JSON.stringify(id)}: not a quarantine entry id`)
      const entries = (q?.list() ?? []).filter((e) => id === undefined || e.id === id)
      return {
        entries: entries.map((e) => ({
          ...entryJson(e),
          ...(id === undefined
            ? {}
            : {
                rows_tsv: q!
                  .rowsOf(e.id)
                  .toString('utf8')
                  .split('\n')
                  .filter((l) => l !== ''),
              }),
        })),
      }
    },
  )

  app.post<{ Body: { ids?: unknown } | undefined }>(
    '/quarantine/replay',
    { config: { roles: OPERATE }, schema: { response: { 200: REPLAY_JSON_SCHEMA } } },
    async (req): Promise<ReplayJson> => {
      const q = pipeline.quarantine
      const ids = req.body?.ids
      if (
        ids !== undefined &&
        (!Array.isArray(ids) || ids.length > MAX_IDS || !ids.every((i) => typeof i === 'string' && ID.test(i)))
      ) {
        throw new GovernorError(
          'GOV_ERR_QUERY_PARAM',
          `ids: expected an array of at most ${MAX_IDS} quarantine entry ids`,
        )
      }
      if (q === undefined) return { replayed: [] }
      const run = replaying.then(() => q.replay(ids as string[] | undefined))
      replaying = run.catch(() => {})
      try {
        const outcomes = await run
        return { replayed: outcomes.map((o) => ({ id: o.id, table: o.table, stored: o.stored, refused: o.refused })) }
      } catch (err) {
        throw new GovernorError(
          'GOV_ERR_STORE_UNAVAILABLE',
          `the store did not take the quarantined rows; they stay in the quarantine: ${(err as Error).message}`,
          { cause: err },
        )
      }
    },
  )
}

function entryJson(e: QuarantineEntry): QuarantineEntryJson {
  return {
    id: e.id,
    table: e.table,
    columns: [...e.columns],
    rows: e.rows,
    errors: [...e.errors],
    quarantined_at: new Date(e.quarantinedAt).toISOString(),
    source: e.source,
  }
}
