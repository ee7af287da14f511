import type { FastifyInstance } from 'fastify'
import { actorWithToken } from '../auth/actor.ts'
import { OPERATE, READ, type Principal } from '../auth/roles.ts'
import { iso } from '../changelog/change-log.ts'
import { GovernorError, isGovernorError } from '../errors.ts'
import { formatDuration } from '../slo/duration.ts'
import { parseSlo, type SloDefinition } from '../slo/definition.ts'
import { gateDecision, gateEvent } from '../slo/gate.ts'
import { deletionWho } from '../auth/actor.ts'
import type { Slo } from '../slo/slo-service.ts'
import { sloState, type SloStatus } from '../slo/slo-status.ts'
import {
  DELETED_JSON_SCHEMA,
  GATE_JSON_SCHEMA,
  SLO_ANSWER_JSON_SCHEMA,
  SLO_DETAIL_JSON_SCHEMA,
  SLO_LIST_JSON_SCHEMA,
  type DeletedJson,
  type GateJson,
  type SloAnswerJson,
  type SloDefinitionJson,
  type SloDetailJson,
  type SloJson,
  type SloListJson,
  type SloStatusJson,
  type SloWithStatusJson,
} from './wire/slos.ts'

type P = { service: string; name: string }

/**
 * SLOs and the deploy gate (under /api/v1):
 *
 *   PUT /slos/{service}/{name}   define or change an SLO (201 when created)
 *   GET /slos?service=           every SLO with its status: SLI, budget, burn rates, alert
 *   GET /slos/{service}/{name}   one, with its history
 *   DELETE /slos/{service}/{name}  delete it (reason required; recorded; 409 while a controller uses it)
 *   GET /gate?service=           whether a deploy may go out (&version= &environment=
 *                                &require_slo=1 &override=<reason> &actor=); denials,
 *                                overrides and rollbacks through a spent budget are `gate` events
 */
export async function sloRoutes(app: FastifyInstance): Promise<void> {
  const { slos, changeLog, knobs, controllers } = app.governor
  const queries = app.governor.queries

  const answer = { response: { 200: SLO_ANSWER_JSON_SCHEMA, 201: SLO_ANSWER_JSON_SCHEMA } }
  app.put<{ Params: P; Body: unknown }>(
    '/slos/:service/:name',
    { config: { roles: OPERATE }, schema: answer },
    async (req, reply) => {
      const { def, who } = sloBody(req.body, req.principal)
      const { slo, created } = await slos.put(req.params.service, req.params.name, def, who)
      // Stored: a status the store cannot compute now must not turn the answer into an error.
      const json: SloAnswerJson = await withStatus(slo).catch(() => sloJson(slo))
      return reply.code(created ? 201 : 200).send(json)
    },
  )

  app.get<{ Querystring: { service?: string } }>(
    '/slos',
    { config: { roles: READ, readsPoints: true }, schema: { response: { 200: SLO_LIST_JSON_SCHEMA } } },
    async (req): Promise<SloListJson> => {
      const list = slos.list(req.query.service || undefined)
      return { slos: await Promise.all(list.map(withStatus)) }
    },
  )

  const detail = { response: { 200: SLO_DETAIL_JSON_SCHEMA } }
  app.get<{ Params: P }>(
    '/slos/:service/:name',
    { config: { roles: READ, readsPoints: true }, schema: detail },
    async (req): Promise<SloDetailJson> => {
      const slo = slos.get(req.params.service, req.params.name)
      const history = await slos.history(slo.service, slo.name)
      return {
        ...(await withStatus(slo)),
        history: history.map((v) => ({
          ...definitionJson(v),
          version: v.version,
          changed_at: iso(v.changedAt),
          changed_by: v.actor,
          reason: v.reason,
          change_id: v.changeId,
        })),
      }
    },
  )

  app.delete<{ Params: P; Querystring: { actor?: string; reason?: string }; Body: unknown }>(
    '/slos/:service/:name',
    { config: { roles: OPERATE }, schema: { response: { 200: DELETED_JSON_SCHEMA } } },
    async (req): Promise<DeletedJson> => {
      const { service, name } = req.params
      slos.get(service, name)
      const who = deletionWho(req.query, req.body, req.principal, 'GOV_ERR_SLO_INVALID')
      const user = controllers.usingSlo(service, name)
      if (user !== undefined) {
        throw new GovernorError(
          'GOV_ERR_SLO_IN_USE',
          `SLO ${service}/${name} is used by controller ${service}/${user}: delete the controller (or bind it to another SLO) first`,
        )
      }
      const slo = await slos.remove(service, name, who)
      return { deleted: true, service, name, version: slo.version }
    },
  )

  type GateQuery = {
    service?: string
    actor?: string
    version?: string
    environment?: string
    require_slo?: string
    override?: string
  }
  const gate = { response: { 200: GATE_JSON_SCHEMA } }
  app.get<{ Querystring: GateQuery }>(
    '/gate',
    { config: { roles: READ, readsPoints: true }, schema: gate },
    async (req): Promise<GateJson> => {
      const q = req.query
      const service = q.service
      if (service === undefined || service === '')
        throw new GovernorError('GOV_ERR_QUERY_PARAM', 'service is required: GET /api/v1/gate?service=<name>')
      const now = Date.now()
      const version = q.version?.trim() ?? ''
      const bodyActor = q.actor?.trim() || undefined
      const actor = req.principal !== null ? actorWithToken(bodyActor, req.principal.name) : (bodyActor ?? 'gate')
      const overrideReason = q.override?.trim() ?? ''
      if (q.override !== undefined) {
        if (overrideReason === '')
          throw new GovernorError(
            'GOV_ERR_QUERY_PARAM',
            'override needs a reason: override=<why this deploy must go out>',
          )
        if (req.principal === null && bodyActor === undefined)
          throw new GovernorError('GOV_ERR_QUERY_PARAM', 'an override needs actor=<who> (or a token): it is recorded')
        if (req.principal !== null && !req.principal.roles.some((r) => r === 'deploy' || r === 'operate')) {
          throw new GovernorError(
            'GOV_ERR_AUTH_FORBIDDEN',
            `an override needs a deploy or operate token; ${req.principal.name} has ${req.principal.roles.join(', ')}`,
          )
        }
      }
      const list = slos.list(service)
      const [statuses, known, rollback] = await Promise.all([
        Promise.all(list.map(async (slo) => ({ slo, status: await slos.status(slo, now) }))),
        isKnown(service),
        isRollback(service, q.environment?.trim() || 'production', version),
      ])
      const decision = gateDecision(
        {
          service,
          known,
          requireSlo: q.require_slo === '1' || q.require_slo === 'true',
          rollback,
          ...(q.override !== undefined ? { override: { actor, reason: overrideReason } } : {}),
        },
        statuses,
      )
      const event = gateEvent(decision, actor, version, now)
      if (event !== undefined) await changeLog.append(event)
      return decision
    },
  )

  /** Sent metrics, was deployed, or has knobs, SLOs or controllers. */
  async function isKnown(service: string): Promise<boolean> {
    if (slos.list(service).length > 0 || knobs.list(service).length > 0 || controllers.list(service).length > 0)
      return true
    if ((await changeLog.lastDeploys(service)).length > 0) return true
    return queries.hasService(service)
  }

  /** The version ran before in this environment and is not the live one (as recordDeploy marks rollbacks). */
  async function isRollback(service: string, environment: string, version: string): Promise<boolean> {
    if (version === '') return false
    const earlier = (await changeLog.deploysUntil([service], Date.now() + 1)).filter(
      (d) => d.environment === environment,
    )
    const live = earlier.at(-1)
    return live !== undefined && live.version !== version && earlier.some((d) => d.version === version)
  }

  async function withStatus(slo: Slo): Promise<SloWithStatusJson> {
    return { ...sloJson(slo), ...statusJson(await slos.status(slo, Date.now())) }
  }
}

