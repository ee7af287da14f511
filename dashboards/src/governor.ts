import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard'
import { controllerDecisionsSql, recentDecisionsSql, webhookDeliveriesSql, webhookStatusSql } from './ops-queries.ts'
import {
  changeAnnotation,
  GENERATED,
  serviceVariable,
  environmentVariable,
  tablePanel,
  timeSeriesPanel,
} from './panels.ts'
import { commitLatencySql, DB, pointsStoredSql, selfCounterRateSql } from './queries.ts'

/**
 * Governor itself. Two sources: what the store holds of its own work (points by table,
 * controller decisions in the change log, webhook deliveries), and its /metrics counters,
 * which reach the store only when a Prometheus scrapes Governor and remote-writes back into
 * it (the compose stack does); without that, those panels are empty.
 */
export function governorDashboard(db = DB): dashboard.Dashboard {
  return new dashboard.DashboardBuilder('Governor: itself')
    .uid('governor-self')
    .description(GENERATED)
    .tags(['governor', 'generated'])
    .time({ from: 'now-3h', to: 'now' })
    .refresh('30s')
    .timezone('browser')
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .withVariable(serviceVariable(true, db))
    .withVariable(environmentVariable(db))
    .annotation(changeAnnotation(db))
    .withRow(new dashboard.RowBuilder('Ingest'))
    .withPanel(
      timeSeriesPanel('Points stored per second, by table', pointsStoredSql(db), 'short').description(
        "Rows of each point table per step by the points' own timestamps (late points land in their own time).",
      ),
    )
    .withPanel(
      timeSeriesPanel(
        'Points accepted per second, by receiver',
        selfCounterRateSql(['governor_points_accepted_total'], 'receiver', db),
        'short',
      ).description("governor_points_accepted_total, from Governor's /metrics remote-written into the store."),
    )
    .withPanel(
      timeSeriesPanel(
        'Rejections per second, by reason',
        selfCounterRateSql(['governor_points_rejected_total', 'governor_ingest_requests_rejected_total'], 'reason', db),
        'short',
      ).description(
        'Points rejected and requests refused whole (governor_points_rejected_total, governor_ingest_requests_rejected_total).',
      ),
    )
    .withPanel(
      timeSeriesPanel('Commit (flush) latency p50 and p99', commitLatencySql(db), 'ms').description(
        "governor_commit_duration_seconds buckets: histogram_quantile over each step's increase.",
      ),
    )
    .withRow(new dashboard.RowBuilder('Controllers and webhooks'))
    .withPanel(
      timeSeriesPanel('Controller decisions, by outcome', controllerDecisionsSql(db), 'short').description(
        'applied: an active controller turned its knob; shadow: what a shadow controller would do; hold: it held, and why; changed: its definition changed.',
      ),
    )
    .withPanel(
      timeSeriesPanel('Webhook deliveries, by status', webhookDeliveriesSql(db), 'short').description(
        'Deliveries by their current status, stamped at their latest update.',
      ),
    )
    .withPanel(tablePanel('Latest controller decisions', recentDecisionsSql(db), { w: 12, h: 8 }))
    .withPanel(tablePanel('Webhook deliveries by sink and status', webhookStatusSql(db), { w: 12, h: 8 }))
    .build()
}
