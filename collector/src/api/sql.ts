import type { ClickHouseClient } from '@clickhouse/client'
import { createClient } from '@clickhouse/client'
import type { FastifyInstance } from 'fastify'
import { READ } from '../auth/roles.ts'
import { GovernorError } from '../errors.ts'
import { ReadOnlySql } from '../sql/read-only-sql.ts'

/** Longest query text taken, in characters. */
const MAX_QUERY_CHARS = 100_000

/**
 * `POST /api/v1/sql` `{"query": "SELECT …"}`: one read-only SELECT over the store, for
 * developers, answered `{columns: [{name, type}], rows: [[…]]}`. See ReadOnlySql.
 *
 * With the embedded engine the queries run on a chDB session of their own, beside the
 * store's: a failed query cannot leave output in an answer of the store's session, and a
 * long one does not hold up commits (chDB runs one query at a time per session).
 */
export async function sqlRoutes(app: FastifyInstance): Promise<void> {
  const { store, settings } = app.governor
  let client: ClickHouseClient = store.client
  if (store.embedded) {
    const { createChdbConnection } = await import('chdb/connection')
    client = createClient({ connection: createChdbConnection({ path: store.location }) } as Parameters<typeof createClient>[0])
    app.addHook('onClose', async () => { await client.close() })
  }
  const sql = new ReadOnlySql(client, {
    limits: { maxExecutionMillis: settings.sqlMaxExecutionMillis, maxResultRows: settings.sqlMaxResultRows, maxMemoryBytes: settings.sqlMaxMemoryBytes, maxResultBytes: settings.sqlMaxResultBytes },
    drainAfterError: store.embedded,
  })

  app.post<{ Body: unknown }>('/sql', { config: { roles: READ, readsPoints: true } }, async (req) => {
    const body = req.body as { query?: unknown } | null | undefined
    const query = typeof body === 'object' && body !== null ? body.query : undefined
    if (typeof query !== 'string') throw new GovernorError('GOV_ERR_SQL_INVALID', 'the body must be a JSON object {"query": "SELECT …"}')
    if (query.length > MAX_QUERY_CHARS) throw new GovernorError('GOV_ERR_SQL_INVALID', `the query is ${query.length} characters; the most is ${MAX_QUERY_CHARS}`)
    return app.governor.readGate.run(() => sql.run(query))
  })
}
