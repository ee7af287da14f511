/**
 * PromQL text → Governor's AST. The lezer grammar gives a concrete tree (it recovers from
 * errors, so its ⚠ nodes are turned into Prometheus-worded parse errors at their offset);
 * this walks it once into typed nodes and checks types as Prometheus' parser does.
 * Syntax newer than Prometheus 2.x (duration arithmetic, fill, anchored, smoothed, limitk)
 * is refused.
 */
import type { AggregateOp, AtModifier, BinaryOp, Expr, Pos, ValueType, VectorMatching, VectorSelector } from './ast.ts'
import { isComparisonOp, isSetOp } from './ast.ts'
import type { LabelMatcher, MatchType } from './querier.ts'
import { parseError } from './errors.ts'
import { parseDurationMillis, parseNumber, unquoteString } from './literals.ts'
import { compileAnchored } from './regex.ts'
import { FUNCTIONS } from './functions.ts'
import { NAME } from './labels.ts'
import { type Node, firstSyntaxError, parseTree } from './lezer-tree.ts'
import { TYPE_NAMES, typeOf } from './type-of.ts'

export { typeOf }

const AGG_OPS: Readonly<Record<string, AggregateOp>> = {
  Sum: 'sum',
  Avg: 'avg',
  Min: 'min',
  Max: 'max',
  Count: 'count',
  Group: 'group',
  Stddev: 'stddev',
  Stdvar: 'stdvar',
  Topk: 'topk',
  Bottomk: 'bottomk',
  Quantile: 'quantile',
  CountValues: 'count_values',
}
const BIN_OPS: Readonly<Record<string, BinaryOp>> = {
  Add: '+',
  Sub: '-',
  Mul: '*',
  Div: '/',
  Mod: '%',
  Pow: '^',
  Atan2: 'atan2',
  Eql: '==',
  Neq: '!=',
  Gtr: '>',
  Lss: '<',
  Gte: '>=',
  Lte: '<=',
  And: 'and',
  Or: 'or',
  Unless: 'unless',
}
const MATCH_OPS: Readonly<Record<string, MatchType>> = { EqlSingle: '=', Neq: '!=', EqlRegex: '=~', NeqRegex: '!~' }

/** Parses a PromQL query. Throws a `PromqlError` of type `bad_data` worded as Prometheus' parse errors. */
export function parsePromql(query: string): Expr {
  return new Converter(query).run()
}

class Converter {
  readonly #q: string
  constructor(q: string) {
    this.#q = q
  }

  run(): Expr {
    if (this.#q.trim() === '') throw parseError(this.#q, 0, 'no expression found in input')
    const tree = parseTree(this.#q)
    const err = firstSyntaxError(this.#q, tree.topNode)
    if (err) this.#fail(err.at, err.message)
    const child = tree.topNode.firstChild
    if (!child) throw parseError(this.#q, 0, 'no expression found in input')
    return this.#expr(child)
  }

  #fail(at: number, msg: string): never {
    throw parseError(this.#q, at, msg)
  }

  #text(n: Node): string {
    return this.#q.slice(n.from, n.to)
  }

  #pos(n: Node): Pos {
    return { start: n.from, end: n.to }
  }

  #children(n: Node): Node[] {
    const out: Node[] = []
    for (let c = n.firstChild; c; c = c.nextSibling) if (c.name !== 'LineComment') out.push(c)
    return out
  }

  #expectType(e: Expr, want: ValueType, context: string): void {
    const got = typeOf(e)
    if (got !== want) this.#fail(e.pos.start, `expected type ${TYPE_NAMES[want]} in ${context}, got ${TYPE_NAMES[got]}`)
  }

