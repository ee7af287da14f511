import type { FastifyInstance } from 'fastify'
import { READ } from '../auth/roles.ts'
import { parseQueryParams, type RawQuery } from '../query/params.ts'
import { runQuery } from '../query/run-query.ts'
import type { EventJson } from './wire/changes.ts'
import { QUERY_ANSWER_JSON_SCHEMA, type QueryAnswerJson } from './wire/query.ts'

/** `GET /api/v1/query`: points of one metric, raw or aggregated per step. */
export async function queryRoutes(app: FastifyInstance): Promise<void> {
  const queries = app.governor.queries
  app.get<{ Querystring: RawQuery }>(
    '/query',
    { config: { roles: READ, readsPoints: true }, schema: { response: { 200: QUERY_ANSWER_JSON_SCHEMA } } },
    async (req): Promise<QueryAnswerJson> => {
      const params = parseQueryParams(req.query, Date.now())
      const answer = await app.governor.readGate.run(() =>
        runQuery(queries, app.governor.changeLog, params, app.governor.settings.maxQueryPoints),
      )
      // The annotations are change-log events as eventJson writes them (an open record there).
      return { ...answer, annotations: answer.annotations as unknown as EventJson[] }
    },
  )
}
