import type { FastifyInstance } from 'fastify'
import { DEPLOY, READ } from '../auth/roles.ts'
import { eventJson } from '../changelog/change-log.ts'
import { deployFromBody, deployJson, eventFromBody, recordDeploy } from '../changelog/deploys.ts'
import { DEPLOY_KIND } from '../changelog/types.ts'
import { GovernorError } from '../errors.ts'
import { parseTime } from '../query/params.ts'
import {
  DEPLOY_CREATED_JSON_SCHEMA,
  DEPLOY_JSON_SCHEMA,
  DEPLOY_LIST_JSON_SCHEMA,
  EVENT_JSON_SCHEMA,
  EVENT_LIST_JSON_SCHEMA,
  type DeployCreatedJson,
  type DeployJson,
  type DeployListJson,
  type EventJson,
  type EventListJson,
} from './wire/changes.ts'

type Q = Record<string, string | undefined>
const MAX_LIMIT = 1000

/** The change log over HTTP: deploys and events in, searchable lists out. */
export async function changeRoutes(app: FastifyInstance): Promise<void> {
  const { changeLog } = app.governor

  const created = { response: { 200: DEPLOY_CREATED_JSON_SCHEMA, 201: DEPLOY_CREATED_JSON_SCHEMA } }
  const deployList = { response: { 200: DEPLOY_LIST_JSON_SCHEMA } }

  app.post('/deploys', { config: { roles: DEPLOY }, schema: created }, async (req, reply) => {
    const recorded = await recordDeploy(changeLog, deployFromBody(req.body, Date.now(), req.principal?.name))
    // A retried deploy (same id) is 200 with created: false, so that a pipeline can say so.
    const answer: DeployCreatedJson = { ...deployJson(recorded.event), created: recorded.created }
    return reply.code(recorded.created ? 201 : 200).send(answer)
  })

  app.get<{ Querystring: Q }>(
    '/deploys',
    { config: { roles: READ }, schema: deployList },
    async (req): Promise<DeployListJson> => {
      const f = filter(req.query)
      const events = await changeLog.list({ ...f, kind: DEPLOY_KIND, environment: req.query.environment || undefined })
      return { deploys: events.map(deployJson) }
    },
  )

  app.get<{ Querystring: Q }>(
    '/deploys/last',
    { config: { roles: READ }, schema: deployList },
    async (req): Promise<DeployListJson> => {
      const events = await changeLog.lastDeploys(req.query.service || undefined, req.query.environment || undefined)
      return { deploys: events.map(deployJson) }
    },
  )

  app.get<{ Params: { id: string } }>(
    '/deploys/:id',
    { config: { roles: READ }, schema: { response: { 200: DEPLOY_JSON_SCHEMA } } },
    async (req): Promise<DeployJson> => {
      const e = await changeLog.get(req.params.id)
      if (e === undefined || e.kind !== DEPLOY_KIND)
        throw new GovernorError('GOV_ERR_CHANGE_NOT_FOUND', `no deploy with id ${JSON.stringify(req.params.id)}`)
      return deployJson(e)
    },
  )

  app.post(
    '/events',
    { config: { roles: DEPLOY }, schema: { response: { 200: EVENT_JSON_SCHEMA, 201: EVENT_JSON_SCHEMA } } },
    async (req, reply) => {
      const token = req.principal?.name
      const input = eventFromBody(req.body, Date.now(), token)
      const { event, created } =
        input.kind === DEPLOY_KIND
          ? await recordDeploy(changeLog, deployFromBody(req.body, Date.now(), token))
          : await changeLog.append(input)
      return reply.code(created ? 201 : 200).send(eventJson(event))
    },
  )

  app.get<{ Querystring: Q }>(
    '/events',
    { config: { roles: READ }, schema: { response: { 200: EVENT_LIST_JSON_SCHEMA } } },
    async (req): Promise<EventListJson> => {
      const events = await changeLog.list({ ...filter(req.query), q: req.query.q, kind: req.query.kind || undefined })
      // eventJson's open record is the EventJson shape; the tests check every answer against its schema.
      return { events: events.map((e) => eventJson(e) as unknown as EventJson) }
    },
  )
}

function filter(q: Q): {
  service: string | undefined
  from: number | undefined
  to: number | undefined
  limit: number
} {
  const now = Date.now()
  const limit = q.limit === undefined || q.limit === '' ? 100 : Number(q.limit)
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new GovernorError(
      'GOV_ERR_QUERY_PARAM',
      `limit=${JSON.stringify(q.limit)}: expected a whole number from 1 to ${MAX_LIMIT}`,
    )
  }
  return {
    service: q.service || undefined,
    from: q.from ? parseTime('from', q.from, now) : undefined,
    to: q.to ? parseTime('to', q.to, now) : undefined,
    limit,
  }
}
