/**
 * One entry of the change log. Deploys, incidents, notes, knob and SLO changes, controller
 * decisions and analyses are all events of this one shape; `kind` tells them apart and
 * `data` carries what is particular to a kind.
 */
export interface ChangeEvent {
  id: string
  kind: string
  /** When the change took effect, epoch ms (a deploy's start). */
  time: number
  /** When it ended, epoch ms (a deploy's finish); equal to `time` for an instant. */
  timeEnd: number
  /** Service the change belongs to; '' for a change of no one service. */
  service: string
  environment: string
  /** Who made the change. */
  actor: string
  title: string
  text: string
  tags: string[]
  /** A deploy's version; '' for other kinds. */
  version: string
  /** Kind-specific fields (a deploy's commit, plan and rollback flag; a knob's before and after). */
  data: Record<string, unknown>
  /** When Governor stored it, epoch ms. */
  recordedAt: number
}

/** The kind of a deploy event. */
export const DEPLOY_KIND = 'deploy'
