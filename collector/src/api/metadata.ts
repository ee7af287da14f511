import type { FastifyInstance } from 'fastify'
import { READ } from '../auth/roles.ts'
import { GovernorError } from '../errors.ts'
import {
  METRIC_LIST_JSON_SCHEMA,
  SERIES_LIST_JSON_SCHEMA,
  type MetricListJson,
  type SeriesListJson,
} from './wire/metadata.ts'

/** What is stored: metric names with their type, unit and services; the label sets of a metric. */
export async function metadataRoutes(app: FastifyInstance): Promise<void> {
  const queries = app.governor.queries

  app.get(
    '/metrics',
    { config: { roles: READ, readsPoints: true }, schema: { response: { 200: METRIC_LIST_JSON_SCHEMA } } },
    async (): Promise<MetricListJson> => ({ metrics: await queries.metrics() }),
  )

  app.get<{ Querystring: { metric?: string; service?: string } }>(
    '/series',
    { config: { roles: READ, readsPoints: true }, schema: { response: { 200: SERIES_LIST_JSON_SCHEMA } } },
    async (req): Promise<SeriesListJson> => {
      const { metric, service } = req.query
      if (metric === undefined || metric === '') throw new GovernorError('GOV_ERR_QUERY_PARAM', 'metric is required')
      const rows = await queries.series(metric, service || undefined)
      if (rows.length === 0)
        throw new GovernorError(
          'GOV_ERR_QUERY_UNKNOWN_METRIC',
          `no metric named ${JSON.stringify(metric)}${service ? ` for service ${JSON.stringify(service)}` : ''}`,
        )
      return {
        metric: { name: metric, type: rows[0]!.type, unit: rows[0]!.unit },
        series: rows.map((s) => ({ id: s.id, service: s.service, labels: { ...s.resource, ...s.attributes } })),
      }
    },
  )
}
