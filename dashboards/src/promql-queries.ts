/**
 * The PromQL of every panel of the Prometheus flavour, over the names Governor exposes under
 * `/prometheus` (docs/querying-with-promql.md): OpenTelemetry metrics by their Prometheus
 * names (`http.server.request.duration`, unit `s` → `http_server_request_duration_seconds_*`,
 * `service.name` → `job`, `http.response.status_code` → `http_response_status_code`),
 * Governor's own /metrics as a Prometheus remote-writes them, and the change log as
 * `governor_change{service, kind, version, actor, title, environment}`.
 *
 * Grafana fills in the template variables (`$service`, `${latency_metric}`, `$objective`) and
 * the data source's macros (`$__rate_interval`, `$__interval`, `$__range`).
 */

/** The selected services, as a regex matcher value (a multi-value variable becomes `(a|b)`). */
const JOB = 'job=~"$service"'
/** The latency histogram of the Service dashboard, without its `_bucket`/`_count` suffix. */
export const LATENCY = '${latency_metric}'
/** The histogram the Fleet dashboard reads: OTel's HTTP server duration, in seconds. */
export const HTTP_DURATION = 'http_server_request_duration_seconds'
/** A 5xx answer, by the OTel HTTP attribute. */
const SERVER_ERROR = 'http_response_status_code=~"5.."'

/** Per-second rate of a histogram's count, summed by `by` (empty: all), for the selected services. */
function countRate(metric: string, matchers: string, by: string): string {
  const grouping = by === '' ? '' : ` by (${by})`
  return `sum${grouping} (rate(${metric}_count{${matchers}}[$__rate_interval]))`
}

/** Requests per second: the rate of the histogram's count. */
export function requestRate(metric = LATENCY, by = ''): string {
  return countRate(metric, JOB, by)
}

/** 5xx answers per second; 0 rather than nothing when there are none. */
export function errorRate(metric = LATENCY): string {
  return `${countRate(metric, `${JOB}, ${SERVER_ERROR}`, '')} or vector(0)`
}

/**
 * 5xx answers over all answers (0 to 1) over `window`. Without errors the numerator is
 * `vector(0)` (no labels), which only matches a denominator without labels: `by` is for
 * the fleet view, where a service without errors shows no line rather than 0.
 */
export function errorRatio(metric = LATENCY, window = '$__rate_interval', by = ''): string {
  const grouping = by === '' ? '' : ` by (${by})`
  const errors = `sum${grouping} (rate(${metric}_count{${JOB}, ${SERVER_ERROR}}[${window}]))`
  const all = `sum${grouping} (rate(${metric}_count{${JOB}}[${window}]))`
  return by === '' ? `(${errors} or vector(0)) / ${all}` : `${errors} / ${all}`
}

/** The `q` quantile (0 to 1) of a histogram, from the rate of its `_bucket` series, by `by` and `le`. */
export function latencyQuantile(q: number, metric = LATENCY, by = ''): string {
  const grouping = by === '' ? 'le' : `${by}, le`
  return `histogram_quantile(${q}, sum by (${grouping}) (rate(${metric}_bucket{${JOB}}[$__rate_interval])))`
}

/**
 * How fast the error budget burns over `window`: the error ratio over that window divided by
 * the budget the objective allows (`1 - $objective / 100`). 1 spends the budget exactly over
 * the SLO window; the workbook pages at 14.4 over both 1h and 5m (30-day window).
 */
export function errorBudgetBurn(window: string, metric = LATENCY, by = ''): string {
  return `${errorRatio(metric, window, by)} / (1 - $objective / 100)`
}

/**
 * Change-log events of the selected services per step, by `by`. `count_over_time` over
 * `$__interval` counts each event at the first step at or after it.
 */
export function changesPerStep(matchers: string, by: string): string {
  const selector = matchers === '' ? 'service=~"$service"' : `service=~"$service", ${matchers}`
  return `sum by (${by}) (count_over_time(governor_change{${selector}}[$__interval]))`
}

/**
 * The change-log events of the selected services in the dashboard's range, one row per
 * distinct labels (version, actor, title…): an instant query at the end of the range.
 */
export function changesInRange(matchers: string): string {
  return `max_over_time(governor_change{service=~"$service", ${matchers}}[$__range])`
}

/** Controller decisions recorded in the change log: `controller` events and knob changes by `controller:<name>`. */
export const CONTROLLER_CHANGES = 'kind=~"controller|knob", actor=~"controller:.+"'

/** The annotation query: every change of the selected services, marked at the first step at or after it. */
export const CHANGE_ANNOTATION = 'max_over_time(governor_change{service=~"$service"}[$__interval])'

/** Per-second rate of one of Governor's own counters, by `by`. */
export function selfRate(metric: string, by: string): string {
  return `sum by (${by}) (rate(${metric}[$__rate_interval]))`
}

/** The `q` quantile of Governor's commit (flush) duration, seconds. */
export function commitQuantile(q: number): string {
  return `histogram_quantile(${q}, sum by (le) (rate(governor_commit_duration_seconds_bucket[$__rate_interval])))`
}

/** Controller decisions per step from Governor's /metrics, by kind (raise, lower, hold) and mode (active, shadow). */
export const CONTROLLER_DECISIONS =
  'sum by (kind, mode) (increase(governor_controller_decisions_total[$__rate_interval]))'

/** Webhook deliveries per second, by sink and outcome. */
export const WEBHOOK_DELIVERIES = selfRate('governor_webhook_deliveries_total', 'sink, outcome')

/** Deliveries waiting per sink. */
export const WEBHOOK_PENDING = 'sum by (sink) (governor_webhook_pending_deliveries)'
