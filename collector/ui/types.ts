/** The API's answers, as far as the pages read them (see the README for every field). */

import type { KnobJson, KnobVersionJson } from '../../throttle/src/wire.ts'

export type Role = 'ingest' | 'deploy' | 'operate' | 'read'

/** `GET /api/v1/whoami`. */
export interface Whoami {
  open: boolean
  name: string | null
  roles: Role[]
}

export interface Deploy {
  id: string
  service: string
  version: string
  actor: string
  environment: string
  commit: string
  description: string
  url: string
  started_at: string
  finished_at: string
  rollback: boolean
}

/** A deploy's impact verdict (`GET /api/v1/deploys/{id}/impact`, an `analysis` event's data). */
export type ImpactVerdict = 'worse' | 'better' | 'unchanged' | 'not_enough_data'

export interface ChangeEvent {
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
  version?: string
  data: Record<string, unknown>
}

export type KnobValue = number | string | boolean
export type KnobMode = 'manual' | 'auto' | 'pinned'

/** A knob and one version of it, as the collector sends them: the library's wire schema (throttle/src/wire.ts). */
export type Knob = KnobJson
export type KnobVersion = KnobVersionJson

export interface SloSummary {
  name: string
  objective: number
  window: string
  current_sli: number | null
  error_budget_remaining: number | null
  alert: 'ok' | 'ticket' | 'page' | null
  error?: string
  /** ok, spent (budget remaining ≤ 0), no_data, error: what the gate says too. */
  state: 'ok' | 'spent' | 'no_data' | 'error' | null
}

export interface Slo extends SloSummary {
  service: string
  sli: {
    type: string
    metric: string
    threshold_ms?: number
    percentile?: number
    max?: number
    filter?: Record<string, string | string[]>
  }
  description?: string
  events?: { bad: number; total: number }
  burn_rates?: {
    long_window: string
    short_window: string
    threshold: number
    severity: string
    long: number | null
    short: number | null
    firing: boolean
    /** Windows floored, or a short window with no data point (absent when nothing to say). */
    notes?: string[]
  }[]
}

export interface Controller {
  service: string
  name: string
  knob: string
  slo: string
  algorithm: string
  mode: 'active' | 'shadow' | 'off'
  /** How raising the knob moves the SLI; a guard SLO it must not break (absent on older answers). */
  effect?: 'raises' | 'lowers'
  guard?: { slo: string; decrease: number; headroom: number } | null
  min?: number
  max?: number
  interval_ms?: number
  changed_at: string
  changed_by: string
  reason: string
  last_observation: {
    at: string
    sli: number | null
    target: number
    value: number
    burn_rate: number | null
    text: string
  } | null
  last_decision: { at: string; kind: string; value: number | null; reason: string; applied: boolean } | null
  holding: { kind: string; reason: string; since: string } | null
}

/** One entry of `GET /api/v1/services`. */
export interface ServiceSummary {
  service: string
  last_deploy: Deploy | null
  metrics: number
  slos: SloSummary[]
  knob_modes: Record<KnobMode, number>
  knobs: { name: string; mode: KnobMode; value: KnobValue }[]
  controllers: number
}

export interface MetricInfo {
  name: string
  type: 'gauge' | 'sum' | 'histogram' | 'exponential_histogram' | 'summary'
  unit: string
  description: string
}

/** `GET /api/v1/services/{service}`. */
export interface ServiceDetail {
  service: string
  last_deploy: Deploy | null
  metrics: MetricInfo[]
  knobs: Knob[]
  slos: Slo[]
  controllers: Controller[]
}

/** `GET /api/v1/query`. */
export interface QueryAnswer {
  metric: { name: string; type: string; unit: string }
  series: { labels: Record<string, string>; points: number[][] }[]
  annotations: ChangeEvent[]
}
