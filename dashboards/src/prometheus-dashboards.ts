import * as common from '@grafana/grafana-foundation-sdk/common'
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard'
import { GENERATED } from './panels.ts'
import {
  objectiveVariable,
  promChangeAnnotation,
  promLatencyMetricVariable,
  promServiceVariable,
  promTable,
  promTimeSeries,
} from './prometheus-panels.ts'
import {
  changesInRange,
  changesPerStep,
  commitQuantile,
  CONTROLLER_CHANGES,
  CONTROLLER_DECISIONS,
  errorBudgetBurn,
  errorRate,
  errorRatio,
  HTTP_DURATION,
  latencyQuantile,
  requestRate,
  selfRate,
  WEBHOOK_DELIVERIES,
  WEBHOOK_PENDING,
} from './promql-queries.ts'

/**
 * The Prometheus flavour of the three dashboards: the same views through Grafana's Prometheus
 * data source pointed at Governor's `/prometheus`, so they work with the embedded store (no
 * ClickHouse server for Grafana to reach). What PromQL cannot say is left out: knob values
 * (the change log says when and how a knob changed, not its value as a number), points stored
 * per table, webhook deliveries by status, and SLO status as Governor computes it (the burn
 * rate here is measured against the `objective` variable).
 */

/** The page threshold of the workbook's fastest burn pair (1h and 5m, 30-day window). */
const PAGE_BURN = '14.4'

function base(title: string, uid: string, from: string, refresh: string): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder(title)
    .uid(uid)
    .description(GENERATED)
    .tags(['governor', 'generated', 'promql'])
    .time({ from, to: 'now' })
    .refresh(refresh)
    .timezone('browser')
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .annotation(promChangeAnnotation())
}

/** One service: requests and errors, p50/p99 latency, error-budget burn, its deploys and knob changes. */
export function servicePrometheusDashboard(): dashboard.Dashboard {
  return base('Governor: service (PromQL)', 'governor-service-promql', 'now-6h', '30s')
    .withVariable(promServiceVariable(false))
    .withVariable(promLatencyMetricVariable())
    .withVariable(objectiveVariable())
    .withRow(new dashboard.RowBuilder('Traffic'))
    .withPanel(
      promTimeSeries(
        'Requests and errors per second',
        [
          { expr: requestRate(), legend: 'requests' },
          { expr: errorRate(), legend: 'errors' },
        ],
        'reqps',
      ).description("Rate of the latency histogram's count; errors are series with a 5xx http.response.status_code."),
    )
    .withPanel(
      promTimeSeries('Error ratio', [{ expr: errorRatio(), legend: 'error ratio' }], 'percentunit').description(
        '5xx answers over all answers.',
      ),
    )
    .withPanel(
      promTimeSeries(
        'Latency p50 and p99',
        [
          { expr: latencyQuantile(0.5), legend: 'p50' },
          { expr: latencyQuantile(0.99), legend: 'p99' },
        ],
        's',
        { w: 24, h: 8 },
      ).description(
        "histogram_quantile over the rate of every _bucket series of the service (the histogram in its own unit: seconds for OTel's).",
      ),
    )
    .withRow(new dashboard.RowBuilder('SLO and changes'))
    .withPanel(
      promTimeSeries(
        'Error budget burn rate',
        [
          { expr: errorBudgetBurn('1h'), legend: '1h' },
          { expr: errorBudgetBurn('5m'), legend: '5m' },
          { expr: `vector(${PAGE_BURN})`, legend: 'page (14.4)' },
        ],
        'short',
        { w: 24, h: 8 },
      ).description(
        'Error ratio over 1h and 5m divided by the budget of the objective variable; both over 14.4 pages (30-day window).',
      ),
    )
    .withPanel(
      promTable('Deploys in the range', changesInRange('kind="deploy"'), { w: 12, h: 8 }).description(
        'Each deploy of the service in the range: version, who, environment. The annotations mark when.',
      ),
    )
    .withPanel(
      promTable('Knob changes in the range', changesInRange('kind="knob"'), { w: 12, h: 8 }).description(
        'Each knob change of the service in the range: what changed (title), who. Knob values are not a series.',
      ),
    )
    .build()
}

