import type { FastifyInstance } from 'fastify'
import { READ } from '../auth/roles.ts'
import { GovernorError } from '../errors.ts'
import { openReadOnlySql } from '../store/read-only-sql.ts'

/** Longest query text taken, in characters. */
const MAX_QUERY_CHARS = 100_000

/**
 * `POST /api/v1/sql` `{"query": "SELECT …"}`: one read-only SELECT over the store, for
 * developers, answered `{columns: [{name, type}], rows: [[…]]}`. See ReadOnlySql.
 */
export async function sqlRoutes(app: FastifyInstance): Promise<void> {
  const { store, settings } = app.governor
  const { sql, close } = await openReadOnlySql(store, {
    maxExecutionMillis: settings.sqlMaxExecutionMillis,
    maxResultRows: settings.sqlMaxResultRows,
    maxMemoryBytes: settings.sqlMaxMemoryBytes,
    maxResultBytes: settings.sqlMaxResultBytes,
  })
  app.addHook('onClose', close)

  app.post<{ Body: unknown }>('/sql', { config: { roles: READ, readsPoints: true } }, async (req) => {
    const body = req.body as { query?: unknown } | null | undefined
    const query = typeof body === 'object' && body !== null ? body.query : undefined
    if (typeof query !== 'string')
      throw new GovernorError('GOV_ERR_SQL_INVALID', 'the body must be a JSON object {"query": "SELECT …"}')
    if (query.length > MAX_QUERY_CHARS)
      throw new GovernorError(
        'GOV_ERR_SQL_INVALID',
        `the query is ${query.length} characters; the most is ${MAX_QUERY_CHARS}`,
      )
    return app.governor.readGate.run(() => sql.run(query))
  })
}
