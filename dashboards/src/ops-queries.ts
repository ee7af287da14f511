import { bucketTime, STEP_MS } from './increase-sql.ts'
import { DB } from './queries.ts'

/**
 * SQL of the Governor dashboard that reads Governor's own records in the store: controller
 * decisions (the change log) and webhook deliveries (`webhook_deliveries`).
 */

/**
 * What a controller event or knob change says a controller did: `applied` (an active
 * controller turned its knob: a knob change by `controller:<name>`), `shadow` (what a shadow
 * controller would do), `hold` (it held the value, and why), `changed` (its definition).
 */
const OUTCOME = "multiIf(kind = 'knob', 'applied', has(tags, 'shadow'), 'shadow', has(tags, 'hold'), 'hold', 'changed')"
const CONTROLLER_EVENTS = "(kind = 'controller' OR (kind = 'knob' AND startsWith(actor, 'controller:')))"

/** Controller decisions per step, by outcome. */
export function controllerDecisionsSql(db = DB): string {
  return `SELECT ${bucketTime('b')}, outcome, count() AS decisions
FROM (SELECT intDiv(toUnixTimestamp64Milli(time), ${STEP_MS}) * ${STEP_MS} AS b, ${OUTCOME} AS outcome
  FROM ${db}.events FINAL
  WHERE ${CONTROLLER_EVENTS} AND time >= $__fromTime_ms AND time <= $__toTime_ms)
GROUP BY b, outcome ORDER BY b, outcome`
}

/** The latest controller decisions in the range, newest first. */
export function recentDecisionsSql(db = DB): string {
  return `SELECT time, service, actor, ${OUTCOME} AS outcome, title, text
FROM ${db}.events FINAL
WHERE ${CONTROLLER_EVENTS} AND time >= $__fromTime_ms AND time <= $__toTime_ms
ORDER BY time DESC
LIMIT 50`
}

/** Deliveries of each sink by their current status (`pending`, `delivered`, `failed`, `disabled`). */
export function webhookStatusSql(db = DB): string {
  return `SELECT sink, status, count() AS deliveries, sum(attempts) AS attempts, max(updated_at) AS last_update
FROM ${db}.webhook_deliveries FINAL
WHERE event_recorded_at >= $__fromTime_ms AND event_recorded_at <= $__toTime_ms
GROUP BY sink, status ORDER BY sink, status`
}

/** Deliveries per step by status, stamped at their latest update. */
export function webhookDeliveriesSql(db = DB): string {
  return `SELECT ${bucketTime('b')}, status, count() AS deliveries
FROM (SELECT intDiv(toUnixTimestamp64Milli(updated_at), ${STEP_MS}) * ${STEP_MS} AS b, status
  FROM ${db}.webhook_deliveries FINAL
  WHERE updated_at >= $__fromTime_ms AND updated_at <= $__toTime_ms)
GROUP BY b, status ORDER BY b, status`
}
