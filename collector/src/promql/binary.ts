/**
 * Binary operators over columnar values, with Prometheus 2.x's matching rules:
 * arithmetic and comparisons between vectors match series by signature (`on`/`ignoring`),
 * the "one" side of a match group must be unique at each step, `group_left/right` copies
 * `include` labels from the one side; `and`/`or`/`unless` filter by signature presence.
 */
import type { BinaryOp, VectorMatching } from './ast.ts'
import { isComparisonOp } from './ast.ts'
import type { Labels } from './querier.ts'
import { type Row, mergeSameLabels, newRow } from './step-vector.ts'
import { NAME, dropName, formatLabels, labelsKey, matchLabels, signature } from './labels.ts'
import { executionError } from './errors.ts'

/** Go's `math.Pow`: unlike JS, `1 ** NaN` and `(-1) ** ±Inf` are 1. */
export function goPow(x: number, y: number): number {
  if (y === 0 || x === 1) return 1
  if (x === -1 && (y === Infinity || y === -Infinity)) return 1
  return x ** y
}

function arith(op: BinaryOp, l: number, r: number): number {
  switch (op) {
    case '+':
      return l + r
    case '-':
      return l - r
    case '*':
      return l * r
    case '/':
      return l / r
    case '%':
      return l % r
    case '^':
      return goPow(l, r)
    case 'atan2':
      return Math.atan2(l, r)
    default:
      return NaN
  }
}

function compare(op: BinaryOp, l: number, r: number): boolean {
  switch (op) {
    case '==':
      return l === r
    case '!=':
      return l !== r
    case '>':
      return l > r
    case '<':
      return l < r
    case '>=':
      return l >= r
    default:
      return l <= r
  }
}

/** Two scalars: arithmetic, or a comparison answering 1 or 0 (the parser demands `bool`). */
export function scalarBinop(op: BinaryOp, l: number, r: number): number {
  return isComparisonOp(op) ? (compare(op, l, r) ? 1 : 0) : arith(op, l, r)
}

/** True for the operators whose result loses the metric name. */
export function dropsName(op: BinaryOp): boolean {
  return op === '+' || op === '-' || op === '*' || op === '/' || op === '%' || op === '^' || op === 'atan2'
}

/** Vector and scalar (`swap` when the scalar is on the left). Comparisons keep the vector's value. */
export function vectorScalarBinop(
  op: BinaryOp,
  rows: readonly Row[],
  scalar: Float64Array,
  swap: boolean,
  returnBool: boolean,
): Row[] {
  const cmp = isComparisonOp(op)
  const drop = dropsName(op) || returnBool
  const out: Row[] = []
  for (const r of rows) {
    const n = r.values.length
    const res = newRow(drop ? dropName(r.labels) : r.labels, n)
    for (let k = 0; k < n; k++) {
      if (r.present[k] !== 1) continue
      const v = r.values[k]!
      const s = scalar[k]!
      if (cmp) {
        const keep = swap ? compare(op, s, v) : compare(op, v, s)
        if (returnBool) {
          res.present[k] = 1
          res.values[k] = keep ? 1 : 0
        } else if (keep) {
          res.present[k] = 1
          res.values[k] = v
        }
      } else {
        res.present[k] = 1
        res.values[k] = swap ? arith(op, s, v) : arith(op, v, s)
      }
    }
    out.push(res)
  }
  return mergeSameLabels(out)
}

// Labels of a matched pair's result, as Prometheus' `resultMetric`.
function resultLabels(many: Labels, one: Labels, op: BinaryOp, m: VectorMatching): Labels {
  const out: Record<string, string> = { ...many }
  if (dropsName(op)) delete out[NAME]
  if (m.card === 'one-to-one') {
    if (m.on) {
      const keep = new Set(m.labels)
      for (const n of Object.keys(out)) if (!keep.has(n)) delete out[n]
    } else {
      for (const n of m.labels) delete out[n]
    }
  }
  for (const n of m.include) {
    const v = one[n]
    if (v !== undefined && v !== '') out[n] = v
    else delete out[n]
  }
  return out
}

// Throws `message` when two rows of one group are present at the same step.
function checkUnique(groups: Iterable<Row[]>, message: string): void {
  for (const rows of groups) {
    if (rows.length < 2) continue
    const n = rows[0]!.present.length
    for (let k = 0; k < n; k++) {
      let c = 0
      for (const r of rows) c += r.present[k]!
      if (c > 1) throw executionError(message)
    }
  }
}

