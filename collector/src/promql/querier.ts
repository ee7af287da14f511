/**
 * The storage boundary of the PromQL engine: what the evaluator asks of the store, and
 * nothing more. The engine never holds a ClickHouse client; it holds a `Querier`.
 *
 * Two implementations: the ClickHouse one (`store/clickhouse-querier.ts`), which selects
 * series in the series table, checks the limits before any point is read and hands points
 * over as typed columns, and `MemoryQuerier` (`promql/memory-querier.ts`), shipped in the
 * product for unit tests and for users who embed the engine.
 *
 * Times are milliseconds since the epoch throughout, as Prometheus keeps them.
 */

/** Prometheus label matcher kinds. Regular expressions are fully anchored, as in Prometheus. */
export type MatchType = '=' | '!=' | '=~' | '!~'

export interface LabelMatcher {
  readonly name: string
  readonly type: MatchType
  readonly value: string
}

/**
 * A label set, `__name__` included, as Prometheus names it (see the name mapping in
 * `store/prometheus-names.ts`). Keys are unique; order carries no meaning.
 */
export type Labels = Readonly<Record<string, string>>

/** What the evaluator is about to do with the selected series: lets a store prune and push down. */
export interface SelectHints {
  /** First and last millisecond of points needed, inclusive (lookback, range and offset applied). */
  readonly start: number
  readonly end: number
  /** The step of a range query, or 0 for an instant query. */
  readonly step: number
  /** The function the series are passed to (`rate`, `sum_over_time`…), when there is one. */
  readonly func?: string
  /** The range of the range selector, when there is one. */
  readonly range?: number
}

/**
 * One series' raw points, sorted by time. `stale[i] === 1` marks a Prometheus stale marker
 * at `ts[i]` (its value is NaN and must not be used as a sample); `stale` is undefined when
 * the series holds none.
 */
export interface RawSeries {
  readonly labels: Labels
  readonly ts: Float64Array
  readonly values: Float64Array
  readonly stale?: Uint8Array
}

/** Bounds every selection is checked against before its points are read. */
export interface SelectLimits {
  /** Most series one selector may match. */
  readonly maxSeries: number
  /** Most samples the whole query may read (the store counts before it fetches). */
  readonly maxSamples: number
}

/**
 * Range work a store may do itself, per series and per step, instead of handing over every
 * raw point: `fn(selector[range])` evaluated at `start, start + step, … ≤ end`, each step's
 * window `[t - offset - range, t - offset]`, closed at both ends as Prometheus 2.x defines it.
 */
export interface RollupRequest {
  readonly fn: string
  readonly matchers: readonly LabelMatcher[]
  readonly range: number
  readonly offset: number
  readonly start: number
  readonly end: number
  readonly step: number
}

/** A series evaluated at every step: `values[k]` is the value at `start + k·step`, NaN where there is none. */
export interface StepSeries {
  readonly labels: Labels
  readonly values: Float64Array
  /** Steps that have a value (a real NaN sample is a value; an empty window is not). */
  readonly present: Uint8Array
}

export interface Querier {
  /** The raw points of every series matching all `matchers` in `[hints.start, hints.end]`. */
  select(
    matchers: readonly LabelMatcher[],
    hints: SelectHints,
    limits: SelectLimits,
    signal?: AbortSignal,
  ): Promise<RawSeries[]>
  /**
   * The rollup done by the store, or undefined when it does not do this function (the engine
   * then selects raw points and does it itself). The answer must equal the engine's own.
   */
  rollup?(req: RollupRequest, limits: SelectLimits, signal?: AbortSignal): Promise<StepSeries[] | undefined>
  /** Label sets of the series matching any of the matcher lists, with points in `[start, end]`. */
  series(
    matcherSets: readonly (readonly LabelMatcher[])[],
    start: number,
    end: number,
    limit: number,
  ): Promise<Labels[]>
  /** Label names of the matching series (all series with no matcher sets), sorted. */
  labelNames(
    matcherSets: readonly (readonly LabelMatcher[])[],
    start: number,
    end: number,
    limit: number,
  ): Promise<string[]>
  /** Values of one label over the matching series, sorted. */
  labelValues(
    name: string,
    matcherSets: readonly (readonly LabelMatcher[])[],
    start: number,
    end: number,
    limit: number,
  ): Promise<string[]>
}
