import { describe, expect, it } from 'vitest'
import { parsePromql } from '../../../collector/src/promql/parse.ts'
import { isPromqlError } from '../../../collector/src/promql/errors.ts'
import { engineOver, scalarOf } from './fixtures.ts'

const engine = engineOver([])
const scalar = async (q: string): Promise<number> => scalarOf(await engine.instantQuery(q, 0))

function parseErr(q: string): string {
  try {
    parsePromql(q)
  } catch (err) {
    expect(isPromqlError(err)).toBe(true)
    if (isPromqlError(err)) expect(err.errorType).toBe('bad_data')
    return (err as Error).message
  }
  throw new Error(`${q} parsed`)
}

describe('PromQL precedence and associativity', () => {
  it('binds ^ tighter than * and +, and ^ to the right', async () => {
    // 3 ^ 2 ^ 2 = 3 ^ 4 = 81 (right-associative), then 2 * 81 + 1.
    expect(await scalar('1 + 2 * 3 ^ 2 ^ 2')).toBe(163)
    expect(await scalar('2 ^ 3 ^ 2')).toBe(512)
  })
  it('binds unary minus looser than ^, as Prometheus: -1 ^ 2 is -(1 ^ 2)', async () => {
    expect(await scalar('-1 ^ 2')).toBe(-1)
    expect(await scalar('-2 ^ 2')).toBe(-4)
    expect(await scalar('2 ^ -1')).toBe(0.5)
    expect(await scalar('(-2) ^ 2')).toBe(4)
    expect(await scalar('-1 + 2')).toBe(1)
  })
  it('evaluates * / % left to right and comparisons with bool', async () => {
    expect(await scalar('2 * 3 % 2')).toBe(0)
    expect(await scalar('8 / 2 / 2')).toBe(2)
    expect(await scalar('1 + 1 == bool 2')).toBe(1)
    expect(await scalar('5 % 3 - 7 / 7 * 2')).toBe(0)
    expect(await scalar('2 atan2 0')).toBeCloseTo(Math.PI / 2, 12)
  })
  it('reads numbers as Prometheus 2.x does: hex, exponent, Inf, NaN, and the octal quirk', async () => {
    expect(await scalar('0x1F')).toBe(31)
    expect(await scalar('1e3')).toBe(1000)
    expect(await scalar('010')).toBe(8)
    expect(await scalar('-Inf')).toBe(-Infinity)
    expect(Number.isNaN(await scalar('NaN'))).toBe(true)
  })
})

describe('PromQL syntax', () => {
  it('builds selectors with every matcher, offsets and @', () => {
    const e = parsePromql(
      'http_requests_total{job="api", code!="500", path=~"/a.*", method!~"GET|PUT"} offset -5m @ 100.5',
    )
    expect(e).toMatchObject({
      type: 'vectorSelector',
      name: 'http_requests_total',
      offset: -300_000,
      at: { kind: 'time', millis: 100_500 },
    })
    if (e.type !== 'vectorSelector') throw new Error('not a selector')
    expect(e.matchers).toContainEqual({ name: '__name__', type: '=', value: 'http_requests_total' })
    expect(e.matchers).toContainEqual({ name: 'method', type: '!~', value: 'GET|PUT' })
  })
  it('reads a quoted UTF-8 metric name and quoted label names', () => {
    const e = parsePromql('{"http.server.duration", "service.name"="cart"}')
    if (e.type !== 'vectorSelector') throw new Error('not a selector')
    expect(e.matchers).toContainEqual({ name: '__name__', type: '=', value: 'http.server.duration' })
    expect(e.matchers).toContainEqual({ name: 'service.name', type: '=', value: 'cart' })
  })
  it('sets offset and @ written after a range on the selector, and reads subqueries', () => {
    expect(parsePromql('rate(x[5m] offset 1h @ end())')).toMatchObject({
      type: 'call',
      args: [{ type: 'matrixSelector', range: 300_000, selector: { offset: 3_600_000, at: { kind: 'end' } } }],
    })
    expect(parsePromql('max_over_time(rate(x[1m])[1h:5m] offset 2m)')).toMatchObject({
      args: [{ type: 'subquery', range: 3_600_000, step: 300_000, offset: 120_000 }],
    })
    expect(parsePromql('x[1h30m:]')).toMatchObject({ type: 'subquery', range: 5_400_000, step: 0 })
  })
  it('binds offset, @, ranges and subqueries to the operand just before them, as Prometheus', () => {
    expect(parsePromql('a + b offset 5m')).toMatchObject({
      type: 'binary',
      lhs: { name: 'a', offset: 0 },
      rhs: { name: 'b', offset: 300_000 },
    })
    expect(parsePromql('a * b @ 5')).toMatchObject({
      type: 'binary',
      lhs: { name: 'a', at: undefined },
      rhs: { name: 'b', at: { kind: 'time', millis: 5000 } },
    })
    expect(parsePromql('-x offset 5m')).toMatchObject({ type: 'unary', op: '-', expr: { name: 'x', offset: 300_000 } })
    expect(parseErr('a + b[5m]')).toBe(
      '1:5: parse error: binary expression must contain only scalar and instant vector types',
    )
    expect(parseErr('(a + b) offset 5m')).toBe(
      '1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery',
    )
  })
  it('skips comments', () => {
    expect(parsePromql('a # the left side\n + 1')).toMatchObject({ type: 'binary', op: '+' })
  })
  it('unquotes strings with Go escapes and raw backticks', () => {
    expect(parsePromql('"a\\tb\\u00e9\\x41"')).toMatchObject({ type: 'string', value: 'a\tbéA' })
    expect(parsePromql("'it\\'s'")).toMatchObject({ value: "it's" })
    expect(parsePromql('`a\\d+`')).toMatchObject({ value: 'a\\d+' })
  })
  it('reads aggregation modifiers before or after the arguments', () => {
    expect(parsePromql('sum by (a, b) (x)')).toMatchObject({
      type: 'aggregate',
      op: 'sum',
      grouping: ['a', 'b'],
      without: false,
    })
    expect(parsePromql('topk(3, x) without (c)')).toMatchObject({
      op: 'topk',
      param: { type: 'number', value: 3 },
      grouping: ['c'],
      without: true,
    })
  })
  it('reads vector matching modifiers', () => {
    expect(parsePromql('a * on(x) group_left(y) b')).toMatchObject({
      matching: { card: 'many-to-one', on: true, labels: ['x'], include: ['y'] },
    })
    expect(parsePromql('a > bool ignoring(x) group_right b')).toMatchObject({
      returnBool: true,
      matching: { card: 'one-to-many', on: false, labels: ['x'] },
    })
    expect(parsePromql('a and b')).toMatchObject({ matching: { card: 'many-to-many' } })
  })
})

