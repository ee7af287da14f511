/**
 * The API's answers as the pages read them: the collector's wire types (collector/src/api/wire/,
 * and the knob's in throttle/src/wire.ts), by which the collector serializes every answer. Type
 * imports only: no schema object enters the page's bundle.
 */

export type { KnobValue } from '../../throttle/src/declaration.ts'
export type {
  KnobDetailJson as KnobDetail,
  KnobJson as Knob,
  KnobListJson as KnobList,
  KnobVersionJson as KnobVersion,
} from '../../throttle/src/wire.ts'
export type {
  DeployJson as Deploy,
  EventJson as ChangeEvent,
  EventListJson as EventList,
} from '../src/api/wire/changes.ts'
export type {
  ControllerJson as Controller,
  ControllerListJson as ControllerList,
  KnobModeJson as KnobMode,
} from '../src/api/wire/controllers.ts'
export type { VerdictJson as ImpactVerdict } from '../src/api/wire/impact.ts'
export type { QueryAnswerJson as QueryAnswer } from '../src/api/wire/query.ts'
export type {
  ServiceDetailJson as ServiceDetail,
  ServiceListJson as ServiceList,
  ServiceMetricJson as MetricInfo,
  ServiceSummaryJson as ServiceSummary,
  SloSummaryJson as SloSummary,
} from '../src/api/wire/services.ts'
export type {
  SloAnswerJson as Slo,
  SloListJson as SloList,
  SloWithStatusJson as SloWithStatus,
} from '../src/api/wire/slos.ts'
export type { RoleJson as Role, WhoamiJson as Whoami } from '../src/api/wire/whoami.ts'
