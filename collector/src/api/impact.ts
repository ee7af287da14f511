import type { FastifyInstance } from 'fastify'
import { READ } from '../auth/roles.ts'
import { DEPLOY_KIND } from '../changelog/types.ts'
import { GovernorError } from '../errors.ts'
import { IMPACT_JSON_SCHEMA, type ImpactJson } from './wire/impact.ts'

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000 } as const

/** `?window=` as `90s`, `5m` or `1h`, in ms; GOV_ERR_QUERY_PARAM for anything else. */
export function parseImpactWindow(v: string): number {
  const m = /^(\d{1,6})(s|m|h)$/.exec(v.trim())
  if (m === null)
    throw new GovernorError(
      'GOV_ERR_QUERY_PARAM',
      `window must be a duration such as 5m, 90s or 1h, got ${JSON.stringify(v)}`,
    )
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]
}

/**
 * `GET /deploys/{id}/impact` (under /api/v1): the deploy's stored impact analysis; before its
 * window has passed, a provisional one over the data so far (`provisional: true`, not stored).
 * `?window=5m`: a provisional look over 5 minutes before and after, never stored.
 */
export async function impactRoutes(app: FastifyInstance): Promise<void> {
  const { changeLog, impact } = app.governor
  app.get<{ Params: { id: string }; Querystring: { window?: string } }>(
    '/deploys/:id/impact',
    { config: { roles: READ, readsPoints: true }, schema: { response: { 200: IMPACT_JSON_SCHEMA } } },
    async (req): Promise<ImpactJson> => {
      const window =
        req.query.window === undefined || req.query.window === '' ? undefined : parseImpactWindow(req.query.window)
      const deploy = await changeLog.get(req.params.id)
      if (deploy === undefined || deploy.kind !== DEPLOY_KIND) {
        throw new GovernorError('GOV_ERR_CHANGE_NOT_FOUND', `no deploy with id ${JSON.stringify(req.params.id)}`)
      }
      return impact.answer(deploy, Date.now(), window)
    },
  )
}
