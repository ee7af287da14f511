import type { Expr, VectorSelector } from './ast.ts'

/**
 * Every vector selector of an expression (those inside range selectors and subqueries too),
 * in the order they are written: what Prometheus' query_exemplars evaluates of a query.
 */
export function vectorSelectors(expr: Expr): VectorSelector[] {
  const out: VectorSelector[] = []
  const visit = (e: Expr): void => {
    switch (e.type) {
      case 'vectorSelector':
        out.push(e)
        break
      case 'matrixSelector':
        out.push(e.selector)
        break
      case 'subquery':
      case 'paren':
      case 'unary':
        visit(e.expr)
        break
      case 'binary':
        visit(e.lhs)
        visit(e.rhs)
        break
      case 'aggregate':
        if (e.param !== undefined) visit(e.param)
        visit(e.expr)
        break
      case 'call':
        for (const a of e.args) visit(a)
        break
      default:
        break
    }
  }
  visit(expr)
  return out
}
