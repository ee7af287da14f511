/**
 * A `Querier` over series held in memory: the engine's test double, shipped in the product
 * for users who embed the engine over their own data. Series are kept sorted by labels,
 * as a store hands them over.
 */
import type { LabelMatcher, Labels, Querier, RawSeries, SelectHints, SelectLimits } from './querier.ts'
import { compareLabels, compileMatcher, matchesAll } from './labels.ts'
import { PromqlError } from './errors.ts'

/** One series to load: labels and `[millis, value]` points; a `'stale'` value is a Prometheus stale marker. */
export interface MemorySeriesInput {
  readonly labels: Labels
  readonly points: readonly (readonly [number, number | 'stale'])[]
}

/** The `Querier` port over in-memory series. */
export class MemoryQuerier implements Querier {
  readonly #series: RawSeries[]

  /** Takes raw series (points sorted by time) or `{labels, points}` inputs. */
  constructor(series: readonly (RawSeries | MemorySeriesInput)[]) {
    this.#series = series.map(toRaw).sort((a, b) => compareLabels(a.labels, b.labels))
  }

  async select(
    matchers: readonly LabelMatcher[],
    hints: SelectHints,
    limits: SelectLimits,
    signal?: AbortSignal,
  ): Promise<RawSeries[]> {
    signal?.throwIfAborted()
    const out: RawSeries[] = []
    for (const s of this.#matching([matchers])) {
      const cut = slice(s, hints.start, hints.end)
      if (cut.ts.length === 0) continue
      out.push(cut)
      if (out.length > limits.maxSeries) {
        throw new PromqlError(
          'execution',
          `the selector matches more than ${limits.maxSeries} series (the most one selector may match)`,
        )
      }
    }
    return out
  }

  async series(
    matcherSets: readonly (readonly LabelMatcher[])[],
    start: number,
    end: number,
    limit: number,
  ): Promise<Labels[]> {
    const out: Labels[] = []
    for (const s of this.#matching(matcherSets)) {
      if (slice(s, start, end).ts.length === 0) continue
      out.push(s.labels)
      if (out.length >= limit) break
    }
    return out
  }

  async labelNames(
    matcherSets: readonly (readonly LabelMatcher[])[],
    start: number,
    end: number,
    limit: number,
  ): Promise<string[]> {
    const names = new Set<string>()
    for (const l of await this.series(matcherSets, start, end, Infinity)) for (const n of Object.keys(l)) names.add(n)
    return [...names].sort().slice(0, limit)
  }

  async labelValues(
    name: string,
    matcherSets: readonly (readonly LabelMatcher[])[],
    start: number,
    end: number,
    limit: number,
  ): Promise<string[]> {
    const values = new Set<string>()
    for (const l of await this.series(matcherSets, start, end, Infinity)) {
      const v = l[name]
      if (v !== undefined && v !== '') values.add(v)
    }
    return [...values].sort().slice(0, limit)
  }

  *#matching(matcherSets: readonly (readonly LabelMatcher[])[]): Generator<RawSeries> {
    const sets = matcherSets.map((ms) => ms.map(compileMatcher))
    for (const s of this.#series) {
      if (sets.length === 0 || sets.some((ms) => matchesAll(ms, s.labels))) yield s
    }
  }
}

function toRaw(s: RawSeries | MemorySeriesInput): RawSeries {
  if ('ts' in s) return s
  const n = s.points.length
  const ts = new Float64Array(n)
  const values = new Float64Array(n)
  let stale: Uint8Array | undefined
  for (let i = 0; i < n; i++) {
    const [t, v] = s.points[i]!
    ts[i] = t
    if (v === 'stale') {
      stale ??= new Uint8Array(n)
      stale[i] = 1
      values[i] = NaN
    } else {
      values[i] = v
    }
  }
  return stale ? { labels: s.labels, ts, values, stale } : { labels: s.labels, ts, values }
}

/** The points in `[start, end]`, as views without copying. */
function slice(s: RawSeries, start: number, end: number): RawSeries {
  const lo = lowerBound(s.ts, start)
  const hi = lowerBound(s.ts, end + 1)
  const cut: RawSeries = { labels: s.labels, ts: s.ts.subarray(lo, hi), values: s.values.subarray(lo, hi) }
  return s.stale ? { ...cut, stale: s.stale.subarray(lo, hi) } : cut
}

function lowerBound(a: Float64Array, x: number): number {
  let lo = 0
  let hi = a.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (a[mid]! < x) lo = mid + 1
    else hi = mid
  }
  return lo
}
