import { PromqlError } from '../promql/errors.ts'
import type { LabelMatcher, Labels } from '../promql/querier.ts'
import { compileAnchored } from '../promql/regex.ts'

/**
 * Prometheus label matchers as JS predicates, and the part of them SQL can check first.
 * Regular expressions are RE2 in Prometheus (Go) and in ClickHouse; in JS they are translated
 * by the engine's own `compileAnchored`, so a selector matches here as it does in the engine.
 */
export type Predicate = (value: string) => boolean

const cache = new Map<string, RegExp>()

/** The anchored JS RegExp of a Prometheus regex; a bad one is the client's error (bad_data). */
export function compileRegex(pattern: string): RegExp {
  const hit = cache.get(pattern)
  if (hit !== undefined) return hit
  let re: RegExp
  try {
    re = compileAnchored(pattern)
  } catch (err) {
    throw new PromqlError('bad_data', (err as Error).message)
  }
  if (cache.size > 1000) cache.clear()
  cache.set(pattern, re)
  return re
}

/** The predicate of one matcher over a label value ('' when the label is absent). */
export function matcherPredicate(m: LabelMatcher): Predicate {
  switch (m.type) {
    case '=':
      return (v) => v === m.value
    case '!=':
      return (v) => v !== m.value
    case '=~': {
      const re = compileRegex(m.value)
      return (v) => re.test(v)
    }
    case '!~': {
      const re = compileRegex(m.value)
      return (v) => !re.test(v)
    }
  }
}

/** Whether a label set satisfies every matcher. */
export function matchesAll(labels: Labels, matchers: readonly { name: string; test: Predicate }[]): boolean {
  for (const m of matchers) if (!m.test(labels[m.name] ?? '')) return false
  return true
}

/** Matchers with their predicates compiled once. */
export function compileMatchers(matchers: readonly LabelMatcher[]): { name: string; test: Predicate }[] {
  return matchers.map((m) => ({ name: m.name, test: matcherPredicate(m) }))
}

/** Whether the matcher matches a series that lacks its label (the empty value). */
export function matchesEmpty(m: LabelMatcher): boolean {
  return matcherPredicate(m)('')
}

/** A string literal for ClickHouse SQL: quotes and backslashes escaped. */
export function sqlString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
}

/**
 * A SQL condition on the series table every series matching `m` satisfies (a superset: the
 * exact match is done in JS after the name mapping), or undefined when there is none cheaper
 * than reading the row. Only matchers that need the label present are pushed down: its value
 * must then be one of the series' attribute values (labels other than `job` and `instance`
 * come from point attributes, under sanitized names).
 */
export function attributeCondition(m: LabelMatcher): string | undefined {
  if (m.name === '__name__' || m.name === 'job' || m.name === 'instance' || m.name === 'le' || m.name === 'quantile')
    return undefined
  if (matchesEmpty(m)) return undefined
  if (m.type === '=') return `has(mapValues(attributes), ${sqlString(m.value)})`
  if (m.type === '=~' && !/\(\?[a-zA-Z]/.test(m.value)) {
    return `arrayExists(v -> match(v, ${sqlString(`(?s)^(?:${m.value})$`)}), mapValues(attributes))`
  }
  return undefined
}
