import type { FastifyInstance } from 'fastify'
import { DEPLOY, READ } from '../auth/roles.ts'
import { eventJson } from '../changelog/change-log.ts'
import { deployFromBody, deployJson, eventFromBody, recordDeploy } from '../changelog/deploys.ts'
import { DEPLOY_KIND } from '../changelog/types.ts'
import { GovernorError } from '../errors.ts'
import { parseTime } from '../query/params.ts'

type Q = Record<string, string | undefined>
const MAX_LIMIT = 1000

/** The change log over HTTP: deploys and events in, searchable lists out. */
export async function changeRoutes(app: FastifyInstance): Promise<void> {
  const { changeLog } = app.governor

  app.post('/deploys', { config: { roles: DEPLOY } }, async (req, reply) => {
    const { event, created } = await recordDeploy(changeLog, deployFromBody(req.body, Date.now(), req.principal?.name))
    // A retried deploy (same id) is 200 with created: false, so that a pipeline can say so.
    return reply.code(created ? 201 : 200).send({ ...deployJson(event), created })
  })

  app.get<{ Querystring: Q }>('/deploys', { config: { roles: READ } }, async (req) => {
    const f = filter(req.query)
    const events = await changeLog.list({ ...f, kind: DEPLOY_KIND, environment: req.query.environment || undefined })
    return { deploys: events.map(deployJson) }
  })

  app.get<{ Querystring: Q }>('/deploys/last', { config: { roles: READ } }, async (req) => {
    const events = await changeLog.lastDeploys(req.query.service || undefined, req.query.environment || undefined)
    return { deploys: events.map(deployJson) }
  })

  app.get<{ Params: { id: string } }>('/deploys/:id', { config: { roles: READ } }, async (req) => {
    const e = await changeLog.get(req.params.id)
    if (e === undefined || e.kind !== DEPLOY_KIND)
      throw new GovernorError('GOV_ERR_CHANGE_NOT_FOUND', `no deploy with id ${JSON.stringify(req.params.id)}`)
    return deployJson(e)
  })

  app.post('/events', { config: { roles: DEPLOY } }, async (req, reply) => {
    const token = req.principal?.name
    const input = eventFromBody(req.body, Date.now(), token)
    const { event, created } =
      input.kind === DEPLOY_KIND
        ? await recordDeploy(changeLog, deployFromBody(req.body, Date.now(), token))
        : await changeLog.append(input)
    return reply.code(created ? 201 : 200).send(eventJson(event))
  })

  app.get<{ Querystring: Q }>('/events', { config: { roles: READ } }, async (req) => {
    const events = await changeLog.list({ ...filter(req.query), q: req.query.q, kind: req.query.kind || undefined })
    return { events: events.map(eventJson) }
  })
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
