/**
 * Aggregation operators over columnar vectors, with Prometheus 2.x's arithmetic: each step
 * folds the group's series in input order (sum adds, avg keeps an incremental mean with its
 * infinity rules, stddev/stdvar use Welford, min/max let any number replace a NaN), topk and
 * bottomk replay Go's heap so ties and NaN fall as in Prometheus.
 */
import type { AggregateOp } from './ast.ts'
import type { Labels } from './querier.ts'
import { type Row, mergeSameLabels, newRow } from './step-vector.ts'
import { NAME, labelsKey } from './labels.ts'
import { executionError } from './errors.ts'
import { quantileOf } from './quantile.ts'
import { formatFloat } from './literals.ts'
import { isValidLabelName } from './label-functions.ts'

/** The grouping of an aggregation. */
export interface Grouping {
  readonly labels: readonly string[]
  readonly without: boolean
}

/** The labels of the group a series falls in. */
export function groupLabels(l: Labels, g: Grouping): Labels {
  const out: Record<string, string> = {}
  if (g.without) {
    const drop = new Set(g.labels)
    for (const [n, v] of Object.entries(l)) if (n !== NAME && !drop.has(n)) out[n] = v
  } else {
    for (const n of g.labels) {
      const v = l[n]
      if (v !== undefined && v !== '') out[n] = v
    }
  }
  return out
}

interface Group {
  readonly labels: Labels
  readonly members: Row[]
}

function groupRows(rows: readonly Row[], g: Grouping): Group[] {
  const map = new Map<string, Group>()
  const out: Group[] = []
  for (const r of rows) {
    const labels = groupLabels(r.labels, g)
    const key = labelsKey(labels)
    let grp = map.get(key)
    if (!grp) {
      grp = { labels, members: [] }
      map.set(key, grp)
      out.push(grp)
    }
    grp.members.push(r)
  }
  return out
}

/** sum, avg, min, max, count, group, stddev, stdvar. */
function simpleAggregate(op: AggregateOp, grp: Group, n: number): Row {
  const res = newRow(grp.labels, n)
  const value = res.values
  const count = new Float64Array(n)
  const mean = new Float64Array(n)
  for (const r of grp.members) {
    for (let k = 0; k < n; k++) {
      if (r.present[k] !== 1) continue
      const v = r.values[k]!
      if (count[k] === 0) {
        count[k] = 1
        mean[k] = v
        value[k] = op === 'stddev' || op === 'stdvar' ? 0 : op === 'group' ? 1 : v
        continue
      }
      switch (op) {
        case 'sum':
          value[k]! += v
          break
        case 'avg': {
          const c = ++count[k]!
          const m = mean[k]!
          if (m === Infinity || m === -Infinity) {
            if ((v === Infinity || v === -Infinity) && m > 0 === v > 0) break
            if (Number.isFinite(v)) break
          }
          mean[k] = m + (v / c - m / c)
          break
        }
        case 'max':
          if (value[k]! < v || Number.isNaN(value[k]!)) value[k] = v
          break
        case 'min':
          if (value[k]! > v || Number.isNaN(value[k]!)) value[k] = v
          break
        case 'stddev':
        case 'stdvar': {
          const c = ++count[k]!
          const delta = v - mean[k]!
          mean[k]! += delta / c
          value[k]! += delta * (v - mean[k]!)
          break
        }
        default:
          count[k]!++
      }
    }
  }
  for (let k = 0; k < n; k++) {
    if (count[k] === 0) continue
    res.present[k] = 1
    if (op === 'avg') value[k] = mean[k]!
    else if (op === 'count') value[k] = count[k]!
    else if (op === 'stdvar') value[k] = value[k]! / count[k]!
    else if (op === 'stddev') value[k] = Math.sqrt(value[k]! / count[k]!)
  }
  return res
}

type Less = (a: number, b: number) => boolean
// Go's container/heap sift-up and sift-down over an array of values with its member ids.
function heapUp(h: number[], ids: number[], j: number, less: Less): void {
  for (;;) {
    const i = Math.trunc((j - 1) / 2)
    if (i === j || !less(h[j]!, h[i]!)) break
    swap(h, ids, i, j)
    j = i
  }
}
function heapDown(h: number[], ids: number[], i0: number, n: number, less: Less): void {
  let i = i0
  for (;;) {
    const j1 = 2 * i + 1
    if (j1 >= n || j1 < 0) break
    let j = j1
    const j2 = j1 + 1
    if (j2 < n && less(h[j2]!, h[j1]!)) j = j2
    if (!less(h[j]!, h[i]!)) break
    swap(h, ids, i, j)
    i = j
  }
}
function swap(h: number[], ids: number[], i: number, j: number): void {
  const t = h[i]!
  h[i] = h[j]!
  h[j] = t
  const u = ids[i]!
  ids[i] = ids[j]!
  ids[j] = u
}

