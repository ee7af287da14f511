export type { ChangeEvent } from '../model/change-event.ts'
export { DEPLOY_KIND } from '../model/change-event.ts'

/** What the developer answered before shipping: what should move, what could go wrong, what to watch. */
export interface DeployPlan {
  expect?: { metric: string; change: 'up' | 'down' | 'none'; note?: string }[]
  risks?: string
  watch?: string[]
  contingency?: string[]
}

/** A deploy as the deploys API takes and returns it. */
export interface Deploy {
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
  plan: DeployPlan | null
  recorded_at: string
}
