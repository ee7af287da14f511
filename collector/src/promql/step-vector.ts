/**
 * The evaluator's values, columnar over the steps of an evaluation grid: an instant vector
 * is a list of rows, each one series' values at every step (`Float64Array`) plus a
 * presence mask (`Uint8Array`), never one object per sample. A range vector is the raw
 * points of each series plus the window every step reads.
 *
 *   steps  t0   t1   t2   t3        row.values  [v0, v1, NaN, v3]
 *   row    ●    ●    ·    ●         row.present [1,  1,  0,   1 ]
 */
import type { Labels } from './querier.ts'
import { executionError } from './errors.ts'
import { labelsKey } from './labels.ts'

/** The times a node is evaluated at: `start + k·step` for `k < n` (step 0 when n is 1). */
export interface Grid {
  readonly start: number
  readonly step: number
  readonly n: number
}

/** One series of an instant vector over the grid. */
export interface Row {
  readonly labels: Labels
  readonly values: Float64Array
  readonly present: Uint8Array
}

export interface VectorValue {
  readonly kind: 'vector'
  readonly rows: Row[]
}
export interface ScalarValue {
  readonly kind: 'scalar'
  readonly values: Float64Array
}
export interface StringValue {
  readonly kind: 'string'
  readonly value: string
}

/** Points of one series, stale markers already removed, sorted by time. */
export interface RangeSeries {
  readonly labels: Labels
  readonly ts: Float64Array
  readonly values: Float64Array
}

/**
 * A range vector as its consumers read it: at step k the window is
 * `[ends[k] - range, ends[k]]`, closed on both sides as in Prometheus 2.x.
 */
export interface RangeValue {
  readonly kind: 'matrix'
  readonly series: RangeSeries[]
  readonly range: number
  readonly ends: Float64Array
}

/** Any value a node evaluates to. */
export type Value = VectorValue | ScalarValue | StringValue | RangeValue

/** The time of step k. */
export function stepTime(g: Grid, k: number): number {
  return g.start + k * g.step
}

/** A new empty row over n steps. */
export function newRow(labels: Labels, n: number): Row {
  return { labels, values: new Float64Array(n).fill(NaN), present: new Uint8Array(n) }
}

/** Samples present in a vector (what counts against the samples limit). */
export function countSamples(rows: readonly Row[]): number {
  let c = 0
  for (const r of rows) {
    const p = r.present
    for (let k = 0; k < p.length; k++) c += p[k]!
  }
  return c
}

/** True when the row has a sample at some step. */
export function hasAny(r: Row): boolean {
  const p = r.present
  for (let k = 0; k < p.length; k++) if (p[k] === 1) return true
  return false
}

/**
 * Merges rows that carry the same label set into one, as Prometheus merges the steps of a
 * range evaluation by labels; two of them present at the same step is Prometheus' error.
 * Rows with no sample at all are dropped.
 */
export function mergeSameLabels(rows: readonly Row[]): Row[] {
  const byKey = new Map<string, Row>()
  const out: Row[] = []
  for (const r of rows) {
    if (!hasAny(r)) continue
    const key = labelsKey(r.labels)
    const first = byKey.get(key)
    if (first === undefined) {
      byKey.set(key, r)
      out.push(r)
      continue
    }
    const n = r.present.length
    for (let k = 0; k < n; k++) {
      if (r.present[k] !== 1) continue
      if (first.present[k] === 1) throw executionError('vector cannot contain metrics with the same labelset')
      first.present[k] = 1
      first.values[k] = r.values[k]!
    }
  }
  return out
}

/** A scalar value filled with one number. */
export function constScalar(v: number, n: number): ScalarValue {
  return { kind: 'scalar', values: new Float64Array(n).fill(v) }
}

/** Repeats the single step of a value (evaluated at one time, for `@`) over n steps. */
export function broadcast(v: Value, n: number): Value {
  if (n === 1) return v
  switch (v.kind) {
    case 'scalar':
      return constScalar(v.values[0]!, n)
    case 'string':
      return v
    case 'vector':
      return {
        kind: 'vector',
        rows: v.rows.map((r) => ({
          labels: r.labels,
          values: new Float64Array(n).fill(r.values[0]!),
          present: new Uint8Array(n).fill(r.present[0]!),
        })),
      }
    case 'matrix':
      return { kind: 'matrix', series: v.series, range: v.range, ends: new Float64Array(n).fill(v.ends[0]!) }
  }
}