// NaN is the "smallest" for both heaps, so it is the first evicted.
const topLess: Less = (a, b) => Number.isNaN(a) || a < b
const bottomLess: Less = (a, b) => Number.isNaN(a) || a > b

/** The integer k of topk/bottomk at one step, as Prometheus converts it. */
function toK(f: number): number {
  if (!Number.isFinite(f) || f >= 9.223372036854776e18 || f < -9.223372036854776e18)
    throw executionError(`Scalar value ${formatFloat(f)} overflows int64`)
  return Math.trunc(f)
}

function topBottom(op: 'topk' | 'bottomk', groups: Group[], kParam: Float64Array, n: number): Row[] {
  const less = op === 'topk' ? topLess : bottomLess
  const out: Row[] = []
  for (const grp of groups) {
    const masks = grp.members.map((r) => newRow(r.labels, n))
    const h: number[] = []
    const ids: number[] = []
    for (let k = 0; k < n; k++) {
      const kk = toK(kParam[k]!)
      if (kk < 1) continue
      h.length = 0
      ids.length = 0
      for (let m = 0; m < grp.members.length; m++) {
        const r = grp.members[m]!
        if (r.present[k] !== 1) continue
        const v = r.values[k]!
        if (h.length === 0) {
          h.push(v)
          ids.push(m)
          continue
        }
        if (h.length < kk || (op === 'topk' ? h[0]! < v : h[0]! > v) || Number.isNaN(h[0]!)) {
          if (h.length === kk) {
            const last = h.length - 1
            swap(h, ids, 0, last)
            heapDown(h, ids, 0, last, less)
            h.pop()
            ids.pop()
          }
          h.push(v)
          ids.push(m)
          heapUp(h, ids, h.length - 1, less)
        }
      }
      for (const m of ids) {
        const row = masks[m]!
        row.present[k] = 1
        row.values[k] = grp.members[m]!.values[k]!
      }
    }
    const kept = masks.filter((r) => r.present.indexOf(1) >= 0)
    if (n === 1) {
      // Instant queries list each group's series from the best down, as Prometheus does.
      const sign = op === 'topk' ? -1 : 1
      kept.sort((a, b) => {
        const x = a.values[0]!
        const y = b.values[0]!
        if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) ? (Number.isNaN(y) ? 0 : 1) : -1
        return sign * (x - y)
      })
    }
    out.push(...kept)
  }
  return out
}

function countValues(rows: readonly Row[], g: Grouping, valueLabel: string, n: number): Row[] {
  if (!isValidLabelName(valueLabel)) throw executionError(`invalid label name ${JSON.stringify(valueLabel)}`)
  const grouping: Grouping = g.without ? g : { labels: [...g.labels, valueLabel], without: false }
  const outRows = new Map<string, Row>()
  const out: Row[] = []
  for (const r of rows) {
    for (let k = 0; k < n; k++) {
      if (r.present[k] !== 1) continue
      const labels = groupLabels({ ...r.labels, [valueLabel]: formatFloat(r.values[k]!) }, grouping)
      const key = labelsKey(labels)
      let row = outRows.get(key)
      if (!row) {
        row = newRow(labels, n)
        row.values.fill(0)
        outRows.set(key, row)
        out.push(row)
      }
      row.present[k] = 1
      row.values[k]!++
    }
  }
  for (const row of out) for (let k = 0; k < n; k++) if (row.present[k] !== 1) row.values[k] = NaN
  return out
}

/**
 * One aggregation over every step. `param` is k (topk/bottomk) or φ (quantile) per step,
 * or the label name of count_values.
 */
export function aggregate(
  op: AggregateOp,
  rows: readonly Row[],
  g: Grouping,
  param: Float64Array | string | undefined,
  n: number,
): Row[] {
  if (op === 'count_values') return countValues(rows, g, typeof param === 'string' ? param : '', n)
  const groups = groupRows(rows, g)
  if (op === 'topk' || op === 'bottomk') return mergeSameLabels(topBottom(op, groups, param as Float64Array, n))
  if (op === 'quantile') {
    const q = param as Float64Array
    const vals: number[] = []
    return groups.map((grp) => {
      const res = newRow(grp.labels, n)
      for (let k = 0; k < n; k++) {
        vals.length = 0
        for (const r of grp.members) if (r.present[k] === 1) vals.push(r.values[k]!)
        if (vals.length === 0) continue
        res.present[k] = 1
        res.values[k] = quantileOf(q[k]!, vals)
      }
      return res
    })
  }
  return groups.map((grp) => simpleAggregate(op, grp, n))
}
