/**
 * Expands what Grafana and its ClickHouse data source (grafana-clickhouse-datasource v4,
 * `pkg/macros/macros.go`) replace in a query before ClickHouse sees it, so dashboard SQL can
 * run on the engine in tests. The plugin's macros:
 *
 * | macro                    | becomes                                                   |
 * |--------------------------|-----------------------------------------------------------|
 * | `$__fromTime`            | `toDateTime(<from, whole seconds>)`                       |
 * | `$__toTime`              | `toDateTime(<to, whole seconds>)`                         |
 * | `$__fromTime_ms`         | `fromUnixTimestamp64Milli(<from ms>)`                     |
 * | `$__toTime_ms`           | `fromUnixTimestamp64Milli(<to ms>)`                       |
 * | `$__timeFilter(c)`       | `c >= toDateTime(<from s>) AND c <= toDateTime(<to s>)`   |
 * | `$__timeFilter_ms(c)`    | the same with `fromUnixTimestamp64Milli(<ms>)`            |
 * | `$__interval_s`          | the panel interval in whole seconds, at least 1           |
 * | `$__timeInterval(c)`     | `toStartOfInterval(toDateTime(c), INTERVAL <s> second)`   |
 *
 * Seconds are truncated (Go's `time.Unix()`). Template variables, as Grafana interpolates
 * them: `${name:singlequote}` is each value in single quotes (a quote inside escaped as
 * `\'`), comma-separated; `${name}` and `$name` the values comma-separated as they are.
 * Anything of either kind left over throws, so a macro this expander does not know fails
 * the test instead of reaching the engine.
 */
/** The range, interval and variable values a panel's query is expanded with. */
export interface MacroContext {
  fromMillis: number
  toMillis: number
  /** The panel interval, ms (Grafana's `$__interval`). */
  intervalMillis: number
  /** Values of each template variable. */
  variables: Record<string, readonly string[]>
}

/** `sql` with the macros and variables above replaced; throws on any left over. */
export function expandMacros(sql: string, ctx: MacroContext): string {
  const fromS = Math.floor(ctx.fromMillis / 1000)
  const toS = Math.floor(ctx.toMillis / 1000)
  const intervalS = Math.max(Math.floor(ctx.intervalMillis / 1000), 1)
  const variable = (name: string): readonly string[] => {
    const v = ctx.variables[name]
    if (v === undefined) throw new Error(`no value for template variable ${name}`)
    return v
  }
  const out = sql
    .replace(
      /\$__timeFilter_ms\(([^)]+)\)/g,
      (_m, c: string) =>
        `${c} >= fromUnixTimestamp64Milli(${ctx.fromMillis}) AND ${c} <= fromUnixTimestamp64Milli(${ctx.toMillis})`,
    )
    .replace(
      /\$__timeFilter\(([^)]+)\)/g,
      (_m, c: string) => `${c} >= toDateTime(${fromS}) AND ${c} <= toDateTime(${toS})`,
    )
    .replace(
      /\$__timeInterval\(([^)]+)\)/g,
      (_m, c: string) => `toStartOfInterval(toDateTime(${c}), INTERVAL ${intervalS} second)`,
    )
    .replace(/\$__fromTime_ms\b/g, `fromUnixTimestamp64Milli(${ctx.fromMillis})`)
    .replace(/\$__toTime_ms\b/g, `fromUnixTimestamp64Milli(${ctx.toMillis})`)
    .replace(/\$__fromTime\b/g, `toDateTime(${fromS})`)
    .replace(/\$__toTime\b/g, `toDateTime(${toS})`)
    .replace(/\$__interval_s\b/g, String(intervalS))
    .replace(/\$\{(\w+):singlequote\}/g, (_m, name: string) =>
      variable(name)
        .map((v) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`)
        .join(','),
    )
    .replace(/\$\{(\w+)\}|\$([A-Za-z_]\w*)/g, (m, a?: string, b?: string) =>
      m.startsWith('$__') ? m : variable((a ?? b) as string).join(','),
    )
  const left = /\$__\w+|\$\{[^}]*\}/.exec(out)
  if (left !== null) throw new Error(`macro not expanded: ${left[0]}`)
  return out
}
