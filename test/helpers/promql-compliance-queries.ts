/**
 * The official PromQL compliance query set, expanded into concrete queries.
 *
 * The templates and the values of their variant arguments are data taken from the
 * prometheus/compliance repository: `promql/promql-test-queries.yml` (commit d128251d4ca6,
 * the version that still has `holt_winters`, as Prometheus 2.42 does) and the argument lists of
 * `promql/testcases/expand.go`. A template names its variant arguments as `{{.name}}`; every
 * combination of their values is one query, the first argument varying slowest. The queries
 * run over the demo series of promql-compliance-data.ts.
 */

/** One template of the query set. */
export interface ComplianceCase {
  readonly query: string
  readonly variantArgs?: readonly string[]
  /** The query set expects an error (both engines must answer one, of the same type). */
  readonly shouldFail?: boolean
}

/** Values of each variant argument, from `expand.go`. */
export const VARIANT_ARGS: Readonly<Record<string, readonly string[]>> = {
  range: ['1s', '15s', '1m', '5m', '15m', '1h'],
  offset: ['1m', '5m', '10m'],
  simpleAggrOp: ['sum', 'avg', 'max', 'min', 'count', 'stddev', 'stdvar'],
  simpleTimeAggrOp: ['sum', 'avg', 'max', 'min', 'count', 'stddev', 'stdvar', 'absent', 'last'],
  topBottomOp: ['topk', 'bottomk'],
  quantile: ['-0.5', '0.1', '0.5', '0.75', '0.95', '0.90', '0.99', '1', '1.5'],
  arithBinOp: ['+', '-', '*', '/', '%', '^'],
  compBinOp: ['==', '!=', '<', '>', '<=', '>='],
  binOp: ['+', '-', '*', '/', '%', '^', '==', '!=', '<', '>', '<=', '>='],
  simpleMathFunc: ['abs', 'ceil', 'floor', 'exp', 'sqrt', 'ln', 'log2', 'log10', 'round'],
  extrapolatedRateFunc: ['delta', 'rate', 'increase'],
  clampFunc: ['clamp_min', 'clamp_max'],
  instantRateFunc: ['idelta', 'irate'],
  dateFunc: ['day_of_month', 'day_of_week', 'days_in_month', 'hour', 'minute', 'month', 'year'],
  smoothingFactor: ['0.1', '0.5', '0.8'],
  trendFactor: ['0.1', '0.5', '0.8'],
}

const q = (query: string, ...variantArgs: string[]): ComplianceCase => ({ query, variantArgs })
const fails = (query: string): ComplianceCase => ({ query, shouldFail: true })

