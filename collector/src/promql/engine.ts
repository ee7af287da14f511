/**
 * The PromQL engine: parses a query, evaluates it over the `Querier` and answers
 * Prometheus' API `data` object exactly (times in float seconds, values as Go formats them).
 */
import type { Querier } from './querier.ts'
import type { Expr } from './ast.ts'
import { parsePromql } from './parse.ts'
import { Evaluator, StoreFailure } from './evaluator.ts'
import { type Grid, type RangeValue, type Value, stepTime } from './step-vector.ts'
import { compareLabels } from './labels.ts'
import { formatFloat } from './literals.ts'
import { PromqlError, isPromqlError } from './errors.ts'

// The HTTP layer needs these alongside the engine: parse early, recognise errors.
export { PromqlError, isPromqlError } from './errors.ts'
export type { PromqlErrorType } from './errors.ts'
export { parsePromql } from './parse.ts'

/** Engine settings. */
export interface EngineOptions {
  /** How far back an instant selector looks for the latest sample, in ms (Prometheus' `query.lookback-delta`). Default 300000. */
  lookbackDeltaMillis?: number
  /** Most samples a query may hold in memory at once (Prometheus' `query.max-samples`). */
  maxSamples: number
  /** Most series one selector may match. */
  maxSeries: number
  /** Most time one query may run, in ms (Prometheus' `query.timeout`). */
  timeoutMillis: number
  /** Step of subqueries written without one, in ms (Prometheus' default evaluation interval). Default 60000. */
  defaultSubqueryStepMillis?: number
  /** The clock deadlines are checked against, in ms. Default `performance.now`. */
  clock?: () => number
}

/** One series of a vector result. */
export interface VectorSample {
  metric: Record<string, string>
  value: [number, string]
}
/** One series of a matrix result. */
export interface MatrixSeries {
  metric: Record<string, string>
  values: [number, string][]
}

/** Prometheus' `data` object: times as float seconds, values as strings ("NaN", "+Inf", "-Inf"). */
export type QueryData = (
  | { resultType: 'vector'; result: VectorSample[] }
  | { resultType: 'matrix'; result: MatrixSeries[] }
  | { resultType: 'scalar'; result: [number, string] }
  | { resultType: 'string'; result: [number, string] }
) & { warnings?: string[] }

const TYPE_NAMES: Readonly<Record<Value['kind'], string>> = {
  scalar: 'scalar',
  vector: 'vector',
  matrix: 'range vector',
  string: 'string',
}

function checkOptions(o: EngineOptions): void {
  const positive = (name: string, v: number | undefined, optional: boolean): void => {
    if (v === undefined && optional) return
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v))
      throw new RangeError(`EngineOptions.${name} must be a positive number, got ${String(v)}`)
  }
  positive('maxSamples', o.maxSamples, false)
  positive('maxSeries', o.maxSeries, false)
  positive('timeoutMillis', o.timeoutMillis, false)
  positive('lookbackDeltaMillis', o.lookbackDeltaMillis, true)
  positive('defaultSubqueryStepMillis', o.defaultSubqueryStepMillis, true)
}

/** Parsed queries kept by an engine: a dashboard asks the same few at every refresh. */
const PARSED_KEPT = 256

/** Evaluates PromQL (Prometheus 2.x) over a `Querier`. */
export class PromqlEngine {
  readonly #querier: Querier
  readonly #o: EngineOptions
  readonly #clock: () => number
  // The syntax tree is read-only, so one tree serves every evaluation of its query: parsing
  // costs about 0.8 ms a query, most of a one-series read's time in the engine.
  readonly #parsed = new Map<string, Expr>()

  constructor(querier: Querier, options: EngineOptions) {
    checkOptions(options)
    this.#querier = querier
    this.#o = options
    this.#clock = options.clock ?? (() => performance.now())
  }

  /** Evaluates `query` at one time (ms). */
  async instantQuery(query: string, timeMillis: number, signal?: AbortSignal): Promise<QueryData> {
    const expr = this.#parse(query)
    const grid: Grid = { start: timeMillis, step: 0, n: 1 }
    const value = await this.#run(expr, grid, timeMillis, timeMillis, signal)
    const t = timeMillis / 1000
    switch (value.kind) {
      case 'scalar':
        return { resultType: 'scalar', result: [t, formatFloat(value.values[0]!)] }
      case 'string':
        return { resultType: 'string', result: [t, value.value] }
      case 'vector':
        return {
          resultType: 'vector',
          result: value.rows
            .filter((r) => r.present[0] === 1)
            .map((r) => ({ metric: { ...r.labels }, value: [t, formatFloat(r.values[0]!)] })),
        }
      case 'matrix':
        return { resultType: 'matrix', result: rangeResult(value) }
    }
  }

