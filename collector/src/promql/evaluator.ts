/**
 * Walks the AST over an evaluation grid (every step of a range query at once; an instant
 * query is a grid of one step). Each node answers a columnar value; selectors read raw
 * series through the `Querier`, and range functions slide two cursors over each series'
 * columns from step to step. Samples held are counted against `maxSamples` as Prometheus
 * counts them (the outputs alive, plus the largest window being read).
 */
import type {
  AggregateExpr,
  AtModifier,
  BinaryExpr,
  Call,
  Expr,
  MatrixSelector,
  SubqueryExpr,
  VectorSelector,
} from './ast.ts'
import { isSetOp, unwrapParens } from './ast.ts'
import type { Querier, SelectLimits } from './querier.ts'
import {
  type Grid,
  type RangeValue,
  type Row,
  type ScalarValue,
  type Value,
  type VectorValue,
  broadcast,
  constScalar,
  countSamples,
  mergeSameLabels,
  newRow,
  stepTime,
} from './step-vector.ts'
import { instantRow, rowToRangeSeries, withoutStale } from './selectors.ts'
import { FUNCTIONS, type FunctionDef, isRollupCandidate } from './functions.ts'
import { absentLabels, absentRow, mapValues } from './instant-functions.ts'
import { RANGE_KERNELS, type WindowEnv } from './range-functions.ts'
import { scalarBinop, setBinop, vectorBinop, vectorScalarBinop } from './binary.ts'
import { aggregate } from './aggregate.ts'
import { dropName, sortByLabels } from './labels.ts'
import { PromqlError, TOO_MANY_SAMPLES } from './errors.ts'

/** Everything one query's evaluation needs. */
export interface EvalSetup {
  readonly querier: Querier
  readonly limits: SelectLimits
  readonly lookbackDeltaMillis: number
  /** Start and end of the query, for `@ start()` / `@ end()`. */
  readonly queryStart: number
  readonly queryEnd: number
  /** Step of subqueries written without one (Prometheus' default evaluation interval). */
  readonly defaultSubqueryStepMillis: number
  readonly signal: AbortSignal | undefined
  /** Throws when the query is past its deadline or canceled; called between nodes and series. */
  readonly checkpoint: () => void
}

// Points a materialised range holds (a subquery's, or a range at the top of an instant query).
function countPoints(v: RangeValue): number {
  let c = 0
  for (const s of v.series) c += s.ts.length
  return c
}

/** An error thrown by the store, carried out of the evaluation untouched (it is the store's to word). */
export class StoreFailure extends Error {
  constructor(readonly error: unknown) {
    super('store failure')
  }
}

async function fromStore<T>(p: Promise<T>): Promise<T> {
  try {
    return await p
  } catch (err) {
    throw new StoreFailure(err)
  }
}

/** Evaluates one query's AST. */
export class Evaluator {
  readonly #s: EvalSetup
  #live = 0

  constructor(setup: EvalSetup) {
    this.#s = setup
  }

  /** Evaluates `e` at every step of `g`. */
  async eval(e: Expr, g: Grid): Promise<Value> {
    this.#s.checkpoint()
    const before = this.#live
    const v = await this.#node(e, g)
    // The children's samples are released; this node's output is held by its parent.
    this.#live = before
    this.hold(
      v.kind === 'vector'
        ? countSamples(v.rows)
        : v.kind === 'scalar'
          ? v.values.length
          : v.kind === 'matrix'
            ? countPoints(v)
            : 0,
    )
    return v
  }

  /** Counts `n` more samples in memory, failing as Prometheus does past the limit. */
  hold(n: number): void {
    this.#live += n
    if (this.#live > this.#s.limits.maxSamples) throw new PromqlError('execution', TOO_MANY_SAMPLES)
  }

  #atTime(at: AtModifier): number {
    return at.kind === 'time' ? at.millis : at.kind === 'start' ? this.#s.queryStart : this.#s.queryEnd
  }

