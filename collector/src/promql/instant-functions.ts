/**
 * Functions over instant vectors and scalars, evaluated over every step at once: each
 * takes the evaluated arguments and answers a value. Metric names are dropped where
 * Prometheus 2.x drops them (all but sort, sort_desc, label_replace and label_join).
 */
import type { Call, Expr } from './ast.ts'
import { unwrapParens } from './ast.ts'
import type { Labels } from './querier.ts'
import {
  type Grid,
  type Row,
  type ScalarValue,
  type StringValue,
  type Value,
  type VectorValue,
  mergeSameLabels,
  newRow,
  stepTime,
} from './step-vector.ts'
import { NAME, dropName, labelsKey } from './labels.ts'
import { histogramQuantile } from './histogram-quantile.ts'
import { labelJoiner, labelReplacer } from './label-functions.ts'

/** What a function sees besides its arguments. */
export interface CallEnv {
  readonly grid: Grid
  readonly call: Call
}

const vec = (rows: Row[]): VectorValue => ({ kind: 'vector', rows })
const rowsOf = (v: Value | undefined): Row[] => (v?.kind === 'vector' ? v.rows : [])
const scalarOf = (v: Value | undefined): Float64Array => (v as ScalarValue).values
const stringOf = (v: Value | undefined): string => (v as StringValue).value

/** Applies `fn` to every sample, dropping the metric name. */
export function mapValues(rows: readonly Row[], fn: (v: number, k: number) => number): Row[] {
  const out = rows.map((r) => {
    const n = r.values.length
    const res = newRow(dropName(r.labels), n)
    for (let k = 0; k < n; k++) {
      if (r.present[k] !== 1) continue
      res.present[k] = 1
      res.values[k] = fn(r.values[k]!, k)
    }
    return res
  })
  return mergeSameLabels(out)
}

/** The labels absent() and absent_over_time() give: the selector's equality matchers, a label matched twice left out. */
export function absentLabels(arg: Expr): Labels {
  const e = unwrapParens(arg)
  const matchers = e.type === 'vectorSelector' ? e.matchers : e.type === 'matrixSelector' ? e.selector.matchers : []
  const out: Record<string, string> = {}
  const has = new Set<string>()
  for (const m of matchers) {
    if (m.name === NAME) continue
    if (m.type === '=' && !has.has(m.name)) {
      out[m.name] = m.value
      has.add(m.name)
    } else {
      delete out[m.name]
    }
  }
  return out
}

/** A row present at the steps where `present(k)` is false: absent() and absent_over_time(). */
export function absentRow(labels: Labels, n: number, anyAt: (k: number) => boolean): Row[] {
  const row = newRow(labels, n)
  for (let k = 0; k < n; k++) {
    if (anyAt(k)) continue
    row.present[k] = 1
    row.values[k] = 1
  }
  return row.present.indexOf(1) < 0 ? [] : [row]
}

// Go's `time.Unix(int64(v), 0).UTC()` fields; NaN and infinities give NaN.
function dateFn(field: (d: Date) => number) {
  return (args: readonly Value[], env: CallEnv): Value => {
    const g = env.grid
    const rows = args.length === 0 ? [timeRow(g)] : rowsOf(args[0])
    return vec(mapValues(rows, (v) => (Number.isFinite(v) ? field(new Date(Math.trunc(v) * 1000)) : NaN)))
  }
}

function timeRow(g: Grid): Row {
  const row = newRow({}, g.n)
  for (let k = 0; k < g.n; k++) {
    row.present[k] = 1
    row.values[k] = stepTime(g, k) / 1000
  }
  return row
}

function dayOfYear(d: Date): number {
  return (
    Math.round(
      (Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000,
    ) + 1
  )
}

function sortRows(desc: boolean) {
  return (args: readonly Value[]): Value => {
    const rows = rowsOf(args[0]).slice()
    if (rows.length > 0 && rows[0]!.values.length === 1) {
      // Only an instant query has an order to give; NaN goes last either way.
      rows.sort((a, b) => {
        const x = a.values[0]!
        const y = b.values[0]!
        if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) ? (Number.isNaN(y) ? 0 : 1) : -1
        return desc ? y - x : x - y
      })
    }
    return vec(rows)
  }
}