  /** Evaluates `query` at `start, start + step, … ≤ end` (ms). */
  async rangeQuery(
    query: string,
    startMillis: number,
    endMillis: number,
    stepMillis: number,
    signal?: AbortSignal,
  ): Promise<QueryData> {
    if (!(stepMillis > 0))
      throw new PromqlError(
        'bad_data',
        'zero or negative query resolution step widths are not accepted. Try a positive integer',
      )
    if (endMillis < startMillis) throw new PromqlError('bad_data', 'end timestamp must not be before start time')
    const expr = this.#parse(query)
    const grid: Grid = {
      start: startMillis,
      step: stepMillis,
      n: Math.floor((endMillis - startMillis) / stepMillis) + 1,
    }
    const value = await this.#run(expr, grid, startMillis, endMillis, signal)
    if (value.kind === 'matrix' || value.kind === 'string') {
      throw new PromqlError(
        'bad_data',
        `invalid expression type "${TYPE_NAMES[value.kind]}" for range query, must be Scalar or instant Vector`,
      )
    }
    if (value.kind === 'scalar') {
      const values: [number, string][] = []
      for (let k = 0; k < grid.n; k++) values.push([stepTime(grid, k) / 1000, formatFloat(value.values[k]!)])
      return { resultType: 'matrix', result: [{ metric: {}, values }] }
    }
    const rows = value.rows.slice().sort((a, b) => compareLabels(a.labels, b.labels))
    const result: MatrixSeries[] = []
    for (const r of rows) {
      const values: [number, string][] = []
      for (let k = 0; k < grid.n; k++)
        if (r.present[k] === 1) values.push([stepTime(grid, k) / 1000, formatFloat(r.values[k]!)])
      if (values.length > 0) result.push({ metric: { ...r.labels }, values })
    }
    return { resultType: 'matrix', result }
  }

  /** The tree of `query`, parsed once while it is among the last PARSED_KEPT asked (errors are not kept). */
  #parse(query: string): Expr {
    let expr = this.#parsed.get(query)
    if (expr !== undefined) {
      this.#parsed.delete(query) // most recently used last
    } else {
      expr = parsePromql(query)
      if (this.#parsed.size >= PARSED_KEPT) this.#parsed.delete(this.#parsed.keys().next().value!)
    }
    this.#parsed.set(query, expr)
    return expr
  }

  async #run(
    expr: Expr,
    grid: Grid,
    queryStart: number,
    queryEnd: number,
    signal: AbortSignal | undefined,
  ): Promise<Value> {
    const deadline = this.#clock() + this.#o.timeoutMillis
    const timeout = AbortSignal.timeout(this.#o.timeoutMillis)
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout
    const checkpoint = (): void => {
      if (signal?.aborted) throw new PromqlError('canceled', 'query was canceled in expression evaluation')
      if (timeout.aborted || this.#clock() > deadline)
        throw new PromqlError('timeout', 'query timed out in expression evaluation')
    }
    const evaluator = new Evaluator({
      querier: this.#querier,
      limits: { maxSeries: this.#o.maxSeries, maxSamples: this.#o.maxSamples },
      lookbackDeltaMillis: this.#o.lookbackDeltaMillis ?? 300_000,
      queryStart,
      queryEnd,
      defaultSubqueryStepMillis: this.#o.defaultSubqueryStepMillis ?? 60_000,
      signal: combined,
      checkpoint,
    })
    try {
      return await evaluator.eval(expr, grid)
    } catch (err) {
      if (isPromqlError(err)) throw err
      if (err instanceof StoreFailure) {
        // A store interrupted by the deadline or the caller answers with the query's own error;
        // any other store error (a limit, the store down) is the store's to word.
        if (combined.aborted) checkpoint()
        throw err.error
      }
      throw new PromqlError('internal', err instanceof Error ? err.message : String(err))
    }
  }
}

// A range vector answered by an instant query: the points of each series in its window.
function rangeResult(v: RangeValue): MatrixSeries[] {
  const end = v.ends[0]!
  const start = end - v.range
  const out: MatrixSeries[] = []
  for (const s of v.series) {
    const values: [number, string][] = []
    for (let i = 0; i < s.ts.length; i++) {
      const t = s.ts[i]!
      if (t >= start && t <= end) values.push([t / 1000, formatFloat(s.values[i]!)])
    }
    if (values.length === 0) continue
    out.push({ metric: { ...s.labels }, values })
  }
  return out
}
