/**
 * Governor's own typed PromQL syntax tree: what `parsePromql` builds out of the lezer tree,
 * checked for types as Prometheus' parser checks them, and what the evaluator walks.
 * Times are milliseconds; `pos` is the character range in the query, for error messages.
 */
import type { LabelMatcher } from './querier.ts'

/** The four PromQL value types. `matrix` is a range vector. */
export type ValueType = 'scalar' | 'vector' | 'matrix' | 'string'

/** Where a node sits in the query text: `[start, end)` character offsets. */
export interface Pos {
  readonly start: number
  readonly end: number
}

/** The `@` modifier: a fixed time, or the query's `start()` / `end()`. */
export type AtModifier =
  { readonly kind: 'time'; readonly millis: number } | { readonly kind: 'start' } | { readonly kind: 'end' }

export interface NumberLiteral {
  readonly type: 'number'
  readonly value: number
  readonly pos: Pos
}
export interface StringLiteral {
  readonly type: 'string'
  readonly value: string
  readonly pos: Pos
}

export interface VectorSelector {
  readonly type: 'vectorSelector'
  /** The metric name when given outside the braces (or in a `__name__=` matcher), for messages. */
  readonly name: string | undefined
  readonly matchers: readonly LabelMatcher[]
  /** Offset in milliseconds (negative looks ahead). */
  readonly offset: number
  readonly at: AtModifier | undefined
  readonly pos: Pos
}

export interface MatrixSelector {
  readonly type: 'matrixSelector'
  readonly selector: VectorSelector
  readonly range: number
  readonly pos: Pos
}

export interface SubqueryExpr {
  readonly type: 'subquery'
  readonly expr: Expr
  readonly range: number
  /** The step, or 0 for the default evaluation interval. */
  readonly step: number
  readonly offset: number
  readonly at: AtModifier | undefined
  readonly pos: Pos
}

export interface ParenExpr {
  readonly type: 'paren'
  readonly expr: Expr
  readonly pos: Pos
}
export interface UnaryExpr {
  readonly type: 'unary'
  readonly op: '-' | '+'
  readonly expr: Expr
  readonly pos: Pos
}

/** Binary operators, as written. */
export type BinaryOp =
  '+' | '-' | '*' | '/' | '%' | '^' | 'atan2' | '==' | '!=' | '>' | '<' | '>=' | '<=' | 'and' | 'or' | 'unless'

/** Vector matching: `on`/`ignoring` and the cardinality `group_left`/`group_right` asks for. */
export interface VectorMatching {
  readonly card: 'one-to-one' | 'many-to-one' | 'one-to-many' | 'many-to-many'
  /** True for `on(…)`, false for `ignoring(…)` or no clause. */
  readonly on: boolean
  readonly labels: readonly string[]
  /** Labels `group_left(…)`/`group_right(…)` copy from the "one" side. */
  readonly include: readonly string[]
}

export interface BinaryExpr {
  readonly type: 'binary'
  readonly op: BinaryOp
  readonly lhs: Expr
  readonly rhs: Expr
  readonly returnBool: boolean
  /** Only when both sides are instant vectors. */
  readonly matching: VectorMatching | undefined
  readonly pos: Pos
}

/** Aggregation operators of Prometheus 2.x. */
export type AggregateOp =
  | 'sum'
  | 'avg'
  | 'min'
  | 'max'
  | 'count'
  | 'group'
  | 'stddev'
  | 'stdvar'
  | 'topk'
  | 'bottomk'
  | 'quantile'
  | 'count_values'

export interface AggregateExpr {
  readonly type: 'aggregate'
  readonly op: AggregateOp
  readonly expr: Expr
  /** `k`, `φ` or the label name of count_values. */
  readonly param: Expr | undefined
  readonly grouping: readonly string[]
  readonly without: boolean
  readonly pos: Pos
}

export interface Call {
  readonly type: 'call'
  readonly func: string
  readonly args: readonly Expr[]
  readonly pos: Pos
}

/** Every node of the tree. */
export type Expr =
  | NumberLiteral
  | StringLiteral
  | VectorSelector
  | MatrixSelector
  | SubqueryExpr
  | ParenExpr
  | UnaryExpr
  | BinaryExpr
  | AggregateExpr
  | Call

/** Comparison operators: they filter, or answer 0/1 with `bool`. */
export function isComparisonOp(op: BinaryOp): boolean {
  return op === '==' || op === '!=' || op === '>' || op === '<' || op === '>=' || op === '<='
}

/** `and`, `or`, `unless`. */
export function isSetOp(op: BinaryOp): boolean {
  return op === 'and' || op === 'or' || op === 'unless'
}

/** Strips parentheses. */
export function unwrapParens(e: Expr): Expr {
  let x = e
  while (x.type === 'paren') x = x.expr
  return x
}
