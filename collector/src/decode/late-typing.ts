import type { MetricTypes } from '../model/metric-types.ts'
import { FAMILY_TYPE, guessedType, MetricFamilies, seriesTyping } from './remote-write-typing.ts'

/**
 * A remote-write series name whose type, guessed from the name alone, is not the type its
 * family's metadata declares: series of it stored before the metadata came carry the guess
 * and are to be re-typed (see store/series-retyping.ts).
 */
export interface LateTyping {
  /** The stored metric (series) name. */
  metric: string
  /** The type a guess gives the name (`guessedType`): what series stored on a guess carry. */
  guessed: 'sum' | 'gauge'
  /** The type the metadata declares. */
  declared: 'sum' | 'gauge'
  /** The family whose metadata declares it. */
  family: string
}

/**
 * The float series names a family of this type can have, as `seriesTyping` finds the family
 * from a series name: its own name (a counter, gauge, stateset or info family's series; a
 * summary's quantiles) and its name with each suffix the type gives series (a counter's
 * `_total`, a histogram's `_bucket`/`_count`/`_sum`...). A native histogram is stored under
 * the family's own name as an exponential histogram: never a sum or a gauge, left out.
 */
const SERIES_SUFFIXES: Partial<Record<number, readonly string[]>> = {
  [FAMILY_TYPE.COUNTER]: ['', '_total'],
  [FAMILY_TYPE.GAUGE]: [''],
  [FAMILY_TYPE.HISTOGRAM]: ['_bucket', '_count', '_sum'],
  [FAMILY_TYPE.GAUGEHISTOGRAM]: ['_bucket', '_gcount', '_gsum'],
  [FAMILY_TYPE.SUMMARY]: ['', '_count', '_sum'],
  [FAMILY_TYPE.INFO]: ['', '_info'],
  [FAMILY_TYPE.STATESET]: [''],
}

/**
 * The series names of families whose metadata just arrived (new or changed) that a guess
 * types otherwise than the metadata: a counter without `_total`, a gauge or gauge histogram
 * whose name ends as a counter's (`_count`, `_bucket`...). Only these can have been stored
 * with a wrong type, and only when their samples came before the metadata. A family of
 * unknown type declares nothing. Pure: the caller checks the store for series still carrying
 * the guess.
 */
export function lateTypings(stated: readonly { family: string; type: number }[]): LateTyping[] {
  const out: LateTyping[] = []
  const seen = new Set<string>()
  for (const { family, type } of stated) {
    // Typed as the remote write 1.0 decoder types the series once the metadata is known.
    const only = new MetricFamilies(1)
    only.set(family, { type, help: '', unit: '' })
    for (const suffix of SERIES_SUFFIXES[type] ?? []) {
      const metric = family + suffix
      if (seen.has(metric)) continue
      const declared = seriesTyping(metric, only).type
      const guessed = guessedType(metric)
      if (declared === guessed) continue
      seen.add(metric)
      out.push({ metric, guessed, declared, family })
    }
  }
  return out
}

/**
 * Makes the metric types samples yield to say what the metadata declares, before the stored
 * series are re-typed: a sample decoded from now on is stored as the declared type. A name
 * whose known type is neither unknown, the guess nor the declared type keeps it (a type a
 * sender stated, a histogram stored under that name: metadata of another family never
 * changes them) and is left out. Returns the typings kept: those whose stored series may
 * still carry the guess.
 */
export function declareTypes(typings: readonly LateTyping[], types: MetricTypes): LateTyping[] {
  const kept: LateTyping[] = []
  for (const t of typings) {
    const known = types.get(t.metric)
    if (known !== undefined && known !== t.guessed && known !== t.declared) continue
    types.declare(t.metric, t.declared)
    kept.push(t)
  }
  return kept
}
