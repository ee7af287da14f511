import { NULLABLE_DEPLOY_JSON_SCHEMA, type DeployJson } from './changes.ts'
import { CONTROLLER_JSON_SCHEMA, type ControllerJson, type KnobModeJson } from './controllers.ts'
import { METRIC_TYPE, type MetricTypeJson } from './metadata.ts'
import { arrayOf, exactly, MEASURED, NUMBER, someOf, STRING } from './schema.ts'
import { SLO_ANSWER_JSON_SCHEMA, type SloAnswerJson, type SloStateJson } from './slos.ts'
import type { KnobValue } from '../../../../throttle/src/declaration.ts'
import { KNOB_JSON_SCHEMA, type KnobJson } from '../../../../throttle/src/wire.ts'

/**
 * Services at a glance, one call per page of the web UI (collector/src/api/services.ts):
 *
 *   GET /api/v1/services             ServiceListJson
 *   GET /api/v1/services/{service}   ServiceDetailJson
 */

/** An SLO in a service's summary; null fields when its status could not be computed. */
export interface SloSummaryJson {
  name: string
  objective: number
  window: string
  current_sli: number | null
  error_budget_remaining: number | null
  alert: 'ok' | 'ticket' | 'page' | null
  state: SloStateJson | null
  /** Why the status could not be computed or the SLI read. */
  error?: string
}

export interface ServiceSummaryJson {
  service: string
  last_deploy: DeployJson | null
  /** How many metrics it sent. */
  metrics: number
  slos: SloSummaryJson[]
  knob_modes: Record<KnobModeJson, number>
  knobs: { name: string; mode: KnobModeJson; value: KnobValue }[]
  /** How many controllers it has. */
  controllers: number
}

export interface ServiceListJson {
  services: ServiceSummaryJson[]
}

export interface ServiceMetricJson {
  name: string
  type: MetricTypeJson
  unit: string
  description: string
}

export interface ServiceDetailJson {
  service: string
  last_deploy: DeployJson | null
  metrics: ServiceMetricJson[]
  knobs: KnobJson[]
  slos: SloAnswerJson[]
  controllers: ControllerJson[]
}

const KNOB_MODE = { type: 'string', enum: ['manual', 'auto', 'pinned'] } as const

const SLO_SUMMARY_JSON_SCHEMA = someOf(
  {
    name: STRING,
    objective: NUMBER,
    window: STRING,
    current_sli: MEASURED,
    error_budget_remaining: MEASURED,
    alert: { type: ['string', 'null'], enum: ['ok', 'ticket', 'page', null] },
    state: { type: ['string', 'null'], enum: ['ok', 'spent', 'no_data', 'error', null] },
    error: STRING,
  } satisfies Record<keyof SloSummaryJson, object>,
  ['error'],
)

export const SERVICE_SUMMARY_JSON_SCHEMA = exactly({
  service: STRING,
  last_deploy: NULLABLE_DEPLOY_JSON_SCHEMA,
  metrics: NUMBER,
  slos: arrayOf(SLO_SUMMARY_JSON_SCHEMA),
  knob_modes: exactly({ manual: NUMBER, auto: NUMBER, pinned: NUMBER }),
  knobs: arrayOf(exactly({ name: STRING, mode: KNOB_MODE, value: { type: ['number', 'string', 'boolean'] } })),
  controllers: NUMBER,
} satisfies Record<keyof ServiceSummaryJson, object>)

export const SERVICE_LIST_JSON_SCHEMA = exactly({ services: arrayOf(SERVICE_SUMMARY_JSON_SCHEMA) } satisfies Record<
  keyof ServiceListJson,
  object
>)

export const SERVICE_DETAIL_JSON_SCHEMA = exactly({
  service: STRING,
  last_deploy: NULLABLE_DEPLOY_JSON_SCHEMA,
  metrics: arrayOf(
    exactly({ name: STRING, type: METRIC_TYPE, unit: STRING, description: STRING } satisfies Record<
      keyof ServiceMetricJson,
      object
    >),
  ),
  knobs: arrayOf(KNOB_JSON_SCHEMA),
  slos: arrayOf(SLO_ANSWER_JSON_SCHEMA),
  controllers: arrayOf(CONTROLLER_JSON_SCHEMA),
} satisfies Record<keyof ServiceDetailJson, object>)
