import { exactly, NUMBER, STRING } from './schema.ts'

/** `GET /healthz`: the process answers. */
export interface HealthJson {
  status: 'ok'
}

/** `GET /readyz` (200 ready, 503 not): whether the store answers and the pipeline has room. */
export interface ReadinessJson {
  status: 'ready' | 'not ready'
  store: string
  /** How full the write pipeline is, 0 to 1. */
  pipelineFill: number
}

export const HEALTH_JSON_SCHEMA = exactly({ status: { type: 'string', enum: ['ok'] } } satisfies Record<
  keyof HealthJson,
  object
>)
export const READINESS_JSON_SCHEMA = exactly({
  status: { type: 'string', enum: ['ready', 'not ready'] },
  store: STRING,
  pipelineFill: NUMBER,
} satisfies Record<keyof ReadinessJson, object>)