function relabel(rows: readonly Row[], fn: (l: Labels) => Labels): Row[] {
  const cache = new Map<string, Labels>()
  return mergeSameLabels(
    rows.map((r) => {
      const key = labelsKey(r.labels)
      let l = cache.get(key)
      if (!l) {
        l = fn(r.labels)
        cache.set(key, l)
      }
      return { labels: l, values: r.values, present: r.present }
    }),
  )
}

/** The custom functions, by name. */
export const INSTANT_FUNCTIONS: Readonly<Record<string, (args: readonly Value[], env: CallEnv) => Value>> = {
  absent: (args, env) => {
    const rows = rowsOf(args[0])
    return vec(absentRow(absentLabels(env.call.args[0]!), env.grid.n, (k) => rows.some((r) => r.present[k] === 1)))
  },
  clamp: (args) => {
    const min = scalarOf(args[1])
    const max = scalarOf(args[2])
    const rows = rowsOf(args[0]).map((r) => {
      const n = r.values.length
      const res = newRow(dropName(r.labels), n)
      for (let k = 0; k < n; k++) {
        // With max below min a step has no output at all.
        if (r.present[k] !== 1 || max[k]! < min[k]!) continue
        res.present[k] = 1
        res.values[k] = Math.max(min[k]!, Math.min(max[k]!, r.values[k]!))
      }
      return res
    })
    return vec(mergeSameLabels(rows))
  },
  clamp_max: (args) => {
    const max = scalarOf(args[1])
    return vec(mapValues(rowsOf(args[0]), (v, k) => Math.min(v, max[k]!)))
  },
  clamp_min: (args) => {
    const min = scalarOf(args[1])
    return vec(mapValues(rowsOf(args[0]), (v, k) => Math.max(v, min[k]!)))
  },
  round: (args, env) => {
    const to = args.length > 1 ? scalarOf(args[1]) : new Float64Array(env.grid.n).fill(1)
    return vec(
      mapValues(rowsOf(args[0]), (v, k) => {
        const inv = 1 / to[k]!
        return Math.floor(v * inv + 0.5) / inv
      }),
    )
  },
  days_in_month: dateFn((d) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate()),
  day_of_month: dateFn((d) => d.getUTCDate()),
  day_of_week: dateFn((d) => d.getUTCDay()),
  day_of_year: dateFn(dayOfYear),
  hour: dateFn((d) => d.getUTCHours()),
  minute: dateFn((d) => d.getUTCMinutes()),
  month: dateFn((d) => d.getUTCMonth() + 1),
  year: dateFn((d) => d.getUTCFullYear()),
  label_replace: (args) =>
    vec(
      relabel(
        rowsOf(args[0]),
        labelReplacer(stringOf(args[1]), stringOf(args[2]), stringOf(args[3]), stringOf(args[4])),
      ),
    ),
  label_join: (args) =>
    vec(relabel(rowsOf(args[0]), labelJoiner(stringOf(args[1]), stringOf(args[2]), args.slice(3).map(stringOf)))),
  scalar: (args, env) => {
    const rows = rowsOf(args[0])
    const out = new Float64Array(env.grid.n)
    for (let k = 0; k < out.length; k++) {
      let count = 0
      let v = NaN
      for (const r of rows) {
        if (r.present[k] !== 1) continue
        count++
        v = r.values[k]!
      }
      out[k] = count === 1 ? v : NaN
    }
    return { kind: 'scalar', values: out }
  },
  vector: (args) => {
    const s = scalarOf(args[0])
    return vec([{ labels: {}, values: Float64Array.from(s), present: new Uint8Array(s.length).fill(1) }])
  },
  time: (_args, env) => ({ kind: 'scalar', values: timeRow(env.grid).values }),
  pi: (_args, env) => ({ kind: 'scalar', values: new Float64Array(env.grid.n).fill(Math.PI) }),
  sort: sortRows(false),
  sort_desc: sortRows(true),
  // timestamp() of anything but a selector: the evaluation time of each step.
  timestamp: (args, env) => vec(mapValues(rowsOf(args[0]), (_v, k) => stepTime(env.grid, k) / 1000)),
  histogram_quantile: (args, env) =>
    vec(mergeSameLabels(histogramQuantile(scalarOf(args[0]), rowsOf(args[1]), env.grid))),
  // Native histograms only: float series give nothing.
  histogram_count: () => vec([]),
  histogram_sum: () => vec([]),
  histogram_fraction: () => vec([]),
}
