import type { FastifyInstance } from 'fastify'
import { READ } from '../auth/roles.ts'
import { parseQueryParams, type RawQuery } from '../query/params.ts'
import { runQuery } from '../query/run-query.ts'

/** `GET /api/v1/query`: points of one metric, raw or aggregated per step. */
export async function queryRoutes(app: FastifyInstance): Promise<void> {
  const queries = app.governor.queries
  app.get<{ Querystring: RawQuery }>('/query', { config: { roles: READ, readsPoints: true } }, async (req) => {
    const params = parseQueryParams(req.query, Date.now())
    return app.governor.readGate.run(() =>
      runQuery(queries, app.governor.changeLog, params, app.governor.settings.maxQueryPoints),
    )
  })
}
