/**
 * The one table of PromQL functions (Prometheus 2.x): name → argument types, how many
 * optional arguments, return type, and implementation. The parser checks calls against it;
 * the evaluator runs what it names.
 */
import type { ValueType } from './ast.ts'
import type { Value } from './step-vector.ts'
import { RANGE_FUNCTIONS, type RangeFn } from './range-functions.ts'
import { type CallEnv, INSTANT_FUNCTIONS } from './instant-functions.ts'

/** How a function is computed. */
export type FunctionImpl =
  /** Over the windows of its range-vector argument, series by series. */
  | { readonly kind: 'range'; readonly fn: RangeFn }
  /** Sample by sample over an instant vector; drops the metric name. */
  | { readonly kind: 'math'; readonly fn: (v: number) => number }
  /** On the evaluated arguments. */
  | { readonly kind: 'custom'; readonly fn: (args: readonly Value[], env: CallEnv) => Value }

/** One function of the table. */
export interface FunctionDef {
  readonly name: string
  readonly argTypes: readonly ValueType[]
  /** 0: exactly argTypes; n > 0: the last type may come 0…n times; -1: any number of times. */
  readonly variadic: number
  readonly returnType: ValueType
  readonly impl: FunctionImpl
}

const S: ValueType = 'scalar'
const V: ValueType = 'vector'
const M: ValueType = 'matrix'
const STR: ValueType = 'string'

// Go's math.Log2 and math.Log10, which differ from JS's in the last bits (Log10(1000) < 3 in Go).
function goLog2(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) return Math.log2(x)
  let exp = Math.floor(Math.log2(x))
  let frac = x / 2 ** exp
  // Normalise to Go's Frexp range [0.5, 1).
  while (frac >= 1) {
    frac /= 2
    exp++
  }
  while (frac < 0.5) {
    frac *= 2
    exp--
  }
  if (frac === 0.5) return exp - 1
  return Math.log(frac) * (1 / Math.LN2) + exp
}
const goLog10 = (x: number): number => Math.log(x) * (1 / Math.LN10)

const math = (name: string, fn: (v: number) => number): FunctionDef => ({
  name,
  argTypes: [V],
  variadic: 0,
  returnType: V,
  impl: { kind: 'math', fn },
})
const range = (name: string, argTypes: readonly ValueType[] = [M]): FunctionDef => ({
  name,
  argTypes,
  variadic: 0,
  returnType: V,
  impl: { kind: 'range', fn: RANGE_FUNCTIONS[name]! },
})
const custom = (name: string, argTypes: readonly ValueType[], returnType: ValueType, variadic = 0): FunctionDef => ({
  name,
  argTypes,
  variadic,
  returnType,
  impl: { kind: 'custom', fn: INSTANT_FUNCTIONS[name]! },
})

const DEFS: readonly FunctionDef[] = [
  math('abs', Math.abs),
  math('ceil', Math.ceil),
  math('floor', Math.floor),
  math('exp', Math.exp),
  math('sqrt', Math.sqrt),
  math('ln', Math.log),
  math('log2', goLog2),
  math('log10', goLog10),
  math('acos', Math.acos),
  math('acosh', Math.acosh),
  math('asin', Math.asin),
  math('asinh', Math.asinh),
  math('atan', Math.atan),
  math('atanh', Math.atanh),
  math('cos', Math.cos),
  math('cosh', Math.cosh),
  math('sin', Math.sin),
  math('sinh', Math.sinh),
  math('tan', Math.tan),
  math('tanh', Math.tanh),
  math('deg', (v) => (v * 180) / Math.PI),
  math('rad', (v) => (v * Math.PI) / 180),
  math('sgn', (v) => (v < 0 ? -1 : v > 0 ? 1 : v)),
  range('rate'),
  range('increase'),
  range('delta'),
  range('irate'),
  range('idelta'),
  range('changes'),
  range('resets'),
  range('deriv'),
  range('predict_linear', [M, S]),
  range('holt_winters', [M, S, S]),
  range('avg_over_time'),
  range('sum_over_time'),
  range('count_over_time'),
  range('min_over_time'),
  range('max_over_time'),
  range('quantile_over_time', [S, M]),
  range('stddev_over_time'),
  range('stdvar_over_time'),
  range('last_over_time'),
  range('present_over_time'),
  range('absent_over_time'),
  custom('absent', [V], V),
  custom('clamp', [V, S, S], V),
  custom('clamp_max', [V, S], V),
  custom('clamp_min', [V, S], V),
  custom('round', [V, S], V, 1),
  custom('days_in_month', [V], V, 1),
  custom('day_of_month', [V], V, 1),
  custom('day_of_week', [V], V, 1),
  custom('day_of_year', [V], V, 1),
  custom('hour', [V], V, 1),
  custom('minute', [V], V, 1),
  custom('month', [V], V, 1),
  custom('year', [V], V, 1),
  custom('label_replace', [V, STR, STR, STR, STR], V),
  custom('label_join', [V, STR, STR, STR], V, -1),
  custom('scalar', [V], S),
  custom('vector', [S], V),
  custom('time', [], S),
  custom('pi', [], S),
  custom('sort', [V], V),
  custom('sort_desc', [V], V),
  custom('timestamp', [V], V),
  custom('histogram_quantile', [S, V], V),
  custom('histogram_count', [V], V),
  custom('histogram_sum', [V], V),
  custom('histogram_fraction', [S, S, V], V),
]

/** Every function by name. */
export const FUNCTIONS: ReadonlyMap<string, FunctionDef> = new Map(DEFS.map((d) => [d.name, d]))

/** Range functions a store may compute itself (`Querier.rollup`): those whose only argument is the range. */
export function isRollupCandidate(name: string): boolean {
  const d = FUNCTIONS.get(name)
  return d !== undefined && d.impl.kind === 'range' && d.argTypes.length === 1 && name !== 'absent_over_time'
}
