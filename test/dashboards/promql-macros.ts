/**
 * Expands what Grafana's Prometheus data source replaces in a query before Prometheus (here
 * Governor's `/prometheus`) sees it, so dashboard PromQL can run in tests as Grafana sends it.
 * The data source's macros (Grafana's `pkg/promlib/models/query.go`, `interpolateVariables`):
 *
 * | macro                  | becomes                                                            |
 * |------------------------|--------------------------------------------------------------------|
 * | `$__interval`          | the query's interval, Grafana's `gtime.FormatInterval` (`1m`, `15s`) |
 * | `$__interval_ms`       | the interval in ms                                                 |
 * | `$__rate_interval`     | max(interval + scrape interval, 4 × scrape interval), Go's `Duration.String()` (`1m15s`) |
 * | `$__rate_interval_ms`  | the same in ms                                                     |
 * | `$__range`             | the range in whole seconds (rounded) with `s`                      |
 * | `$__range_s`, `$__range_ms` | the range in seconds (rounded), in ms                         |
 *
 * The scrape interval is the data source's `timeInterval` (15s in the provisioning file) when
 * the query sets no min step. Template variables, as the data source interpolates them
 * (`interpolateQueryExpr`): a variable that is neither multi nor include-all gives its value
 * as it is (backslashes and single quotes escaped); a multi or include-all one escapes regex
 * characters in each value and joins several as `(a|b)`; All gives the variable's `allValue`
 * as it is. Anything of either kind left over throws.
 */

/** How one template variable is interpolated. */
export interface VariableValue {
  values: readonly string[]
  /** Multi-value or include-all: values are regex-escaped and joined as `(a|b)`. */
  regex: boolean
  /** All is selected and the variable has this `allValue`: it goes in as it is. */
  all?: string
}

/** The range, intervals and variable values a panel's query is expanded with. */
export interface PromMacroContext {
  fromMillis: number
  toMillis: number
  /** The query's interval, ms: the panel's calculated interval, at least its min interval. */
  intervalMillis: number
  /** The data source's scrape interval (`timeInterval`), ms. */
  scrapeIntervalMillis: number
  variables: Record<string, VariableValue>
}

/** Grafana's `gtime.FormatInterval`: the largest whole unit. */
export function formatInterval(ms: number): string {
  const units: [number, string][] = [
    [365 * 86_400_000, 'y'],
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'm'],
    [1000, 's'],
    [1, 'ms'],
  ]
  for (const [size, unit] of units) if (ms >= size) return `${Math.floor(ms / size)}${unit}`
  return '1ms'
}

/** Go's `time.Duration.String()` for whole milliseconds: `1m15s`, `4m0s`, `1h0m0s`, `500ms`. */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`
  const h = Math.floor(ms / 3_600_000)
  const m = Math.floor((ms % 3_600_000) / 60_000)
  const s = (ms % 60_000) / 1000
  return h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`
}

/** `$__rate_interval` in ms, as Grafana computes it (`calculateRateInterval`). */
export function rateIntervalMillis(ctx: PromMacroContext): number {
  return Math.max(ctx.intervalMillis + ctx.scrapeIntervalMillis, 4 * ctx.scrapeIntervalMillis)
}

const regexEscape = (v: string) => v.replace(/\\/g, '\\\\\\\\').replace(/[$^*{}[\]'+?.()|]/g, '\\\\$&')

/** A variable's text in a query. */
function interpolate(v: VariableValue): string {
  if (v.all !== undefined) return v.all
  if (!v.regex) return v.values.map((x) => x.replace(/\\/g, '\\\\').replace(/'/g, "\\\\'")).join(',')
  const escaped = v.values.map(regexEscape)
  return escaped.length === 1 ? escaped[0]! : `(${escaped.join('|')})`
}

/** `expr` with the macros and variables above replaced; throws on any left over. */
export function expandPromMacros(expr: string, ctx: PromMacroContext): string {
  const rangeMs = ctx.toMillis - ctx.fromMillis
  const rangeS = Math.round(rangeMs / 1000)
  const rate = rateIntervalMillis(ctx)
  const variable = (name: string): string => {
    const v = ctx.variables[name]
    if (v === undefined) throw new Error(`no value for template variable ${name}`)
    return interpolate(v)
  }
  // Longer names first, as Grafana replaces them (`$__interval_ms` before `$__interval`).
  const out = expr
    .replaceAll('$__interval_ms', String(ctx.intervalMillis))
    .replaceAll('$__range_ms', String(rangeMs))
    .replaceAll('$__range_s', String(rangeS))
    .replaceAll('$__range', `${rangeS}s`)
    .replaceAll('$__rate_interval_ms', String(rate))
    .replaceAll('$__rate_interval', goDuration(rate))
    .replaceAll('$__interval', formatInterval(ctx.intervalMillis))
    .replace(/\$\{(\w+)\}|\$([A-Za-z_]\w*)/g, (m, a?: string, b?: string) =>
      m.startsWith('$__') ? m : variable((a ?? b) as string),
    )
  const left = /\$__\w+|\$\{[^}]*\}/.exec(out)
  if (left !== null) throw new Error(`macro not expanded: ${left[0]}`)
  return out
}