describe('PromQL parse errors', () => {
  it('gives the line and column of the failure, as Prometheus does', () => {
    expect(parseErr('foo bar')).toBe('1:5: parse error: unexpected identifier "bar"')
    expect(parseErr('sum(x) +')).toBe('1:9: parse error: unexpected end of input')
    expect(parseErr('foo{a="b"\n, c=}')).toMatch(/^2:/)
    expect(parseErr('')).toBe('1:1: parse error: no expression found in input')
  })
  it('names an unknown function', () => {
    expect(parseErr('nonexistent(x)')).toBe('1:1: parse error: unknown function with name "nonexistent"')
    // Functions newer than Prometheus 2.x are unknown too.
    expect(parseErr('mad_over_time(x[5m])')).toBe('1:1: parse error: unknown function with name "mad_over_time"')
  })
  it('checks types as Prometheus does', () => {
    expect(parseErr('rate(x)')).toBe(
      '1:6: parse error: expected type range vector in call to function "rate", got instant vector',
    )
    expect(parseErr('abs(x[5m])')).toBe(
      '1:5: parse error: expected type instant vector in call to function "abs", got range vector',
    )
    expect(parseErr('sum(x[5m])')).toBe(
      '1:5: parse error: expected type instant vector in aggregation expression, got range vector',
    )
    expect(parseErr('topk("a", x)')).toBe('1:6: parse error: expected type scalar in aggregation parameter, got string')
    expect(parseErr('round()')).toBe('1:1: parse error: expected at least 1 argument(s) in call to "round", got 0')
    expect(parseErr('round(x, 1, 2)')).toBe(
      '1:1: parse error: expected at most 2 argument(s) in call to "round", got 3',
    )
    expect(parseErr('time(1)')).toBe('1:1: parse error: expected 0 argument(s) in call to "time", got 1')
    expect(parseErr('x[5m] + 1')).toBe(
      '1:1: parse error: binary expression must contain only scalar and instant vector types',
    )
    expect(parseErr('1 > 2')).toBe('1:1: parse error: comparisons between scalars must use BOOL modifier')
    expect(parseErr('x + bool y')).toBe('1:1: parse error: bool modifier can only be used on comparison operators')
    expect(parseErr('1 + on(a) x')).toBe('1:1: parse error: vector matching only allowed between instant vectors')
    expect(parseErr('x and 1')).toBe('1:1: parse error: set operator "and" not allowed in binary scalar expression')
    expect(parseErr('a and on(x) group_left b')).toBe('1:1: parse error: no grouping allowed for "and" operation')
    expect(parseErr('-"a"')).toBe(
      '1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector',
    )
    expect(parseErr('sum(x)[5m]')).toBe('1:1: parse error: ranges only allowed for vector selectors')
    expect(parseErr('x[5m][1h:]')).toBe(
      '1:1: parse error: subquery is only allowed on instant vector, got range vector in "x[5m][1h:]" instead',
    )
    expect(parseErr('sum(x) offset 5m')).toBe(
      '1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery',
    )
    expect(parseErr('x offset 5m offset 1m')).toBe('1:1: parse error: offset may not be set multiple times')
    expect(parseErr('{}')).toBe('1:1: parse error: vector selector must contain at least one non-empty matcher')
    expect(parseErr('{a=~".*"}')).toBe('1:1: parse error: vector selector must contain at least one non-empty matcher')
    expect(parseErr('foo{__name__="bar"}')).toBe('1:1: parse error: metric name must not be set twice: "foo" or "bar"')
    expect(parseErr('count_values(1, x)')).toBe(
      '1:14: parse error: expected type string in aggregation parameter, got scalar',
    )
    expect(parseErr('sum(a, b)')).toBe(
      '1:1: parse error: wrong number of arguments for aggregate expression provided, expected 1, got 2',
    )
  })
  it('refuses a bad regular expression and an unterminated string', () => {
    expect(parseErr('x{a=~"("}')).toMatch(/^1:6: parse error: error parsing regexp/)
    expect(parseErr('x{a="b}')).toMatch(/^1:/)
  })
})
