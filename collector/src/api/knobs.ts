import type { FastifyInstance } from 'fastify'
import {
  KNOB_DETAIL_JSON_SCHEMA,
  KNOB_JSON_SCHEMA,
  KNOB_LIST_JSON_SCHEMA,
  type KnobDetailJson,
  type KnobJson,
  type KnobListJson,
} from '@governor/throttle'
import { actorWithToken } from '../auth/actor.ts'
import { INGEST, OPERATE, READ_KNOBS, type Principal } from '../auth/roles.ts'
import { checkDeclareScope, checkReadScope, readableServices } from '../auth/service-scope.ts'
import { DEPLOY_KIND } from '../changelog/types.ts'
import { GovernorError } from '../errors.ts'
import { parseDefinition, valueConflict } from '../knobs/definition.ts'
import { KNOB_MODES, type KnobMode, type KnobState } from '../knobs/knob-service.ts'
import { KnobStreams, type KnobScope } from '../knobs/knob-stream.ts'
import { CHANGESET_REVERT_JSON_SCHEMA, type ChangesetRevertJson } from './wire/knobs.ts'

type P = { service: string; name: string }
type Body = Record<string, unknown> | undefined

/**
 * A knob as every endpoint and the live stream show it. `follows_default`: nobody has set it
 * since it was declared, so a new declaration moves it to its new default; `conflict`: why the
 * value does not fit the definition (a declaration kept a value set by a person, a pin or a
 * controller), null when it fits.
 */
export function knobJson(k: KnobState): KnobJson {
  const d = k.definition
  return {
    service: k.service,
    name: k.name,
    type: d.type,
    default: d.default,
    min: d.min,
    max: d.max,
    values: d.values,
    unit: d.unit,
    description: d.description,
    owner: d.owner,
    mode: k.mode,
    value: k.value,
    version: k.version,
    changed_at: new Date(k.changedAt).toISOString(),
    changed_by: k.actor,
    reason: k.reason,
    change_id: k.changeId,
    follows_default: k.declared === true,
    conflict: valueConflict(d, k.value) ?? null,
  }
}

