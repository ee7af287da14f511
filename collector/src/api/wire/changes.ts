import { ANY_OBJECT, arrayOf, BOOLEAN, exactly, someOf, STRING, STRINGS, TIME } from './schema.ts'

/**
 * The change log over HTTP (collector/src/api/changes.ts):
 *
 *   POST /api/v1/deploys           DeployCreatedJson (201 new, 200 a retry)
 *   GET  /api/v1/deploys[/last]    DeployListJson
 *   GET  /api/v1/deploys/{id}      DeployJson
 *   POST /api/v1/events            EventJson (201 new, 200 a retry)
 *   GET  /api/v1/events            EventListJson
 */

/** What a deploy plan says to watch and expect. */
export interface DeployPlanJson {
  expect?: { metric: string; change: 'up' | 'down' | 'none'; note?: string }[]
  risks?: string
  watch?: string[]
  contingency?: string[]
}

export interface DeployJson {
  id: string
  service: string
  version: string
  actor: string
  environment: string
  commit: string
  repo_url: string
  description: string
  url: string
  started_at: string
  finished_at: string
  status: string
  rollback: boolean
  plan: DeployPlanJson | null
  recorded_at: string
}

export interface DeployCreatedJson extends DeployJson {
  /** False for a deploy sent again with the same id. */
  created: boolean
}

export interface DeployListJson {
  deploys: DeployJson[]
}

/** A change-log event: a deploy, a knob change, an SLO change, an analysis, a gate decision… */
export interface EventJson {
  id: string
  kind: string
  time: string
  time_end: string
  service: string
  environment: string
  actor: string
  title: string
  text: string
  tags: string[]
  /** Absent when the event names no version. */
  version?: string
  data: Record<string, unknown>
  recorded_at: string
}

export interface EventListJson {
  events: EventJson[]
}

const PLAN_PROPERTIES = {
  // Entries are stored as sent, other keys included (see the deploy body's reader): written whole.
  expect: arrayOf({
    ...someOf({ metric: STRING, change: { type: 'string', enum: ['up', 'down', 'none'] }, note: STRING }, ['note']),
    additionalProperties: true,
  }),
  risks: STRING,
  watch: STRINGS,
  contingency: STRINGS,
} satisfies Record<keyof DeployPlanJson, object>

const DEPLOY_PROPERTIES = {
  id: STRING,
  service: STRING,
  version: STRING,
  actor: STRING,
  environment: STRING,
  commit: STRING,
  repo_url: STRING,
  description: STRING,
  url: STRING,
  started_at: TIME,
  finished_at: TIME,
  status: STRING,
  rollback: BOOLEAN,
  plan: {
    type: ['object', 'null'],
    properties: PLAN_PROPERTIES,
    additionalProperties: false,
  },
  recorded_at: TIME,
} satisfies Record<keyof DeployJson, object>

const EVENT_PROPERTIES = {
  id: STRING,
  kind: STRING,
  time: TIME,
  time_end: TIME,
  service: STRING,
  environment: STRING,
  actor: STRING,
  title: STRING,
  text: STRING,
  tags: STRINGS,
  version: STRING,
  data: ANY_OBJECT,
  recorded_at: TIME,
} satisfies Record<keyof EventJson, object>

export const DEPLOY_JSON_SCHEMA = exactly(DEPLOY_PROPERTIES)
export const DEPLOY_CREATED_JSON_SCHEMA = exactly({ ...DEPLOY_PROPERTIES, created: BOOLEAN } satisfies Record<
  keyof DeployCreatedJson,
  object
>)
export const DEPLOY_LIST_JSON_SCHEMA = exactly({ deploys: arrayOf(DEPLOY_JSON_SCHEMA) } satisfies Record<
  keyof DeployListJson,
  object
>)
export const EVENT_JSON_SCHEMA = someOf(EVENT_PROPERTIES, ['version'])
export const EVENT_LIST_JSON_SCHEMA = exactly({ events: arrayOf(EVENT_JSON_SCHEMA) } satisfies Record<
  keyof EventListJson,
  object
>)

/** `null` where nothing is known: used by answers that embed a deploy. */
export const NULLABLE_DEPLOY_JSON_SCHEMA = { ...DEPLOY_JSON_SCHEMA, type: ['object', 'null'] } as const