/** The templates, in the order of `promql-test-queries.yml`. */
export const COMPLIANCE_CASES: readonly ComplianceCase[] = [
  // Scalar literals.
  q('42'),
  q('1.234'),
  q('.123'),
  q('1.23e-3'),
  q('0x3d'),
  q('Inf'),
  q('+Inf'),
  q('-Inf'),
  q('NaN'),

  // Vector selectors.
  q('demo_memory_usage_bytes'),
  q('{__name__="demo_memory_usage_bytes"}'),
  q('demo_memory_usage_bytes{type="free"}'),
  q('demo_memory_usage_bytes{type!="free"}'),
  q('demo_memory_usage_bytes{instance=~"demo.promlabs.com:.*"}'),
  q('demo_memory_usage_bytes{instance=~"host"}'),
  q('demo_memory_usage_bytes{instance!~".*:10000"}'),
  q('demo_memory_usage_bytes{type="free", instance!="demo.promlabs.com:10000"}'),
  q('{type="free", instance!="demo.promlabs.com:10000"}'),
  q('promhttp_metric_handler_requests_in_flight and ignoring(code) promhttp_metric_handler_requests_total'),
  fails('{__name__=~".*"}'),
  q('nonexistent_metric_name'),
  q('demo_memory_usage_bytes offset {{.offset}}', 'offset'),
  q('demo_memory_usage_bytes offset -{{.offset}}', 'offset'),
  q('demo_intermittent_metric'),

  // Aggregation operators.
  q('{{.simpleAggrOp}}(demo_memory_usage_bytes)', 'simpleAggrOp'),
  q('{{.simpleAggrOp}}(nonexistent_metric_name)', 'simpleAggrOp'),
  q('{{.simpleAggrOp}} by() (demo_memory_usage_bytes)', 'simpleAggrOp'),
  q('{{.simpleAggrOp}} by(instance) (demo_memory_usage_bytes)', 'simpleAggrOp'),
  q('{{.simpleAggrOp}} by(instance, type) (demo_memory_usage_bytes)', 'simpleAggrOp'),
  q('{{.simpleAggrOp}} by(nonexistent) (demo_memory_usage_bytes)', 'simpleAggrOp'),
  q('{{.simpleAggrOp}} without() (demo_memory_usage_bytes)', 'simpleAggrOp'),
  q('{{.simpleAggrOp}} without(instance) (demo_memory_usage_bytes)', 'simpleAggrOp'),
  q('{{.simpleAggrOp}} without(instance, type) (demo_memory_usage_bytes)', 'simpleAggrOp'),
  q('{{.simpleAggrOp}} without(nonexistent) (demo_memory_usage_bytes)', 'simpleAggrOp'),
  q('{{.topBottomOp}} (3, demo_memory_usage_bytes)', 'topBottomOp'),
  q('{{.topBottomOp}} by(instance) (2, demo_memory_usage_bytes)', 'topBottomOp'),
  q('{{.topBottomOp}} without(instance) (2, demo_memory_usage_bytes)', 'topBottomOp'),
  q('{{.topBottomOp}} without() (2, demo_memory_usage_bytes)', 'topBottomOp'),
  q('quantile({{.quantile}}, demo_memory_usage_bytes)', 'quantile'),
  q('avg(max by(type) (demo_memory_usage_bytes))'),

  // Binary operators.
  q('1 * 2 + 4 / 6 - 10 % 2 ^ 2'),
  q('demo_num_cpus + (1 {{.compBinOp}} bool 2)', 'compBinOp'),
  q('demo_memory_usage_bytes {{.binOp}} 1.2345', 'binOp'),
  q('demo_memory_usage_bytes {{.compBinOp}} bool 1.2345', 'compBinOp'),
  q('1.2345 {{.compBinOp}} bool demo_memory_usage_bytes', 'compBinOp'),
  q('0.12345 {{.binOp}} demo_memory_usage_bytes', 'binOp'),
  q('(1 * 2 + 4 / 6 - (10%7)^2) {{.binOp}} demo_memory_usage_bytes', 'binOp'),
  q('demo_memory_usage_bytes {{.binOp}} (1 * 2 + 4 / 6 - 10)', 'binOp'),
  q('timestamp(demo_memory_usage_bytes * 1)'),
  q('timestamp(-demo_memory_usage_bytes)'),
  q('demo_memory_usage_bytes {{.binOp}} on(instance, job, type) demo_memory_usage_bytes', 'binOp'),
  q(
    'sum by(instance, type) (demo_memory_usage_bytes) {{.binOp}} on(instance, type) group_left(job) demo_memory_usage_bytes',
    'binOp',
  ),
  q('demo_memory_usage_bytes {{.compBinOp}} bool on(instance, job, type) demo_memory_usage_bytes', 'compBinOp'),
  q('demo_memory_usage_bytes / on(instance, job, type, __name__) demo_memory_usage_bytes'),
  q('sum without(job) (demo_memory_usage_bytes) / on(instance, type) demo_memory_usage_bytes'),
  q('sum without(job) (demo_memory_usage_bytes) / on(instance, type) group_left demo_memory_usage_bytes'),
  q('sum without(job) (demo_memory_usage_bytes) / on(instance, type) group_left(job) demo_memory_usage_bytes'),
  q('demo_memory_usage_bytes / on(instance, job) group_left demo_num_cpus'),
  q('demo_memory_usage_bytes / on(instance, type, job, non_existent) demo_memory_usage_bytes'),

  // NaN/Inf/-Inf support.
  q('demo_num_cpus * Inf'),
  q('demo_num_cpus * -Inf'),
  q('demo_num_cpus * NaN'),

  // Unary expressions.
  q('demo_memory_usage_bytes + -(1)'),
  q('-demo_memory_usage_bytes'),
  q('-1 ^ 2'),

  // Binary operators involving non-constant scalars.
  q('1 {{.arithBinOp}} time()', 'arithBinOp'),
  q('time() {{.arithBinOp}} 1', 'arithBinOp'),
  q('time() {{.compBinOp}} bool 1', 'compBinOp'),
  q('1 {{.compBinOp}} bool time()', 'compBinOp'),
  q('time() {{.arithBinOp}} time()', 'arithBinOp'),
  q('time() {{.compBinOp}} bool time()', 'compBinOp'),
  q('time() {{.binOp}} demo_memory_usage_bytes', 'binOp'),
  q('demo_memory_usage_bytes {{.binOp}} time()', 'binOp'),

  // Functions.
  q('{{.simpleTimeAggrOp}}_over_time(demo_memory_usage_bytes[{{.range}}])', 'simpleTimeAggrOp', 'range'),
  q('quantile_over_time({{.quantile}}, demo_memory_usage_bytes[{{.range}}])', 'quantile', 'range'),
  q('timestamp(demo_num_cpus)'),
  q('timestamp(timestamp(demo_num_cpus))'),
  q('{{.simpleMathFunc}}(demo_memory_usage_bytes)', 'simpleMathFunc'),
  q('{{.simpleMathFunc}}(-demo_memory_usage_bytes)', 'simpleMathFunc'),
  q('{{.extrapolatedRateFunc}}(nonexistent_metric[5m])', 'extrapolatedRateFunc'),
  q('{{.extrapolatedRateFunc}}(demo_cpu_usage_seconds_total[{{.range}}])', 'extrapolatedRateFunc', 'range'),
  q('deriv(demo_disk_usage_bytes[{{.range}}])', 'range'),
  q('predict_linear(demo_disk_usage_bytes[{{.range}}], 600)', 'range'),
  q('time()'),
  q('label_replace(demo_num_cpus, "job", "destination-value-$1", "instance", "demo.promlabs.com:(.*)")'),
  q('label_replace(demo_num_cpus, "job", "destination-value-$1", "instance", "host:(.*)")'),
  q('label_replace(demo_num_cpus, "job", "$1-$2", "instance", "local(.*):(.*)")'),
  q('label_replace(demo_num_cpus, "job", "value-$1", "nonexistent-src", "source-value-(.*)")'),
  q('label_replace(demo_num_cpus, "job", "value-$1", "nonexistent-src", "(.*)")'),
  q('label_replace(demo_num_cpus, "job", "value-$1", "instance", "non-matching-regex")'),
  q('label_replace(demo_num_cpus, "job", "", "dst", ".*")'),
  fails('label_replace(demo_num_cpus, "job", "value-$1", "src", "(.*")'),
  fails('label_replace(demo_num_cpus, "~invalid", "", "src", "(.*)")'),
  fails('label_replace(demo_num_cpus, "instance", "", "", "")'),
  q('label_join(demo_num_cpus, "new_label", "-", "instance", "job")'),
  q('label_join(demo_num_cpus, "job", "-", "instance", "job")'),
  q('label_join(demo_num_cpus, "job", "-", "instance")'),
  fails('label_join(demo_num_cpus, "~invalid", "-", "instance")'),
  q('{{.dateFunc}}()', 'dateFunc'),
  q('{{.dateFunc}}(demo_batch_last_success_timestamp_seconds offset {{.offset}})', 'dateFunc', 'offset'),
  q('{{.instantRateFunc}}(demo_cpu_usage_seconds_total[{{.range}}])', 'instantRateFunc', 'range'),
  q('{{.clampFunc}}(demo_memory_usage_bytes, 2)', 'clampFunc'),
  q('clamp(demo_memory_usage_bytes, 0, 1)'),
  q('clamp(demo_memory_usage_bytes, 0, 1000000000000)'),
  q('clamp(demo_memory_usage_bytes, 1000000000000, 0)'),
  q('clamp(demo_memory_usage_bytes, 1000000000000, 1000000000000)'),
  q('resets(demo_cpu_usage_seconds_total[{{.range}}])', 'range'),
  q('changes(demo_batch_last_success_timestamp_seconds[{{.range}}])', 'range'),
  q('vector(1.23)'),
  q('vector(time())'),
  q('histogram_quantile({{.quantile}}, rate(demo_api_request_duration_seconds_bucket[1m]))', 'quantile'),
  q('histogram_quantile(0.9, nonexistent_metric)'),
  q('histogram_quantile(0.9, demo_memory_usage_bytes)'),
  q('histogram_quantile(0.9, {__name__=~"demo_api_request_duration_seconds_.+"})'),
  q(
    'holt_winters(demo_disk_usage_bytes[10m], {{.smoothingFactor}}, {{.trendFactor}})',
    'smoothingFactor',
    'trendFactor',
  ),
  q('count_values("value", demo_api_request_duration_seconds_bucket)'),
  q('absent(demo_memory_usage_bytes)'),
  q('absent(nonexistent_metric_name)'),

  // Subqueries.
  q('max_over_time((time() - max(demo_batch_last_success_timestamp_seconds) < 1000)[5m:10s] offset 5m)'),
  q('avg_over_time(rate(demo_cpu_usage_seconds_total[1m])[2m:10s])'),
]

/** One concrete query of the set. */
export interface ComplianceQuery {
  readonly query: string
  readonly shouldFail: boolean
}

function expand(template: string, args: readonly string[], values: Record<string, string>): string[] {
  if (args.length === 0)
    return [
      template.replace(/\{\{\.(\w+)\}\}/g, (_, name: string) => {
        const v = values[name]
        if (v === undefined) throw new Error(`template ${template} uses {{.${name}}} without declaring it`)
        return v
      }),
    ]
  const [first, ...rest] = args
  const choices = VARIANT_ARGS[first!]
  if (choices === undefined) throw new Error(`unknown variant argument ${first}`)
  return choices.flatMap((v) => expand(template, rest, { ...values, [first!]: v }))
}

/** Every template with every combination of its variant arguments. */
export function expandComplianceCases(cases: readonly ComplianceCase[] = COMPLIANCE_CASES): ComplianceQuery[] {
  return cases.flatMap((c) =>
    expand(c.query, c.variantArgs ?? [], {}).map((query) => ({ query, shouldFail: c.shouldFail === true })),
  )
}
