import type { FastifyInstance } from 'fastify'
import { actorWithToken, deletionWho } from '../auth/actor.ts'
import { OPERATE, READ, type Principal } from '../auth/roles.ts'
import { iso } from '../changelog/change-log.ts'
import { GovernorError, isGovernorError } from '../errors.ts'
import type { ControllerBinding } from '../control/controller-service.ts'
import type { ControllerView } from '../control/controller-runner.ts'
import {
  CONTROLLER_DELETED_JSON_SCHEMA,
  CONTROLLER_DETAIL_JSON_SCHEMA,
  CONTROLLER_LIST_JSON_SCHEMA,
  CONTROLLER_PUT_JSON_SCHEMA,
  type ControllerDeletedJson,
  type ControllerDetailJson,
  type ControllerJson,
  type ControllerListJson,
  type ControllerPutJson,
} from './wire/controllers.ts'

type P = { service: string; name: string }

/**
 * Controller bindings (under /api/v1):
 *
 *   PUT /controllers/{service}/{name}   bind a knob to an SLO (201 when created; `warnings` when
 *                                       something will not work as the operator likely expects)
 *   GET /controllers?service=           every binding with its last observation and decision
 *   GET /controllers/{service}/{name}   one, with its history
 *   DELETE /controllers/{service}/{name}  delete it (reason required; recorded)
 */
export async function controllerRoutes(app: FastifyInstance): Promise<void> {
  const { controllers, controllerRunner } = app.governor

  app.put<{ Params: P; Body: unknown }>(
    '/controllers/:service/:name',
    {
      config: { roles: OPERATE },
      schema: { response: { 200: CONTROLLER_PUT_JSON_SCHEMA, 201: CONTROLLER_PUT_JSON_SCHEMA } },
    },
    async (req, reply) => {
      const { service, name } = req.params
      const who = whoOf(req.body, req.principal, () => controllers.check(service, req.body))
      const { controller, created, knob, warnings } = await controllers.put(service, name, req.body, who)
      const answer: ControllerPutJson = {
        ...json(controller),
        knob_mode: knob.mode,
        ...(warnings.length > 0 ? { warnings } : {}),
      }
      return reply.code(created ? 201 : 200).send(answer)
    },
  )

  app.delete<{ Params: P; Querystring: { actor?: string; reason?: string }; Body: unknown }>(
    '/controllers/:service/:name',
    { config: { roles: OPERATE }, schema: { response: { 200: CONTROLLER_DELETED_JSON_SCHEMA } } },
    async (req): Promise<ControllerDeletedJson> => {
      const { service, name } = req.params
      controllers.get(service, name)
      const who = deletionWho(req.query, req.body, req.principal, 'GOV_ERR_CONTROLLER_INVALID')
      const { controller, knob } = await controllers.remove(service, name, who)
      return {
        deleted: true,
        service,
        name,
        version: controller.version,
        ...(knob !== undefined ? { knob_mode: knob.mode } : {}),
      }
    },
  )

  const list = { response: { 200: CONTROLLER_LIST_JSON_SCHEMA } }
  app.get<{ Querystring: { service?: string } }>(
    '/controllers',
    { config: { roles: READ }, schema: list },
    async (req): Promise<ControllerListJson> => {
      return { controllers: controllers.list(req.query.service || undefined).map(json) }
    },
  )

  const detail = { response: { 200: CONTROLLER_DETAIL_JSON_SCHEMA } }
  app.get<{ Params: P }>(
    '/controllers/:service/:name',
    { config: { roles: READ }, schema: detail },
    async (req): Promise<ControllerDetailJson> => {
      const c = controllers.get(req.params.service, req.params.name)
      const history = await controllers.history(c.service, c.name)
      return {
        ...json(c),
        history: history.map((v) => ({
          ...v.definition,
          version: v.version,
          changed_at: iso(v.changedAt),
          changed_by: v.actor,
          reason: v.reason,
          change_id: v.changeId,
        })),
      }
    },
  )

  function json(c: ControllerBinding): ControllerJson {
    return controllerJson(c, controllerRunner.view(c.service, c.name))
  }
}

/**
 * The actor and reason of a body. When they are missing, the rest of the body is checked
 * too (`check`), so that one answer names every problem.
 */
function whoOf(body: unknown, principal: Principal | null, check: () => unknown): { actor: string; reason: string } {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>
  const text = (k: string) => (typeof b[k] === 'string' ? (b[k] as string).trim() : '')
  const problems: string[] = []
  if (b.actor !== undefined && typeof b.actor !== 'string') problems.push('actor must be a string')
  else if (text('actor') === '' && principal === null) problems.push('actor is required')
  if (text('reason') === '') problems.push('reason is required')
  if (problems.length > 0) {
    try {
      check()
    } catch (err) {
      if (isGovernorError(err) && err.code === 'GOV_ERR_CONTROLLER_INVALID') problems.unshift(err.message)
    }
    throw new GovernorError('GOV_ERR_CONTROLLER_INVALID', problems.join('; '))
  }
  return {
    actor: principal !== null ? actorWithToken(text('actor') || undefined, principal.name) : text('actor'),
    reason: text('reason'),
  }
}

/** A binding as the API shows it, with what its runner last saw and did. */
export function controllerJson(c: ControllerBinding, runtime: ControllerView | undefined): ControllerJson {
  const d = c.definition
  const view = runtime?.version === c.version ? runtime : undefined // a changed binding starts afresh at its next tick
  const { description, ...def } = d
  const obs = view?.lastObservation
  const dec = view?.lastDecision
  return {
    service: c.service,
    name: c.name,
    ...def,
    ...(description !== '' ? { description } : {}),
    version: c.version,
    changed_at: iso(c.changedAt),
    changed_by: c.actor,
    reason: c.reason,
    change_id: c.changeId,
    last_observation:
      obs === undefined
        ? null
        : {
            at: iso(obs.now),
            sli: obs.sli ?? null,
            target: obs.target,
            value: obs.value,
            burn_rate: obs.burnRate ?? null,
            text: obs.text,
            ...(obs.inUse !== undefined ? { in_use: obs.inUse } : {}),
            ...(obs.limit !== undefined ? { limiter_limit: obs.limit } : {}),
            ...(obs.guard !== undefined
              ? { guard: { sli: obs.guard.sli ?? null, target: obs.guard.target, text: obs.guardText ?? null } }
              : {}),
          },
    last_decision:
      dec === undefined
        ? null
        : {
            at: iso(dec.at),
            kind: dec.kind,
            value: Number.isFinite(dec.value) ? dec.value : null,
            reason: dec.reason,
            applied: dec.applied,
          },
    holding:
      view?.holding === undefined
        ? null
        : { kind: view.holding.kind, reason: view.holding.reason, since: iso(view.holding.since) },
  }
}