  #expr(n: Node): Expr {
    switch (n.name) {
      case 'NumberDurationLiteral':
        return { type: 'number', value: this.#number(n), pos: this.#pos(n) }
      case 'StringLiteral':
        return { type: 'string', value: this.#string(n), pos: this.#pos(n) }
      case 'VectorSelector':
        return this.#vectorSelector(n)
      case 'MatrixSelector':
        return this.#matrixSelector(n)
      case 'SubqueryExpr':
        return this.#subquery(n)
      case 'OffsetExpr':
      case 'StepInvariantExpr':
        return this.#modifier(n)
      case 'ParenExpr': {
        const inner = this.#children(n)[0]
        if (!inner) this.#fail(n.from, 'unexpected ")"')
        return { type: 'paren', expr: this.#expr(inner), pos: this.#pos(n) }
      }
      case 'UnaryExpr':
        return this.#unary(n)
      case 'BinaryExpr':
        return this.#binary(n)
      case 'AggregateExpr':
        return this.#aggregate(n)
      case 'FunctionCall':
        return this.#call(n)
      default:
        this.#fail(n.from, `unexpected ${JSON.stringify(this.#text(n).slice(0, 20))}`)
    }
  }

  #number(n: Node): number {
    const text = this.#text(n)
    const sign = text[0] === '-' ? -1 : 1
    const body = text.replace(/^[+-]\s*/, '')
    const v = parseNumber(body)
    if (v === undefined)
      this.#fail(
        n.from,
        parseDurationMillis(body) !== undefined
          ? `unexpected duration ${JSON.stringify(body)}`
          : `bad number or duration syntax: ${JSON.stringify(body)}`,
      )
    return sign * v
  }

  #string(n: Node): string {
    try {
      return unquoteString(this.#text(n))
    } catch (err) {
      this.#fail(n.from, (err as Error).message)
    }
  }

