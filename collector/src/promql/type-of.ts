/** The value type of each AST node, as Prometheus' parser infers it. */
import type { Expr, ValueType } from './ast.ts'
import { FUNCTIONS } from './functions.ts'

/** Type names as Prometheus words them in messages. */
export const TYPE_NAMES: Readonly<Record<ValueType, string>> = {
  scalar: 'scalar',
  vector: 'instant vector',
  matrix: 'range vector',
  string: 'string',
}

/** The value type an expression evaluates to. */
export function typeOf(e: Expr): ValueType {
  switch (e.type) {
    case 'number':
      return 'scalar'
    case 'string':
      return 'string'
    case 'vectorSelector':
    case 'aggregate':
      return 'vector'
    case 'matrixSelector':
    case 'subquery':
      return 'matrix'
    case 'paren':
    case 'unary':
      return typeOf(e.expr)
    case 'binary':
      return typeOf(e.lhs) === 'scalar' && typeOf(e.rhs) === 'scalar' ? 'scalar' : 'vector'
    case 'call':
      return FUNCTIONS.get(e.func)?.returnType ?? 'vector'
  }
}
