import type { FastifyInstance } from 'fastify'
import { READ } from '../auth/roles.ts'
import { deployJson } from '../changelog/deploys.ts'
import type { ChangeEvent } from '../changelog/types.ts'
import { controllerJson } from './controllers.ts'
import type { KnobMode } from '../knobs/knob-service.ts'
import { sloJson, statusJson } from './slos.ts'
import type { Slo } from '../slo/slo-service.ts'
import type { MetricSummary } from '../store/queries.ts'
import { knobJson } from './knobs.ts'
import type { SloAnswerJson } from './wire/slos.ts'
import {
  SERVICE_DETAIL_JSON_SCHEMA,
  SERVICE_LIST_JSON_SCHEMA,
  type ServiceDetailJson,
  type ServiceListJson,
  type ServiceMetricJson,
} from './wire/services.ts'

type P = { service: string }

/**
 * Services at a glance, one call per page of the web UI (under /api/v1):
 *
 *   GET /services            every service that sent metrics, was deployed, or has knobs,
 *                            SLOs or controllers: its last deploy, SLO states and knob modes
 *   GET /services/{service}  one: the same, with its metrics, knobs, SLOs and controllers whole
 *
 * A service Governor knows nothing of answers empty lists, not 404: it may simply not have
 * sent anything yet. Both read points (the metrics list, SLO status): they see every point
 * acknowledged before they were called (`readsPoints`).
 */
export async function serviceRoutes(app: FastifyInstance): Promise<void> {
  const { changeLog, knobs, slos, controllers } = app.governor
  const queries = app.governor.queries

  const list = { response: { 200: SERVICE_LIST_JSON_SCHEMA } }
  app.get(
    '/services',
    { config: { roles: READ, readsPoints: true }, schema: list },
    async (): Promise<ServiceListJson> => {
      const [metrics, deploys] = await Promise.all([queries.metrics(), changeLog.lastDeploys()])
      const names = new Set<string>([
        ...metrics.flatMap((m) => m.services),
        ...deploys.map((d) => d.service),
        ...knobs.list().map((k) => k.service),
        ...slos.list().map((s) => s.service),
        ...controllers.list().map((c) => c.service),
      ])
      names.delete('')
      const now = Date.now()
      const services = await Promise.all(
        [...names].sort().map(async (service) => {
          const serviceKnobs = knobs.list(service)
          const modes: Record<KnobMode, number> = { manual: 0, auto: 0, pinned: 0 }
          for (const k of serviceKnobs) modes[k.mode]++
          return {
            service,
            last_deploy: lastOf(deploys, service),
            metrics: metrics.filter((m) => m.services.includes(service)).length,
            slos: await Promise.all(
              slos.list(service).map(async (slo) => {
                const s = await sloWithStatus(slo, now)
                return {
                  name: slo.name,
                  objective: s.objective,
                  window: s.window,
                  current_sli: s.current_sli ?? null,
                  error_budget_remaining: s.error_budget_remaining ?? null,
                  alert: s.alert ?? null,
                  state: s.state ?? null,
                  ...(s.error !== undefined ? { error: s.error } : {}),
                }
              }),
            ),
            knob_modes: modes,
            knobs: serviceKnobs.map((k) => ({ name: k.name, mode: k.mode, value: k.value })),
            controllers: controllers.list(service).length,
          }
        }),
      )
      return { services }
    },
  )

  const detail = { response: { 200: SERVICE_DETAIL_JSON_SCHEMA } }
  app.get<{ Params: P }>(
    '/services/:service',
    { config: { roles: READ, readsPoints: true }, schema: detail },
    async (req): Promise<ServiceDetailJson> => {
      const { service } = req.params
      const [metrics, deploys] = await Promise.all([queries.metrics(), changeLog.lastDeploys(service)])
      const now = Date.now()
      return {
        service,
        last_deploy: lastOf(deploys, service),
        metrics: metrics.filter((m) => m.services.includes(service)).map(metricJson),
        knobs: knobs.list(service).map(knobJson),
        slos: await Promise.all(slos.list(service).map((slo) => sloWithStatus(slo, now))),
        controllers: controllers
          .list(service)
          .map((c) => controllerJson(c, app.governor.controllerRunner.view(c.service, c.name))),
      }
    },
  )

  /** An SLO with its status; a status the store cannot compute now is an `error`, not a failed page. */
  async function sloWithStatus(slo: Slo, now: number): Promise<SloAnswerJson> {
    try {
      return { ...sloJson(slo), ...statusJson(await slos.status(slo, now)) }
    } catch (err) {
      app.log.warn({ err }, `status of SLO ${slo.service}/${slo.name} could not be computed`)
      return { ...sloJson(slo), error: `the status could not be computed: ${(err as Error).message}` }
    }
  }
}

/** The latest deploy of `service` across its environments, or null. */
function lastOf(deploys: readonly ChangeEvent[], service: string): ReturnType<typeof deployJson> | null {
  let last: ChangeEvent | undefined
  for (const d of deploys) if (d.service === service && (last === undefined || d.timeEnd > last.timeEnd)) last = d
  return last === undefined ? null : deployJson(last)
}

function metricJson(m: MetricSummary): ServiceMetricJson {
  return { name: m.name, type: m.type, unit: m.unit, description: m.description }
}
