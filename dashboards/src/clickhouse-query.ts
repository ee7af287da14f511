import type { Builder, Dataquery } from '@grafana/grafana-foundation-sdk/cog'

/** The plugin id of Grafana's ClickHouse data source. */
export const CLICKHOUSE_PLUGIN = 'grafana-clickhouse-datasource'

/** The uid the provisioned data source is given (`provisioning/datasources/clickhouse.yaml`). */
export const CLICKHOUSE_UID = 'governor-clickhouse'

/** The provisioned data source, as panels, variables and annotations reference it. */
export const clickhouse = { type: CLICKHOUSE_PLUGIN, uid: CLICKHOUSE_UID }

/**
 * How the plugin shapes a result: its `Format` enum (0 time series, 1 table). A time series
 * result in long form (a time column, string columns, numbers) is pivoted by the plugin into
 * one series per distinct string value.
 */
export const Format = { TimeSeries: 0, Table: 1 } as const
export type Format = (typeof Format)[keyof typeof Format]

/**
 * A query of the ClickHouse data source in its SQL editor mode, the fields the plugin (v4)
 * reads from a panel target. Defined here as the foundation SDK asks for third-party data
 * sources: a `Dataquery` variant with its own builder.
 */
export interface ClickHouseQuery {
  refId?: string
  hide?: boolean
  datasource?: { type: string; uid: string }
  /** `sql`: the raw SQL below is run as written, after Grafana's and the plugin's macros. */
  editorType: 'sql'
  /** The SQL, with macros such as `$__timeFilter(col)` and template variables. */
  rawSql: string
  format: Format
  /** The plugin's query type, matching `format`. */
  queryType: 'timeseries' | 'table'
  _implementsDataqueryVariant(): void
}

/** Builds a {@link ClickHouseQuery}; the default format is a time series. */
export class ClickHouseQueryBuilder implements Builder<Dataquery> {
  readonly #internal: ClickHouseQuery

  constructor(rawSql: string) {
    this.#internal = {
      datasource: clickhouse,
      editorType: 'sql',
      rawSql,
      format: Format.TimeSeries,
      queryType: 'timeseries',
      _implementsDataqueryVariant() {},
    }
  }

  /** The query as the dashboard JSON holds it. */
  build(): ClickHouseQuery {
    return this.#internal
  }

  /** The query's id within its panel (`A`, `B`, …). */
  refId(refId: string): this {
    this.#internal.refId = refId
    return this
  }

  /** Hides the query's result from the panel. */
  hide(hide: boolean): this {
    this.#internal.hide = hide
    return this
  }

  /** Returns rows as a table rather than time series. */
  table(): this {
    this.#internal.format = Format.Table
    this.#internal.queryType = 'table'
    return this
  }
}