  async #node(e: Expr, g: Grid): Promise<Value> {
    switch (e.type) {
      case 'number':
        return constScalar(e.value, g.n)
      case 'string':
        return { kind: 'string', value: e.value }
      case 'paren':
        return this.eval(e.expr, g)
      case 'vectorSelector':
        return this.#vectorSelector(e, g, false)
      case 'matrixSelector':
        return this.#matrixSelector(e, g, undefined)
      case 'subquery':
        return this.#subquery(e, g)
      case 'unary': {
        const v = await this.eval(e.expr, g)
        if (e.op === '+') return v
        if (v.kind === 'scalar') return { kind: 'scalar', values: v.values.map((x) => -x) }
        return { kind: 'vector', rows: mapValues((v as VectorValue).rows, (x) => -x) }
      }
      case 'binary':
        return this.#binary(e, g)
      case 'aggregate':
        return this.#aggregate(e, g)
      case 'call':
        return this.#call(e, g)
    }
  }

  async #vectorSelector(e: VectorSelector, g: Grid, asTimestamp: boolean): Promise<VectorValue> {
    if (e.at) {
      const one = await this.#vectorSelector(
        { ...e, at: undefined },
        { start: this.#atTime(e.at), step: 0, n: 1 },
        asTimestamp,
      )
      return broadcast(one, g.n) as VectorValue
    }
    const refs = new Float64Array(g.n)
    for (let k = 0; k < g.n; k++) refs[k] = stepTime(g, k) - e.offset
    const lookback = this.#s.lookbackDeltaMillis
    const raw = await fromStore(
      this.#s.querier.select(
        e.matchers,
        { start: refs[0]! - lookback, end: refs[g.n - 1]!, step: g.step },
        this.#s.limits,
        this.#s.signal,
      ),
    )
    const rows: Row[] = []
    for (const s of sortByLabels(raw.slice())) {
      const r = instantRow(s, refs, lookback, asTimestamp)
      if (r.present.indexOf(1) >= 0) rows.push(r)
    }
    return { kind: 'vector', rows }
  }

  async #matrixSelector(e: MatrixSelector, g: Grid, func: string | undefined): Promise<RangeValue> {
    const sel = e.selector
    const ends = new Float64Array(g.n)
    for (let k = 0; k < g.n; k++) ends[k] = (sel.at ? this.#atTime(sel.at) : stepTime(g, k)) - sel.offset
    const hints = {
      start: ends[0]! - e.range,
      end: ends[g.n - 1]!,
      step: g.step,
      range: e.range,
      ...(func ? { func } : {}),
    }
    const raw = await fromStore(this.#s.querier.select(sel.matchers, hints, this.#s.limits, this.#s.signal))
    return { kind: 'matrix', series: sortByLabels(raw.map(withoutStale)), range: e.range, ends }
  }

  async #subquery(e: SubqueryExpr, g: Grid): Promise<RangeValue> {
    const at = e.at ? this.#atTime(e.at) : undefined
    const outerStart = at ?? g.start
    const outerEnd = at ?? stepTime(g, g.n - 1)
    const step = e.step > 0 ? e.step : this.#s.defaultSubqueryStepMillis
    // The inner steps are the multiples of the step from the first one inside the first window.
    const innerStart = Math.ceil((outerStart - e.offset - e.range) / step) * step
    const innerEnd = outerEnd - e.offset
    const ends = new Float64Array(g.n)
    for (let k = 0; k < g.n; k++) ends[k] = (at ?? stepTime(g, k)) - e.offset
    if (innerEnd < innerStart) return { kind: 'matrix', series: [], range: e.range, ends }
    const inner: Grid = { start: innerStart, step, n: Math.floor((innerEnd - innerStart) / step) + 1 }
    const v = await this.eval(e.expr, inner)
    const rows = v.kind === 'vector' ? v.rows : []
    return {
      kind: 'matrix',
      series: rows.map((r) => rowToRangeSeries(r, inner.start, inner.step)).filter((s) => s.ts.length > 0),
      range: e.range,
      ends,
    }
  }

  async #binary(e: BinaryExpr, g: Grid): Promise<Value> {
    const l = await this.eval(e.lhs, g)
    const r = await this.eval(e.rhs, g)
    if (l.kind === 'scalar' && r.kind === 'scalar') {
      const out = new Float64Array(g.n)
      for (let k = 0; k < g.n; k++) out[k] = scalarBinop(e.op, l.values[k]!, r.values[k]!)
      return { kind: 'scalar', values: out }
    }
    if (l.kind === 'vector' && r.kind === 'scalar')
      return { kind: 'vector', rows: vectorScalarBinop(e.op, l.rows, r.values, false, e.returnBool) }
    if (l.kind === 'scalar' && r.kind === 'vector')
      return { kind: 'vector', rows: vectorScalarBinop(e.op, r.rows, l.values, true, e.returnBool) }
    const lr = (l as VectorValue).rows
    const rr = (r as VectorValue).rows
    const m = e.matching ?? { card: isSetOp(e.op) ? 'many-to-many' : 'one-to-one', on: false, labels: [], include: [] }
    if (e.op === 'and' || e.op === 'or' || e.op === 'unless') return { kind: 'vector', rows: setBinop(e.op, lr, rr, m) }
    return { kind: 'vector', rows: vectorBinop(e.op, lr, rr, m, e.returnBool) }
  }

  async #aggregate(e: AggregateExpr, g: Grid): Promise<Value> {
    let param: Float64Array | string | undefined
    if (e.param) {
      const p = await this.eval(e.param, g)
      param = p.kind === 'string' ? p.value : (p as ScalarValue).values
    }
    const v = (await this.eval(e.expr, g)) as VectorValue
    return { kind: 'vector', rows: aggregate(e.op, v.rows, { labels: e.grouping, without: e.without }, param, g.n) }
  }

  async #call(e: Call, g: Grid): Promise<Value> {
    const def = FUNCTIONS.get(e.func)!
    const first = e.args[0] ? unwrapParens(e.args[0]) : undefined
    if (e.func === 'timestamp' && first?.type === 'vectorSelector') {
      // timestamp() of a selector answers the time of the sample found, not of the step.
      const v = await this.#vectorSelector(first, g, true)
      return { kind: 'vector', rows: mergeSameLabels(v.rows.map((r) => ({ ...r, labels: dropName(r.labels) }))) }
    }
    if (def.impl.kind === 'range') return this.#rangeCall(e, def, g)
    const args: Value[] = []
    for (const a of e.args) args.push(await this.eval(a, g))
    if (def.impl.kind === 'math') return { kind: 'vector', rows: mapValues((args[0] as VectorValue).rows, def.impl.fn) }
    return def.impl.fn(args, { grid: g, call: e })
  }

  async #rangeCall(e: Call, def: FunctionDef, g: Grid): Promise<Value> {
    const mi = def.argTypes.indexOf('matrix')
    const arg = unwrapParens(e.args[mi]!)
    const keepName = e.func === 'last_over_time'
    const rollup = this.#s.querier.rollup
    if (rollup && g.n > 1 && arg.type === 'matrixSelector' && !arg.selector.at && isRollupCandidate(e.func)) {
      const req = {
        fn: e.func,
        matchers: arg.selector.matchers,
        range: arg.range,
        offset: arg.selector.offset,
        start: g.start,
        end: stepTime(g, g.n - 1),
        step: g.step,
      }
      const done = await fromStore(rollup.call(this.#s.querier, req, this.#s.limits, this.#s.signal))
      if (done) {
        const rows = sortByLabels(done.slice()).map((s) => ({
          labels: keepName ? s.labels : dropName(s.labels),
          values: s.values,
          present: s.present,
        }))
        return { kind: 'vector', rows: mergeSameLabels(rows) }
      }
    }
    const rv = (
      arg.type === 'matrixSelector' ? await this.#matrixSelector(arg, g, e.func) : await this.eval(arg, g)
    ) as RangeValue
    const scalars: Float64Array[] = []
    for (let i = 0; i < e.args.length; i++) {
      if (i !== mi) scalars[i] = ((await this.eval(e.args[i]!, g)) as ScalarValue).values
    }
    if (e.func === 'absent_over_time') return { kind: 'vector', rows: this.#absentOverTime(rv, e, g) }
    // A call over an `@` range is evaluated once, at the grid's start, as Prometheus does.
    const fixedAt =
      (arg.type === 'matrixSelector' && arg.selector.at !== undefined) ||
      (arg.type === 'subquery' && arg.at !== undefined)
    const fn = def.impl.kind === 'range' ? def.impl.fn : undefined
    if (!fn) throw new PromqlError('internal', `${e.func} is not a range function`)
    const env: WindowEnv = { start: 0, end: 0, evalTime: 0, range: rv.range, args: new Float64Array(e.args.length) }
    const rows: Row[] = []
    let maxWindow = 0
    const kernel = RANGE_KERNELS[e.func]
    for (const s of rv.series) {
      this.#s.checkpoint()
      const row = newRow(keepName ? s.labels : dropName(s.labels), g.n)
      if (kernel) {
        kernel(s.ts, s.values, rv.ends, rv.range, row.values, row.present)
        rows.push(row)
        continue
      }
      const ts = s.ts
      const vs = s.values
      const len = ts.length
      // Two cursors: lo is the first point at or after the window's start, hi the first after its end.
      let lo = 0
      let hi = 0
      for (let k = 0; k < g.n; k++) {
        const end = rv.ends[k]!
        const start = end - rv.range
        while (hi < len && ts[hi]! <= end) hi++
        while (lo < hi && ts[lo]! < start) lo++
        if (hi === lo) continue
        if (hi - lo > maxWindow) maxWindow = hi - lo
        env.start = start
        env.end = end
        env.evalTime = fixedAt ? g.start : stepTime(g, k)
        for (let i = 0; i < scalars.length; i++) {
          const a = scalars[i]
          if (a) env.args[i] = a[k]!
        }
        const v = fn(ts, vs, lo, hi, env)
        if (v === undefined) continue
        row.present[k] = 1
        row.values[k] = v
      }
      rows.push(row)
    }
    this.hold(maxWindow)
    return { kind: 'vector', rows: mergeSameLabels(rows) }
  }

  #absentOverTime(rv: RangeValue, e: Call, g: Grid): Row[] {
    const any = new Uint8Array(g.n)
    for (const s of rv.series) {
      let lo = 0
      let hi = 0
      for (let k = 0; k < g.n; k++) {
        const end = rv.ends[k]!
        while (hi < s.ts.length && s.ts[hi]! <= end) hi++
        while (lo < hi && s.ts[lo]! < end - rv.range) lo++
        if (hi > lo) any[k] = 1
      }
    }
    const arg = unwrapParens(e.args[0]!)
    return absentRow(arg.type === 'subquery' ? {} : absentLabels(arg), g.n, (k) => any[k] === 1)
  }
}
