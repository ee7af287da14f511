/**
 * Label-set helpers the evaluator uses everywhere: a canonical key per label set (label
 * sets are plain records), match signatures for `on`/`ignoring`, Prometheus' ordering of
 * label sets, and its `{a="b", c="d"}` rendering for error messages.
 */
import type { Labels, LabelMatcher } from './querier.ts'
import { compileAnchored } from './regex.ts'

/** The metric name label. */
export const NAME = '__name__'

// Separators that cannot appear in UTF-8 label text keep keys unambiguous.
const SEP_PAIR = '\u0000'
const SEP_KV = '\u0001'

/** Canonical key of a whole label set (sorted by name). */
export function labelsKey(l: Labels): string {
  const names = Object.keys(l).sort()
  let k = ''
  for (const n of names) k += n + SEP_KV + l[n] + SEP_PAIR
  return k
}

/** Key of the labels named in `names` (`on`), or of all but them and `__name__` (`ignoring`). Empty values count as absent. */
export function signature(l: Labels, on: boolean, names: readonly string[]): string {
  let k = ''
  if (on) {
    const sorted = [...names].sort()
    for (const n of sorted) {
      const v = l[n]
      if (v !== undefined && v !== '') k += n + SEP_KV + v + SEP_PAIR
    }
    return k
  }
  const skip = new Set(names)
  skip.add(NAME)
  for (const n of Object.keys(l).sort()) {
    if (skip.has(n)) continue
    const v = l[n]
    if (v !== undefined && v !== '') k += n + SEP_KV + v + SEP_PAIR
  }
  return k
}

/** The labels named in `names` (`on`) or all but them and `__name__`, as Prometheus' `MatchLabels`. */
export function matchLabels(l: Labels, on: boolean, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {}
  const set = new Set(names)
  for (const [n, v] of Object.entries(l)) {
    if (on ? set.has(n) : !set.has(n) && n !== NAME) out[n] = v
  }
  return out
}

/** The label set without `__name__`. */
export function dropName(l: Labels): Labels {
  if (!(NAME in l)) return l
  const out: Record<string, string> = {}
  for (const [n, v] of Object.entries(l)) if (n !== NAME) out[n] = v
  return out
}

/** Prometheus' `labels.Compare`: label by label in name order, names first, then values; a prefix sorts first. */
export function compareLabels(a: Labels, b: Labels): number {
  const an = Object.keys(a).sort()
  const bn = Object.keys(b).sort()
  const n = Math.min(an.length, bn.length)
  for (let i = 0; i < n; i++) {
    const x = an[i]!
    const y = bn[i]!
    if (x !== y) return x < y ? -1 : 1
    const xv = a[x]!
    const yv = b[y]!
    if (xv !== yv) return xv < yv ? -1 : 1
  }
  return an.length - bn.length
}

/**
 * Sorts series in place into Prometheus' storage order (`labels.Compare`), the order its engine
 * sees selected series in. The order decides ties that PromQL leaves to evaluation order (which
 * of two equal values `topk` keeps, which sample `count_values` meets first), so the store's own
 * order must not leak through. Keys are built once per series: `labelsKey` orders as
 * `compareLabels` does, its separators sorting below any label character.
 */
export function sortByLabels<T extends { readonly labels: Labels }>(series: T[]): T[] {
  if (series.length < 2) return series
  const keyed = series.map((s) => ({ s, k: labelsKey(s.labels) }))
  keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0))
  for (let i = 0; i < keyed.length; i++) series[i] = keyed[i]!.s
  return series
}

/** `{a="b", c="d"}`, as Prometheus prints label sets in messages. */
export function formatLabels(l: Labels): string {
  const parts = Object.keys(l)
    .sort()
    .map((n) => `${n}=${JSON.stringify(l[n])}`)
  return `{${parts.join(', ')}}`
}

/** A compiled matcher: true when the label set passes. */
export type CompiledMatcher = (l: Labels) => boolean

/** Compiles one matcher; a missing label matches as the empty string, as in Prometheus. */
export function compileMatcher(m: LabelMatcher): CompiledMatcher {
  const name = m.name
  const value = m.value
  switch (m.type) {
    case '=':
      return (l) => (l[name] ?? '') === value
    case '!=':
      return (l) => (l[name] ?? '') !== value
    case '=~': {
      const re = compileAnchored(value)
      return (l) => re.test(l[name] ?? '')
    }
    case '!~': {
      const re = compileAnchored(value)
      return (l) => !re.test(l[name] ?? '')
    }
  }
}

/** True when all matchers pass. */
export function matchesAll(matchers: readonly CompiledMatcher[], l: Labels): boolean {
  for (const m of matchers) if (!m(l)) return false
  return true
}