/** Arithmetic or comparison between two instant vectors. */
export function vectorBinop(
  op: BinaryOp,
  lhs: readonly Row[],
  rhs: readonly Row[],
  m: VectorMatching,
  returnBool: boolean,
): Row[] {
  const swapped = m.card === 'one-to-many'
  const many = swapped ? rhs : lhs
  const one = swapped ? lhs : rhs
  const cmp = isComparisonOp(op)
  // The "one" side, grouped by signature, must hold one series per group at each step.
  const oneGroups = new Map<string, number[]>()
  for (let j = 0; j < one.length; j++) {
    const sig = signature(one[j]!.labels, m.on, m.labels)
    const g = oneGroups.get(sig)
    if (g) g.push(j)
    else oneGroups.set(sig, [j])
  }
  for (const g of oneGroups.values()) {
    if (g.length < 2) continue
    const n = one[g[0]!]!.present.length
    for (let k = 0; k < n; k++) {
      let seen = -1
      for (const j of g) {
        if (one[j]!.present[k] !== 1) continue
        if (seen >= 0) {
          const rs = one[j]!.labels
          const dup = one[seen]!.labels
          throw executionError(
            `found duplicate series for the match group ${formatLabels(matchLabels(rs, m.on, m.labels))} on the ${swapped ? 'left' : 'right'} hand-side of the operation: ` +
              `[${formatLabels(rs)}, ${formatLabels(dup)}];many-to-many matching not allowed: matching labels must be unique on one side`,
          )
        }
        seen = j
      }
    }
  }
  const out: Row[] = []
  const bySig = new Map<string, Row[]>()
  for (let i = 0; i < many.length; i++) {
    const ls = many[i]!
    const sig = signature(ls.labels, m.on, m.labels)
    const group = oneGroups.get(sig)
    if (!group) continue
    const n = ls.present.length
    const pairRows = new Map<number, Row>()
    for (let k = 0; k < n; k++) {
      if (ls.present[k] !== 1) continue
      let j = -1
      for (const c of group)
        if (one[c]!.present[k] === 1) {
          j = c
          break
        }
      if (j < 0) continue
      const rs = one[j]!
      const vl = swapped ? rs.values[k]! : ls.values[k]!
      const vr = swapped ? ls.values[k]! : rs.values[k]!
      let value: number
      if (cmp) {
        const keep = compare(op, vl, vr)
        if (returnBool) value = keep ? 1 : 0
        else if (keep) value = vl
        else continue
      } else {
        value = arith(op, vl, vr)
      }
      let row = pairRows.get(j)
      if (!row) {
        let labels = resultLabels(ls.labels, rs.labels, op, m)
        if (returnBool) labels = dropName(labels)
        row = newRow(labels, n)
        pairRows.set(j, row)
        out.push(row)
        const gkey = m.card === 'one-to-one' ? sig : sig + '\u0002' + labelsKey(labels)
        const g = bySig.get(gkey)
        if (g) g.push(row)
        else bySig.set(gkey, [row])
      }
      row.present[k] = 1
      row.values[k] = value
    }
  }
  if (m.card === 'one-to-one')
    checkUnique(
      bySig.values(),
      'multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)',
    )
  else checkUnique(bySig.values(), 'multiple matches for labels: grouping labels must ensure unique matches')
  return mergeSameLabels(out)
}

/** `and`, `or`, `unless`: series kept by whether their signature is present on the other side at each step. */
export function setBinop(
  op: 'and' | 'or' | 'unless',
  lhs: readonly Row[],
  rhs: readonly Row[],
  m: VectorMatching,
): Row[] {
  const presence = (rows: readonly Row[]): Map<string, Uint8Array> => {
    const map = new Map<string, Uint8Array>()
    for (const r of rows) {
      const sig = signature(r.labels, m.on, m.labels)
      let p = map.get(sig)
      if (!p) {
        p = new Uint8Array(r.present.length)
        map.set(sig, p)
      }
      for (let k = 0; k < p.length; k++) p[k]! |= r.present[k]!
    }
    return map
  }
  const masked = (r: Row, other: Uint8Array | undefined, keepWhere: 0 | 1): Row => {
    const n = r.present.length
    const res = newRow(r.labels, n)
    for (let k = 0; k < n; k++) {
      if (r.present[k] !== 1 || (other?.[k] ?? 0) !== keepWhere) continue
      res.present[k] = 1
      res.values[k] = r.values[k]!
    }
    return res
  }
  const sigOf = (r: Row): string => signature(r.labels, m.on, m.labels)
  if (op === 'or') {
    const left = presence(lhs)
    return mergeSameLabels([...lhs, ...rhs.map((r) => masked(r, left.get(sigOf(r)), 0))])
  }
  const right = presence(rhs)
  return mergeSameLabels(lhs.map((r) => masked(r, right.get(sigOf(r)), op === 'and' ? 1 : 0)))
}