/** The definition and the actor and reason of a PUT body; GOV_ERR_SLO_INVALID naming every problem. */
function sloBody(
  body: unknown,
  principal: Principal | null,
): { def: SloDefinition; who: { actor: string; reason: string } } {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>
  const problems: string[] = []
  const text = (k: string) => (typeof b[k] === 'string' ? (b[k] as string).trim() : '')
  if (b.actor !== undefined && typeof b.actor !== 'string') problems.push('actor must be a string')
  else if (text('actor') === '' && principal === null) problems.push('actor is required')
  if (text('reason') === '') problems.push('reason is required')
  let def: SloDefinition | undefined
  try {
    def = parseSlo(body)
  } catch (err) {
    if (!isGovernorError(err)) throw err
    problems.unshift(err.message)
  }
  if (problems.length > 0 || def === undefined) throw new GovernorError('GOV_ERR_SLO_INVALID', problems.join('; '))
  const actor = principal !== null ? actorWithToken(text('actor') || undefined, principal.name) : text('actor')
  return { def, who: { actor, reason: text('reason') } }
}

function definitionJson(v: Slo): SloDefinitionJson {
  const d = v.definition
  return {
    sli: d.sli,
    objective: d.objective,
    window: d.window,
    ...(d.description !== '' ? { description: d.description } : {}),
  }
}

/** An SLO as the API shows it. */
export function sloJson(v: Slo): SloJson {
  return {
    service: v.service,
    name: v.name,
    ...definitionJson(v),
    version: v.version,
    changed_at: iso(v.changedAt),
    changed_by: v.actor,
    reason: v.reason,
    change_id: v.changeId,
  }
}

/** A status as the API shows it; no event yet reads as `current_sli: null`. */
export function statusJson(s: SloStatus): SloStatusJson {
  return {
    current_sli: s.sli ?? null,
    events: s.events,
    error_budget_remaining: s.budgetRemaining,
    burn_rates: s.burns.map((b) => ({
      long_window: formatDuration(b.pair.longMillis),
      short_window: formatDuration(b.pair.shortMillis),
      threshold: b.pair.threshold,
      severity: b.pair.severity,
      long: b.long ?? null,
      short: b.short ?? null,
      firing: b.firing,
      ...(b.notes.length > 0 ? { notes: b.notes } : {}),
    })),
    alert: s.alert,
    state: sloState(s),
    ...(s.error !== undefined ? { error: s.error } : {}),
  }
}