/** The knob service over HTTP: declare, read, change, pin, revert, and a live stream. */
export async function knobRoutes(app: FastifyInstance): Promise<void> {
  const { knobs, changeLog } = app.governor
  const streams = new KnobStreams(knobs, knobJson)
  app.addHook('preClose', async () => streams.endAll())

  // Apps read their knobs with their ingest token (a scoped one, its services' only); people
  // with a read token.
  // Every answer is serialized by its schema (@governor/throttle's wire.ts): what the library
  // and the web UI read is what is sent, field for field.
  const one = { response: { 200: KNOB_JSON_SCHEMA, 201: KNOB_JSON_SCHEMA } }

  app.get<{ Querystring: { service?: string } }>(
    '/knobs',
    { config: { roles: READ_KNOBS }, schema: { response: { 200: KNOB_LIST_JSON_SCHEMA } } },
    async (req, reply) => {
      const service = readScope(req.principal, req.query.service || undefined)
      const etag = knobs.etag(service)
      reply.header('etag', etag).header('cache-control', 'no-cache')
      if (req.headers['if-none-match'] === etag) return reply.code(304).send()
      const answer: KnobListJson = { knobs: knobs.list(service).map(knobJson) }
      return answer
    },
  )

  app.get<{ Querystring: { service?: string } }>('/knobs/stream', { config: { roles: READ_KNOBS } }, (req, reply) =>
    streams.open(req, reply, readScope(req.principal, req.query.service || undefined)),
  )

  app.get<{ Params: P }>(
    '/knobs/:service/:name',
    { config: { roles: READ_KNOBS }, schema: { response: { 200: KNOB_DETAIL_JSON_SCHEMA } } },
    async (req): Promise<KnobDetailJson> => {
      const { service, name } = req.params
      checkReadScope(req.principal, service)
      const knob = knobs.get(service, name)
      const history = await knobs.history(service, name)
      return {
        ...knobJson(knob),
        history: history.map((v) => ({
          version: v.version,
          value: v.value,
          mode: v.mode,
          changed_at: new Date(v.changedAt).toISOString(),
          changed_by: v.actor,
          reason: v.reason,
          change_id: v.changeId,
        })),
      }
    },
  )

  app.put<{ Params: P; Body: Body }>(
    '/knobs/:service/:name',
    { config: { roles: INGEST }, schema: one },
    async (req, reply) => {
      const { service, name } = req.params
      const bodyActor = typeof req.body?.actor === 'string' && req.body.actor !== '' ? req.body.actor : undefined
      checkDeclareScope(req.principal, service) // an ingest@<service> token declares its services' knobs only
      const actor =
        req.principal !== null ? actorWithToken(bodyActor, req.principal.name) : (bodyActor ?? `app:${service}`)
      const { knob, created } = await knobs.declare(service, name, parseDefinition(req.body), actor)
      // The answer says when the knob's value does not fit the declaration (`conflict`): kept.
      return reply.code(created ? 201 : 200).send(knobJson(knob))
    },
  )

  const operate = { config: { roles: OPERATE }, schema: one }

  app.post<{ Params: P; Body: Body }>('/knobs/:service/:name/value', operate, async (req) => {
    const b = need(req.body, ['value', 'actor', 'reason'], req.principal)
    const mode = b.mode === undefined ? undefined : modeOf(b.mode)
    return knobJson(await knobs.setValue(req.params.service, req.params.name, b.value, who(b, req.principal), mode))
  })

  app.post<{ Params: P; Body: Body }>('/knobs/:service/:name/mode', operate, async (req) => {
    const b = need(req.body, ['mode', 'actor', 'reason'], req.principal)
    return knobJson(await knobs.setMode(req.params.service, req.params.name, modeOf(b.mode), who(b, req.principal)))
  })

  app.post<{ Params: P; Body: Body }>('/knobs/:service/:name/pin', operate, async (req) => {
    const b = need(req.body, ['actor', 'reason'], req.principal)
    return knobJson(await knobs.pin(req.params.service, req.params.name, b.value, who(b, req.principal)))
  })

  app.delete<{ Params: P; Body: Body; Querystring: { actor?: string; reason?: string } }>(
    '/knobs/:service/:name/pin',
    operate,
    async (req) => {
      const b = need({ ...req.query, ...(req.body ?? {}) }, ['actor', 'reason'], req.principal)
      return knobJson(await knobs.unpin(req.params.service, req.params.name, who(b, req.principal)))
    },
  )

  app.post<{ Params: P; Body: Body }>('/knobs/:service/:name/revert', operate, async (req) => {
    const b = need(req.body, ['version', 'actor', 'reason'], req.principal)
    if (typeof b.version !== 'number' || !Number.isInteger(b.version))
      throw new GovernorError('GOV_ERR_KNOB_INVALID', 'version must be a whole number')
    return knobJson(await knobs.revert(req.params.service, req.params.name, b.version, who(b, req.principal)))
  })

  const revert = { response: { 200: CHANGESET_REVERT_JSON_SCHEMA } }
  app.post<{ Body: Body }>(
    '/changesets/revert',
    { config: { roles: OPERATE }, schema: revert },
    async (req): Promise<ChangesetRevertJson> => {
      const b = need(req.body, ['since_deploy', 'actor', 'reason'], req.principal)
      const deploy = await changeLog.get(String(b.since_deploy))
      if (deploy === undefined || deploy.kind !== DEPLOY_KIND)
        throw new GovernorError('GOV_ERR_CHANGE_NOT_FOUND', `no deploy with id ${JSON.stringify(b.since_deploy)}`)
      const { reverted, changeId } = await knobs.revertSince(
        deploy.time,
        deploy.service,
        who(b, req.principal),
        `${deploy.service} ${deploy.version}`,
      )
      return { change_id: changeId, service: deploy.service, reverted: reverted.map(knobJson) }
    },
  )
}

/** What `?service=` asks for, within what the caller may read (403 for a service outside it). */
function readScope(principal: Principal | null, service: string | undefined): KnobScope {
  if (service !== undefined) {
    checkReadScope(principal, service)
    return service
  }
  return readableServices(principal)
}

/** The body, with `fields` present; with a token, `actor` is optional (the token names who acts). */
function need(body: Body, fields: string[], principal: Principal | null): Record<string, unknown> {
  const b = body ?? {}
  const absent = (f: string) => b[f] === undefined || b[f] === null || b[f] === ''
  const missing = fields.filter((f) => absent(f) && !(f === 'actor' && principal !== null))
  if (missing.length > 0)
    throw new GovernorError('GOV_ERR_KNOB_INVALID', missing.map((f) => `${f} is required`).join('; '))
  for (const f of ['actor', 'reason']) {
    if (fields.includes(f) && !absent(f) && typeof b[f] !== 'string')
      throw new GovernorError('GOV_ERR_KNOB_INVALID', `${f} must be a string`)
  }
  return b
}

function who(b: Record<string, unknown>, principal: Principal | null): { actor: string; reason: string } {
  const actor = typeof b.actor === 'string' ? b.actor : undefined
  return { actor: principal !== null ? actorWithToken(actor, principal.name) : String(actor), reason: String(b.reason) }
}

function modeOf(v: unknown): KnobMode {
  if (!KNOB_MODES.includes(v as KnobMode))
    throw new GovernorError(
      'GOV_ERR_KNOB_INVALID',
      `mode must be one of ${KNOB_MODES.join(', ')}, got ${JSON.stringify(v)}`,
    )
  return v as KnobMode
}
