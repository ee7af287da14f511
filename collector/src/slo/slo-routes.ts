import type { FastifyInstance } from 'fastify'
import { actorWithToken } from '../auth/actor.ts'
import { OPERATE, READ, type Principal } from '../auth/roles.ts'
import { iso } from '../changelog/change-log.ts'
import { GovernorError, isGovernorError } from '../errors.ts'
import { formatDuration } from './duration.ts'
import { parseSlo, type SloDefinition } from './definition.ts'
import { denialEvent, gateDecision } from './gate.ts'
import type { Slo } from './slo-service.ts'
import type { SloStatus } from './slo-status.ts'

type P = { service: string; name: string }

/**
 * SLOs and the deploy gate (under /api/v1):
 *
 *   PUT /slos/{service}/{name}   define or change an SLO (201 when created)
 *   GET /slos?service=           every SLO with its status: SLI, budget, burn rates, alert
 *   GET /slos/{service}/{name}   one, with its history
 *   GET /gate?service=           whether a deploy may go out; a denial is a `gate` event
 */
export async function sloRoutes(app: FastifyInstance): Promise<void> {
  const { slos, changeLog } = app.governor

  app.put<{ Params: P; Body: unknown }>('/slos/:service/:name', { config: { roles: OPERATE } }, async (req, reply) => {
    const { def, who } = sloBody(req.body, req.principal)
    const { slo, created } = await slos.put(req.params.service, req.params.name, def, who)
    // Stored: a status the store cannot compute now must not turn the answer into an error.
    return reply.code(created ? 201 : 200).send(await withStatus(slo).catch(() => sloJson(slo)))
  })

  app.get<{ Querystring: { service?: string } }>('/slos', { config: { roles: READ, readsPoints: true } }, async (req) => {
    const list = slos.list(req.query.service || undefined)
    return { slos: await Promise.all(list.map(withStatus)) }
  })

  app.get<{ Params: P }>('/slos/:service/:name', { config: { roles: READ, readsPoints: true } }, async (req) => {
    const slo = slos.get(req.params.service, req.params.name)
    const history = await slos.history(slo.service, slo.name)
    return { ...(await withStatus(slo)), history: history.map((v) => ({ ...definitionJson(v), version: v.version, changed_at: iso(v.changedAt), changed_by: v.actor, reason: v.reason, change_id: v.changeId })) }
  })

  app.get<{ Querystring: { service?: string; actor?: string; version?: string } }>('/gate', { config: { roles: READ, readsPoints: true } }, async (req) => {
    const service = req.query.service
    if (service === undefined || service === '') throw new GovernorError('GOV_ERR_QUERY_PARAM', 'service is required: GET /api/v1/gate?service=<name>')
    const now = Date.now()
    const list = slos.list(service)
    const decision = gateDecision(service, await Promise.all(list.map(async (slo) => ({ slo, status: await slos.status(slo, now) }))))
    if (!decision.allowed) {
      const bodyActor = req.query.actor?.trim() || undefined
      const actor = req.principal !== null ? actorWithToken(bodyActor, req.principal.name) : bodyActor ?? 'gate'
      await changeLog.append(denialEvent(decision, actor, req.query.version?.trim() ?? '', now))
    }
    return decision
  })

  async function withStatus(slo: Slo): Promise<Record<string, unknown>> {
    return { ...sloJson(slo), ...statusJson(await slos.status(slo, Date.now())) }
  }
}

/** The definition and the actor and reason of a PUT body; GOV_ERR_SLO_INVALID naming every problem. */
function sloBody(body: unknown, principal: Principal | null): { def: SloDefinition; who: { actor: string; reason: string } } {
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

function definitionJson(v: Slo): Record<string, unknown> {
  const d = v.definition
  return { sli: d.sli, objective: d.objective, window: d.window, ...(d.description !== '' ? { description: d.description } : {}) }
}

/** An SLO as the API shows it. */
export function sloJson(v: Slo): Record<string, unknown> {
  return {
    service: v.service, name: v.name, ...definitionJson(v),
    version: v.version, changed_at: iso(v.changedAt), changed_by: v.actor, reason: v.reason, change_id: v.changeId,
  }
}

/** A status as the API shows it; no event yet reads as `current_sli: null`. */
export function statusJson(s: SloStatus): Record<string, unknown> {
  return {
    current_sli: s.sli ?? null,
    events: s.events,
    error_budget_remaining: s.budgetRemaining,
    burn_rates: s.burns.map((b) => ({
      long_window: formatDuration(b.pair.longMillis), short_window: formatDuration(b.pair.shortMillis), threshold: b.pair.threshold,
      severity: b.pair.severity, long: b.long ?? null, short: b.short ?? null, firing: b.firing,
    })),
    alert: s.alert,
    ...(s.error !== undefined ? { error: s.error } : {}),
  }
}
