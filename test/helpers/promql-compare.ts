/**
 * Comparing two answers of the Prometheus HTTP API (`data` of query and query_range): the same
 * series (labels equal, order ignored where PromQL leaves it free), the same timestamps, and
 * values within a relative tolerance, NaN equal to NaN.
 */

export interface PromAnswer {
  status: 'success' | 'error'
  data?: { resultType: string; result: unknown }
  errorType?: string
  error?: string
}

type Sample = [number, string]
interface SeriesResult {
  metric: Record<string, string>
  value?: Sample
  values?: Sample[]
}

/** Relative tolerance of float comparison. */
export const TOLERANCE = 1e-6

function sameFloat(a: string, b: string): boolean {
  const x = Number(a),
    y = Number(b)
  if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) && Number.isNaN(y)
  if (x === y) return true
  return Math.abs(x - y) <= TOLERANCE * Math.max(Math.abs(x), Math.abs(y))
}

function key(metric: Record<string, string>): string {
  return JSON.stringify(Object.entries(metric).sort(([a], [b]) => (a < b ? -1 : 1)))
}

function samplesDiffer(a: Sample[], b: Sample[]): string | undefined {
  if (a.length !== b.length) return `${a.length} samples against ${b.length}`
  for (let i = 0; i < a.length; i++) {
    if (a[i]![0] !== b[i]![0]) return `sample ${i}: time ${a[i]![0]} against ${b[i]![0]}`
    if (!sameFloat(a[i]![1], b[i]![1])) return `at ${a[i]![0]}: ${a[i]![1]} against ${b[i]![1]}`
  }
  return undefined
}

/**
 * The first difference between `got` and `want`, or undefined when they agree. Both failing
 * counts as agreement when the error types are equal.
 */
export function answerDiff(got: PromAnswer, want: PromAnswer): string | undefined {
  if (got.status !== want.status)
    return `status ${got.status} (${got.error ?? ''}) against ${want.status} (${want.error ?? ''})`
  if (got.status === 'error')
    return got.errorType === want.errorType ? undefined : `errorType ${got.errorType} against ${want.errorType}`
  const g = got.data!,
    w = want.data!
  if (g.resultType !== w.resultType) return `resultType ${g.resultType} against ${w.resultType}`
  if (g.resultType === 'scalar' || g.resultType === 'string') {
    const [gt, gv] = g.result as Sample,
      [wt, wv] = w.result as Sample
    if (gt !== wt) return `time ${gt} against ${wt}`
    return g.resultType === 'scalar'
      ? sameFloat(gv, wv)
        ? undefined
        : `${gv} against ${wv}`
      : gv === wv
        ? undefined
        : `${gv} against ${wv}`
  }
  const gs = g.result as SeriesResult[],
    ws = w.result as SeriesResult[]
  if (gs.length !== ws.length)
    return `${gs.length} series against ${ws.length}: ${gs.map((s) => key(s.metric)).join(' ')} | ${ws.map((s) => key(s.metric)).join(' ')}`
  const byKey = new Map(ws.map((s) => [key(s.metric), s]))
  for (const s of gs) {
    const k = key(s.metric)
    const other = byKey.get(k)
    if (other === undefined) return `series ${k} is not in the reference answer`
    const d = samplesDiffer(
      s.values ?? (s.value === undefined ? [] : [s.value]),
      other.values ?? (other.value === undefined ? [] : [other.value]),
    )
    if (d !== undefined) return `series ${k}: ${d}`
  }
  return undefined
}