  #duration(n: Node): number {
    // 2.x durations only: one literal (`5m`, `1h30m`); duration arithmetic is 3.x.
    const kids = this.#children(n)
    const lit = kids[0]
    if (kids.length !== 1 || lit?.name !== 'NumberDurationLiteralInDurationContext')
      this.#fail(n.from, `unexpected ${JSON.stringify(this.#text(n))} in duration`)
    const text = this.#text(lit)
    const ms = parseDurationMillis(text)
    if (ms !== undefined) return ms
    const secs = parseNumber(text)
    if (secs === undefined || !Number.isFinite(secs)) this.#fail(n.from, `bad duration syntax: ${JSON.stringify(text)}`)
    return Math.round(secs * 1000)
  }

  #vectorSelector(n: Node): VectorSelector {
    let name: string | undefined
    const matchers: LabelMatcher[] = []
    for (const c of this.#children(n)) {
      if (c.name === 'Identifier') name = this.#text(c)
      else if (c.name === 'LabelMatchers') {
        for (const m of this.#children(c)) {
          if (m.name === 'QuotedLabelName') {
            // `{"metric.name"}`: a quoted metric name.
            const v = this.#string(m.firstChild!)
            if (name !== undefined)
              this.#fail(m.from, `metric name must not be set twice: ${JSON.stringify(name)} or ${JSON.stringify(v)}`)
            name = v
            continue
          }
          if (m.name !== 'UnquotedLabelMatcher' && m.name !== 'QuotedLabelMatcher') continue
          const parts = this.#children(m)
          const labelNode = parts[0]!
          const label =
            labelNode.name === 'QuotedLabelName' ? this.#string(labelNode.firstChild!) : this.#text(labelNode)
          const op = MATCH_OPS[parts[1]?.firstChild?.name ?? '']
          const valueNode = parts[2]
          if (!op || !valueNode) this.#fail(m.from, 'unexpected label matcher')
          const value = this.#string(valueNode)
          if (op === '=~' || op === '!~') {
            try {
              compileAnchored(value)
            } catch (err) {
              this.#fail(valueNode.from, (err as Error).message)
            }
          }
          matchers.push({ name: label, type: op, value })
        }
      }
    }
    const explicitName = matchers.find((m) => m.name === NAME && m.type === '=')
    if (name !== undefined) {
      if (matchers.some((m) => m.name === NAME)) {
        this.#fail(
          n.from,
          `metric name must not be set twice: ${JSON.stringify(name)} or ${JSON.stringify(matchers.find((m) => m.name === NAME)!.value)}`,
        )
      }
      matchers.push({ name: NAME, type: '=', value: name })
    }
    const nonEmpty = matchers.some((m) => {
      if (m.type === '=') return m.value !== ''
      if (m.type === '!=') return m.value === ''
      const re = compileAnchored(m.value)
      return m.type === '=~' ? !re.test('') : re.test('')
    })
    if (!nonEmpty) this.#fail(n.from, 'vector selector must contain at least one non-empty matcher')
    return {
      type: 'vectorSelector',
      name: name ?? explicitName?.value,
      matchers,
      offset: 0,
      at: undefined,
      pos: this.#pos(n),
    }
  }

  /**
   * The lezer grammar gives postfix modifiers (`[5m]`, `[1h:1m]`, `offset`, `@`) the lowest
   * precedence, so `a + b offset 5m` comes as `(a + b) offset 5m`; Prometheus binds them to
   * the operand just before: `a + (b offset 5m)`. This moves them down the right edge of
   * binary and unary nodes (never into parentheses) and checks the rebuilt nodes again.
   */
  #postfix(e: Expr, n: Node, apply: (leaf: Expr) => Expr): Expr {
    if (e.type === 'binary') {
      const rhs = this.#postfix(e.rhs, n, apply)
      const out = { ...e, rhs, pos: { start: e.pos.start, end: n.to } }
      this.#checkBinary(out, n, e.matching !== undefined)
      return out
    }
    if (e.type === 'unary') {
      const inner = this.#postfix(e.expr, n, apply)
      const t = typeOf(inner)
      if (t !== 'scalar' && t !== 'vector')
        this.#fail(e.pos.start, 'unary expression only allowed on expressions of type scalar or instant vector')
      return { ...e, expr: inner, pos: { start: e.pos.start, end: n.to } }
    }
    return apply(e)
  }

  #matrixSelector(n: Node): Expr {
    const [inner, dur] = this.#children(n).filter((c) => c.name !== '[' && c.name !== ']')
    return this.#postfix(this.#expr(inner!), n, (e) => this.#matrixOf(e, n, dur!))
  }

  #matrixOf(e: Expr, n: Node, dur: Node): Expr {
    if (e.type !== 'vectorSelector') this.#fail(e.pos.start, 'ranges only allowed for vector selectors')
    if (e.offset !== 0) this.#fail(n.from, 'no offset modifiers allowed before range')
    if (e.at) this.#fail(n.from, 'no @ modifiers allowed before range')
    return { type: 'matrixSelector', selector: e, range: this.#duration(dur), pos: { start: e.pos.start, end: n.to } }
  }

  #subquery(n: Node): Expr {
    const kids = this.#children(n).filter((c) => c.name !== '[' && c.name !== ']' && c.name !== ':')
    return this.#postfix(this.#expr(kids[0]!), n, (e) => this.#subqueryOf(e, n, kids))
  }

  #subqueryOf(e: Expr, n: Node, kids: Node[]): Expr {
    const pos = { start: e.pos.start, end: n.to }
    const text = this.#q.slice(pos.start, pos.end)
    if (typeOf(e) !== 'vector')
      this.#fail(
        pos.start,
        `subquery is only allowed on instant vector, got ${TYPE_NAMES[typeOf(e)]} in ${JSON.stringify(text)} instead`,
      )
    const range = this.#duration(kids[1]!)
    const step = kids[2] ? this.#duration(kids[2]) : 0
    return { type: 'subquery', expr: e, range, step, offset: 0, at: undefined, pos }
  }

  // `expr offset d` and `expr @ t`: set on the selector or subquery they follow.
  #modifier(n: Node): Expr {
    const kids = this.#children(n)
    return this.#postfix(this.#expr(kids[0]!), n, (e) => this.#modified(e, n, kids))
  }

  #modified(e: Expr, n: Node, kids: Node[]): Expr {
    const isOffset = n.name === 'OffsetExpr'
    const word = isOffset ? 'offset' : '@'
    const target = e.type === 'matrixSelector' ? e.selector : e
    if (target.type !== 'vectorSelector' && target.type !== 'subquery') {
      this.#fail(
        e.pos.start,
        `${word} modifier must be preceded by an instant vector selector or range vector selector or a subquery`,
      )
    }
    let offset = target.offset
    let at = target.at
    if (isOffset) {
      if (offset !== 0) this.#fail(e.pos.start, 'offset may not be set multiple times')
      offset = this.#offset(kids[2]!)
    } else {
      if (at) this.#fail(e.pos.start, '@ <timestamp> may not be set multiple times')
      at = this.#at(kids.slice(2))
    }
    const updated = { ...target, offset, at, pos: { start: target.pos.start, end: n.to } }
    if (e.type === 'matrixSelector')
      return { ...e, selector: updated as VectorSelector, pos: { start: e.pos.start, end: n.to } }
    return updated as Expr
  }

  #offset(n: Node): number {
    const kids = this.#children(n)
    if (kids[0]?.name === 'UnaryOp') {
      const sign = this.#text(kids[0]) === '-' ? -1 : 1
      return sign * this.#offset(kids[1]!)
    }
    return this.#duration(n)
  }

  #at(kids: Node[]): AtModifier {
    const k = kids[0]
    if (!k) this.#fail(this.#q.length, 'unexpected end of input')
    if (k.name === 'AtModifierPreprocessors')
      return k.firstChild?.name === 'AtStart' ? { kind: 'start' } : { kind: 'end' }
    const secs = this.#number(k)
    if (!Number.isFinite(secs) || Math.abs(secs) >= 9.2e15)
      this.#fail(k.from, `timestamp out of bounds for @ modifier: ${secs}`)
    return { kind: 'time', millis: Math.round(secs * 1000) }
  }

  #unary(n: Node): Expr {
    const [opNode, inner] = this.#children(n)
    const op = this.#text(opNode!) === '-' ? '-' : '+'
    const e = this.#expr(inner!)
    const t = typeOf(e)
    if (t !== 'scalar' && t !== 'vector')
      this.#fail(n.from, 'unary expression only allowed on expressions of type scalar or instant vector')
    if (e.type === 'number') return { type: 'number', value: op === '-' ? -e.value : e.value, pos: this.#pos(n) }
    return { type: 'unary', op, expr: e, pos: this.#pos(n) }
  }

  #binary(n: Node): Expr {
    const kids = this.#children(n)
    const lhsNode = kids[0]!
    const rhsNode = kids[kids.length - 1]!
    const opNode = kids[1]!
    const op = BIN_OPS[opNode.name]
    if (!op) this.#fail(opNode.from, `unexpected ${JSON.stringify(this.#text(opNode))}`)
    let returnBool = false
    let on = false
    let labels: string[] = []
    let include: string[] = []
    let card: VectorMatching['card'] = 'one-to-one'
    let hasClause = false
    for (const c of kids.slice(2, -1)) {
      if (c.name === 'BoolModifier') returnBool = true
      else if (c.name === 'MatchingModifierClause') {
        hasClause = true
        for (const m of this.#children(c)) {
          if (m.name === 'On') on = true
          else if (m.name === 'GroupLeft') card = 'many-to-one'
          else if (m.name === 'GroupRight') card = 'one-to-many'
          else if (m.name === 'GroupingLabels') {
            if (card === 'one-to-one') labels = this.#grouping(m)
            else include = this.#grouping(m)
          }
        }
      } else this.#fail(c.from, `unexpected ${JSON.stringify(this.#text(c))}`)
    }
    let lhs = this.#expr(lhsNode)
    const rhs = this.#expr(rhsNode)
    // Prometheus binds a unary minus looser than `^`: `-1 ^ 2` is `-(1 ^ 2)`; lezer reads a signed literal.
    const lhsText = this.#text(lhsNode)
    if (op === '^' && lhsNode.name === 'NumberDurationLiteral' && /^[+-]/.test(lhsText) && lhs.type === 'number') {
      const sign = lhsText[0] === '-' ? '-' : '+'
      lhs = { type: 'number', value: Math.abs(lhs.value), pos: { start: lhs.pos.start + 1, end: lhs.pos.end } }
      const pow: Expr = { type: 'binary', op, lhs, rhs, returnBool, matching: undefined, pos: this.#pos(n) }
      this.#checkBinary(pow, n, hasClause)
      return { type: 'unary', op: sign, expr: pow, pos: this.#pos(n) }
    }
    if (isSetOp(op) && card === 'one-to-one') card = 'many-to-many'
    const lt = typeOf(lhs)
    const rt = typeOf(rhs)
    const matching: VectorMatching | undefined =
      lt === 'vector' && rt === 'vector' ? { card, on, labels, include } : undefined
    const e: Expr = { type: 'binary', op, lhs, rhs, returnBool, matching, pos: this.#pos(n) }
    this.#checkBinary(e, n, hasClause)
    if (on)
      for (const l of labels)
        if (include.includes(l))
          this.#fail(opNode.from, `label ${JSON.stringify(l)} must not occur in ON and GROUP clause at once`)
    if (matching && isSetOp(op) && (card === 'many-to-one' || card === 'one-to-many'))
      this.#fail(n.from, `no grouping allowed for ${JSON.stringify(op)} operation`)
    return e
  }

  #checkBinary(e: Expr & { type: 'binary' }, n: Node, hasClause: boolean): void {
    const lt = typeOf(e.lhs)
    const rt = typeOf(e.rhs)
    if (e.returnBool && !isComparisonOp(e.op))
      this.#fail(n.from, 'bool modifier can only be used on comparison operators')
    if (isComparisonOp(e.op) && !e.returnBool && lt === 'scalar' && rt === 'scalar')
      this.#fail(n.from, 'comparisons between scalars must use BOOL modifier')
    if (lt !== 'scalar' && lt !== 'vector')
      this.#fail(e.lhs.pos.start, 'binary expression must contain only scalar and instant vector types')
    if (rt !== 'scalar' && rt !== 'vector')
      this.#fail(e.rhs.pos.start, 'binary expression must contain only scalar and instant vector types')
    if ((lt !== 'vector' || rt !== 'vector') && hasClause)
      this.#fail(n.from, 'vector matching only allowed between instant vectors')
    if ((lt === 'scalar' || rt === 'scalar') && isSetOp(e.op))
      this.#fail(n.from, `set operator ${JSON.stringify(e.op)} not allowed in binary scalar expression`)
  }

  #grouping(n: Node): string[] {
    return this.#children(n)
      .filter((c) => c.name === 'LabelName' || c.name === 'QuotedLabelName')
      .map((c) => (c.name === 'LabelName' ? this.#text(c) : this.#string(c.firstChild!)))
  }

  #args(body: Node): Expr[] {
    return this.#children(body)
      .filter((c) => c.name !== '(' && c.name !== ')' && c.name !== ',')
      .map((c) => this.#expr(c))
  }

  #aggregate(n: Node): Expr {
    let op: AggregateOp | undefined
    let grouping: string[] = []
    let without = false
    let args: Expr[] = []
    for (const c of this.#children(n)) {
      if (c.name === 'AggregateOp') {
        op = AGG_OPS[c.firstChild?.name ?? '']
        if (!op) this.#fail(c.from, `unknown function with name ${JSON.stringify(this.#text(c))}`)
      } else if (c.name === 'AggregateModifier') {
        without = c.firstChild?.name === 'Without'
        const g = this.#children(c).find((x) => x.name === 'GroupingLabels')
        grouping = g ? this.#grouping(g) : []
      } else if (c.name === 'FunctionCallBody') args = this.#args(c)
    }
    if (!op) this.#fail(n.from, 'unexpected aggregation')
    if (args.length === 0) this.#fail(n.from, 'no arguments for aggregate expression provided')
    const withParam = op === 'topk' || op === 'bottomk' || op === 'quantile' || op === 'count_values'
    const want = withParam ? 2 : 1
    if (args.length !== want)
      this.#fail(
        n.from,
        `wrong number of arguments for aggregate expression provided, expected ${want}, got ${args.length}`,
      )
    const expr = args[want - 1]!
    const param = withParam ? args[0] : undefined
    this.#expectType(expr, 'vector', 'aggregation expression')
    if (param) this.#expectType(param, op === 'count_values' ? 'string' : 'scalar', 'aggregation parameter')
    return { type: 'aggregate', op, expr, param, grouping, without, pos: this.#pos(n) }
  }

  #call(n: Node): Expr {
    const [idNode, body] = this.#children(n)
    const name = this.#text(idNode!)
    const def = FUNCTIONS.get(name)
    if (!def) this.#fail(n.from, `unknown function with name ${JSON.stringify(name)}`)
    const args = this.#args(body!)
    const nargs = def.argTypes.length
    if (def.variadic === 0) {
      if (nargs !== args.length)
        this.#fail(n.from, `expected ${nargs} argument(s) in call to ${JSON.stringify(name)}, got ${args.length}`)
    } else {
      const min = nargs - 1
      if (min > args.length)
        this.#fail(
          n.from,
          `expected at least ${min} argument(s) in call to ${JSON.stringify(name)}, got ${args.length}`,
        )
      if (def.variadic > 0 && min + def.variadic < args.length) {
        this.#fail(
          n.from,
          `expected at most ${min + def.variadic} argument(s) in call to ${JSON.stringify(name)}, got ${args.length}`,
        )
      }
    }
    args.forEach((a, i) => {
      const t = def.argTypes[Math.min(i, nargs - 1)]
      if (t !== undefined) this.#expectType(a, t, `call to function ${JSON.stringify(name)}`)
    })
    return { type: 'call', func: name, args, pos: this.#pos(n) }
  }
}
