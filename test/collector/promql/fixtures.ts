import { MemoryQuerier, type MemorySeriesInput } from '../../../collector/src/promql/memory-querier.ts'
import { PromqlEngine, type QueryData } from '../../../collector/src/promql/engine.ts'

/** `[millis, value]` points every `stepMillis` from `startMillis`, value from `f(i)`. */
export function series(
  labels: Record<string, string>,
  n: number,
  f: (i: number) => number | 'stale' | undefined,
  stepMillis = 15_000,
  startMillis = 0,
): MemorySeriesInput {
  const points: [number, number | 'stale'][] = []
  for (let i = 0; i < n; i++) {
    const v = f(i)
    if (v !== undefined) points.push([startMillis + i * stepMillis, v])
  }
  return { labels, points }
}

/** An engine over the given series with generous limits. */
export function engineOver(
  input: readonly MemorySeriesInput[],
  opts: Partial<{ maxSamples: number; lookbackDeltaMillis: number }> = {},
): PromqlEngine {
  return new PromqlEngine(new MemoryQuerier(input), {
    maxSamples: opts.maxSamples ?? 1e7,
    maxSeries: 1e5,
    timeoutMillis: 30_000,
    ...(opts.lookbackDeltaMillis ? { lookbackDeltaMillis: opts.lookbackDeltaMillis } : {}),
  })
}

/** The vector of an instant query as `labels → value` (labels rendered `{a="b"}`, sorted), for order-free checks. */
export function asMap(d: QueryData): Record<string, number> {
  if (d.resultType !== 'vector') throw new Error(`expected a vector, got ${d.resultType}`)
  const out: Record<string, number> = {}
  for (const s of d.result) out[render(s.metric)] = num(s.value[1])
  return out
}

/** Labels as `{a="b",c="d"}`, names sorted. */
export function render(l: Record<string, string>): string {
  return (
    '{' +
    Object.keys(l)
      .sort()
      .map((k) => `${k}="${l[k]}"`)
      .join(',') +
    '}'
  )
}

/** The value of a scalar answer. */
export function scalarOf(d: QueryData): number {
  if (d.resultType !== 'scalar') throw new Error(`expected a scalar, got ${d.resultType}`)
  return num(d.result[1])
}

/** A range query's matrix as `labels → [[seconds, value]…]`. */
export function matrixOf(d: QueryData): Record<string, [number, number][]> {
  if (d.resultType !== 'matrix') throw new Error(`expected a matrix, got ${d.resultType}`)
  const out: Record<string, [number, number][]> = {}
  for (const s of d.result) out[render(s.metric)] = s.values.map(([t, v]) => [t, num(v)])
  return out
}

/** A value string of the API as a number ("+Inf", "-Inf", "NaN" included). */
export function num(s: string): number {
  return s === '+Inf' ? Infinity : s === '-Inf' ? -Infinity : Number(s)
}
