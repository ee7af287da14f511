import type { FastifyInstance } from 'fastify'
import { READ } from '../auth/roles.ts'
import { DEPLOY_KIND } from '../changelog/types.ts'
import { GovernorError } from '../errors.ts'

/**
 * `GET /deploys/{id}/impact` (under /api/v1): the deploy's stored impact analysis; before its
 * window has passed, a provisional one over the data so far (`provisional: true`, not stored).
 */
export async function impactRoutes(app: FastifyInstance): Promise<void> {
  const { changeLog, impact } = app.governor
  app.get<{ Params: { id: string } }>('/deploys/:id/impact', { config: { roles: READ, readsPoints: true } }, async (req) => {
    const deploy = await changeLog.get(req.params.id)
    if (deploy === undefined || deploy.kind !== DEPLOY_KIND) {
      throw new GovernorError('GOV_ERR_CHANGE_NOT_FOUND', `no deploy with id ${JSON.stringify(req.params.id)}`)
    }
    return impact.answer(deploy, Date.now())
  })
}