/** Every service at a glance: requests, errors, latency and burn by service, and changes by kind. */
export function fleetPrometheusDashboard(): dashboard.Dashboard {
  return base('Governor: fleet (PromQL)', 'governor-fleet-promql', 'now-24h', '1m')
    .withVariable(promServiceVariable(true))
    .withVariable(objectiveVariable())
    .withPanel(
      promTimeSeries(
        'Requests per second by service',
        [{ expr: requestRate(HTTP_DURATION, 'job'), legend: '{{job}}' }],
        'reqps',
      ).description("Rate of http.server.request.duration's count, by service."),
    )
    .withPanel(
      promTimeSeries(
        'Error ratio by service',
        [{ expr: errorRatio(HTTP_DURATION, '$__rate_interval', 'job'), legend: '{{job}}' }],
        'percentunit',
      ).description('5xx answers over all answers, by service (a service without 5xx has no line).'),
    )
    .withPanel(
      promTimeSeries(
        'Latency p99 by service',
        [{ expr: latencyQuantile(0.99, HTTP_DURATION, 'job'), legend: '{{job}}' }],
        's',
      ).description("histogram_quantile(0.99) over http.server.request.duration's buckets, by service."),
    )
    .withPanel(
      promTimeSeries(
        'Error budget burn rate (1h) by service',
        [
          { expr: errorBudgetBurn('1h', HTTP_DURATION, 'job'), legend: '{{job}}' },
          { expr: `vector(${PAGE_BURN})`, legend: 'page (14.4)' },
        ],
        'short',
      ).description('Error ratio over the last hour divided by the budget of the objective variable.'),
    )
    .withPanel(
      promTimeSeries('Changes by kind', [{ expr: changesPerStep('', 'kind'), legend: '{{kind}}' }], 'short')
        .description('Change-log events per step: deploys, knob changes, controller decisions, incidents…')
        .drawStyle(common.GraphDrawStyle.Bars),
    )
    .withPanel(
      promTable('Deploys in the range', changesInRange('kind="deploy"'), { w: 12, h: 8 }).description(
        'Each deploy in the range: service, version, who, environment.',
      ),
    )
    .build()
}

/**
 * Governor itself, from its /metrics as a Prometheus scraping it remote-writes them back (the
 * compose stack does; without that these panels are empty) and from the change log.
 */
export function governorPrometheusDashboard(): dashboard.Dashboard {
  return base('Governor: itself (PromQL)', 'governor-self-promql', 'now-3h', '30s')
    .withVariable(promServiceVariable(true))
    .withRow(new dashboard.RowBuilder('Ingest'))
    .withPanel(
      promTimeSeries(
        'Points accepted per second, by receiver',
        [{ expr: selfRate('governor_points_accepted_total', 'receiver'), legend: '{{receiver}}' }],
        'short',
      ).description('governor_points_accepted_total.'),
    )
    .withPanel(
      promTimeSeries(
        'Rejections per second, by reason',
        [
          { expr: selfRate('governor_points_rejected_total', 'reason'), legend: 'points: {{reason}}' },
          { expr: selfRate('governor_ingest_requests_rejected_total', 'reason'), legend: 'requests: {{reason}}' },
        ],
        'short',
      ).description(
        'Points rejected and requests refused whole (governor_points_rejected_total, governor_ingest_requests_rejected_total).',
      ),
    )
    .withPanel(
      promTimeSeries(
        'Commit (flush) latency p50 and p99',
        [
          { expr: commitQuantile(0.5), legend: 'p50' },
          { expr: commitQuantile(0.99), legend: 'p99' },
        ],
        's',
        { w: 24, h: 8 },
      ).description('histogram_quantile over governor_commit_duration_seconds_bucket.'),
    )
    .withRow(new dashboard.RowBuilder('Controllers and webhooks'))
    .withPanel(
      promTimeSeries(
        'Controller decisions, by kind and mode',
        [{ expr: CONTROLLER_DECISIONS, legend: '{{kind}} ({{mode}})' }],
        'short',
      ).description('governor_controller_decisions_total: raise, lower or hold, active or shadow.'),
    )
    .withPanel(
      promTimeSeries(
        'Controller changes in the change log, by controller',
        [{ expr: changesPerStep(CONTROLLER_CHANGES, 'actor'), legend: '{{actor}}' }],
        'short',
      )
        .description('Controller events and knob changes made by a controller, per step.')
        .drawStyle(common.GraphDrawStyle.Bars),
    )
    .withPanel(
      promTimeSeries(
        'Webhook deliveries per second, by sink and outcome',
        [{ expr: WEBHOOK_DELIVERIES, legend: '{{sink}}: {{outcome}}' }],
        'short',
      ).description('governor_webhook_deliveries_total.'),
    )
    .withPanel(
      promTimeSeries(
        'Webhook deliveries waiting, by sink',
        [{ expr: WEBHOOK_PENDING, legend: '{{sink}}' }],
        'short',
      ).description('governor_webhook_pending_deliveries.'),
    )
    .build()
}
