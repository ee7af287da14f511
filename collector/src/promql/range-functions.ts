/**
 * Functions over range vectors, one window at a time: each reads the points `[lo, hi)` of
 * one series' columns and answers a number, or undefined when the window gives none.
 * Formulas and their float quirks are those of Prometheus 2.x (`promql/functions.go`).
 */
import { executionError } from './errors.ts'
import { quantileOf } from './quantile.ts'

/** What a range function knows of the step it computes. */
export interface WindowEnv {
  /** Window bounds in ms: `[start, end]`. */
  start: number
  end: number
  /** The step's evaluation time in ms (before offset). */
  evalTime: number
  /** The selector range in ms. */
  range: number
  /** The scalar arguments of the call at this step, by argument index. */
  args: Float64Array
}

/** One window's answer; undefined drops the step. */
export type RangeFn = (ts: Float64Array, vs: Float64Array, lo: number, hi: number, env: WindowEnv) => number | undefined

/** Neumaier-compensated summation step, as Prometheus' `kahanSumInc`. */
export function kahanSumInc(inc: number, sum: number, c: number): [number, number] {
  const t = sum + inc
  if (Math.abs(sum) >= Math.abs(inc)) c += sum - t + inc
  else c += inc - t + sum
  return [t, c]
}

/**
 * rate/increase/delta of Prometheus 2.x: the difference of the first and last points
 * (plus every value before a counter reset), extrapolated towards the window's edges:
 * fully when the gap to the edge is under 1.1 average intervals, else by half an average
 * interval; for counters the start side is never extrapolated past the counter's zero.
 */
function extrapolatedRate(isCounter: boolean, isRate: boolean): RangeFn {
  return (ts, vs, lo, hi, env) => {
    const n = hi - lo
    if (n < 2) return undefined
    const first = vs[lo]!
    const last = vs[hi - 1]!
    let result = last - first
    if (isCounter) {
      let prev = 0
      for (let i = lo; i < hi; i++) {
        const v = vs[i]!
        if (v < prev) result += prev
        prev = v
      }
    }
    result = extrapolate(result, first, ts[lo]!, ts[hi - 1]!, n, env.start, env.end, isCounter)
    if (isRate) result = result / (env.range / 1000)
    return result
  }
}

/** The difference `result` of a window's n points extrapolated towards its edges `[start, end]`. */
function extrapolate(
  result: number,
  first: number,
  firstT: number,
  lastT: number,
  n: number,
  start: number,
  end: number,
  isCounter: boolean,
): number {
  let durationToStart = (firstT - start) / 1000
  const durationToEnd = (end - lastT) / 1000
  const sampledInterval = (lastT - firstT) / 1000
  const averageBetween = sampledInterval / (n - 1)
  if (isCounter && result > 0 && first >= 0) {
    const durationToZero = sampledInterval * (first / result)
    if (durationToZero < durationToStart) durationToStart = durationToZero
  }
  const threshold = averageBetween * 1.1
  let extrapolateTo = sampledInterval
  extrapolateTo += durationToStart < threshold ? durationToStart : averageBetween / 2
  extrapolateTo += durationToEnd < threshold ? durationToEnd : averageBetween / 2
  return result * (extrapolateTo / sampledInterval)
}

function instantValue(isRate: boolean): RangeFn {
  return (ts, vs, lo, hi) => {
    if (hi - lo < 2) return undefined
    const last = vs[hi - 1]!
    const prev = vs[hi - 2]!
    const result = isRate && last < prev ? last : last - prev
    const interval = ts[hi - 1]! - ts[hi - 2]!
    if (interval === 0) return undefined
    return isRate ? result / (interval / 1000) : result
  }
}

/** Least squares over the window, x in seconds from `interceptTime`, as Prometheus' `linearRegression`. */
function linearRegression(
  ts: Float64Array,
  vs: Float64Array,
  lo: number,
  hi: number,
  interceptTime: number,
): [number, number] {
  let n = 0
  let sumX = 0,
    cX = 0,
    sumY = 0,
    cY = 0,
    sumXY = 0,
    cXY = 0,
    sumX2 = 0,
    cX2 = 0
  const initY = vs[lo]!
  let constY = true
  for (let i = lo; i < hi; i++) {
    const v = vs[i]!
    if (constY && i > lo && v !== initY) constY = false
    n += 1
    const x = (ts[i]! - interceptTime) / 1e3
    ;[sumX, cX] = kahanSumInc(x, sumX, cX)
    ;[sumY, cY] = kahanSumInc(v, sumY, cY)
    ;[sumXY, cXY] = kahanSumInc(x * v, sumXY, cXY)
    ;[sumX2, cX2] = kahanSumInc(x * x, sumX2, cX2)
  }
  if (constY) {
    if (!Number.isFinite(initY) && !Number.isNaN(initY)) return [NaN, NaN]
    return [0, initY]
  }
  sumX += cX
  sumY += cY
  sumXY += cXY
  sumX2 += cX2
  const covXY = sumXY - (sumX * sumY) / n
  const varX = sumX2 - (sumX * sumX) / n
  const slope = covXY / varX
  return [slope, sumY / n - (slope * sumX) / n]
}

function avgOverTime(_ts: Float64Array, vs: Float64Array, lo: number, hi: number): number | undefined {
  let mean = 0
  let count = 0
  for (let i = lo; i < hi; i++) {
    const v = vs[i]!
    count++
    if (!Number.isFinite(mean) && !Number.isNaN(mean)) {
      // An infinite mean stays as it is unless a NaN or an opposite infinity comes.
      if (!Number.isFinite(v) && !Number.isNaN(v) && mean > 0 === v > 0) continue
      if (Number.isFinite(v)) continue
    }
    mean += v / count - mean / count
  }
  return mean
}

function varianceOverTime(_ts: Float64Array, vs: Float64Array, lo: number, hi: number): number {
  let count = 0
  let mean = 0,
    cMean = 0,
    aux = 0,
    cAux = 0
  for (let i = lo; i < hi; i++) {
    const v = vs[i]!
    count++
    const delta = v - (mean + cMean)
    ;[mean, cMean] = kahanSumInc(delta / count, mean, cMean)
    ;[aux, cAux] = kahanSumInc(delta * (v - (mean + cMean)), aux, cAux)
  }
  return (aux + cAux) / count
}

function holtWinters(_ts: Float64Array, vs: Float64Array, lo: number, hi: number, env: WindowEnv): number | undefined {
  const sf = env.args[1]!
  const tf = env.args[2]!
  if (sf <= 0 || sf >= 1 || Number.isNaN(sf))
    throw executionError(`invalid smoothing factor. Expected: 0 < sf < 1, got: ${sf.toFixed(6)}`)
  if (tf <= 0 || tf >= 1 || Number.isNaN(tf))
    throw executionError(`invalid trend factor. Expected: 0 < tf < 1, got: ${tf.toFixed(6)}`)
  if (hi - lo < 2) return undefined
  let s0 = 0
  let s1 = vs[lo]!
  let b = vs[lo + 1]! - vs[lo]!
  for (let i = 1; i < hi - lo; i++) {
    const x = sf * vs[lo + i]!
    if (i - 1 !== 0) b = tf * (s1 - s0) + (1 - tf) * b
    const y = (1 - sf) * (s1 + b)
    s0 = s1
    s1 = x + y
  }
  return s1
}

/**
 * A whole series at once, for functions that slide in O(1) per point: `ends[k]` is the end of
 * step k's window `[ends[k] - range, ends[k]]`; writes `out`/`present` for the steps it answers.
 */
export type SeriesKernel = (
  ts: Float64Array,
  vs: Float64Array,
  ends: Float64Array,
  range: number,
  out: Float64Array,
  present: Uint8Array,
) => void

/**
 * max_over_time / min_over_time with a monotonic deque of point indices: each point enters
 * and leaves once, so a window of any length costs O(1) per step. NaN points never enter; a
 * window of NaN only answers NaN, as Prometheus' "any number replaces NaN" loop does.
 *
 *   deque (max): indices whose values decrease front → back; the front is the window's max.
 */
function extremeKernel(isMax: boolean): SeriesKernel {
  return (ts, vs, ends, range, out, present) => {
    const len = ts.length
    const deque = new Int32Array(len)
    let head = 0
    let tail = 0
    let lo = 0
    let hi = 0
    for (let k = 0; k < ends.length; k++) {
      const end = ends[k]!
      const start = end - range
      while (hi < len && ts[hi]! <= end) {
        const v = vs[hi]!
        if (v === v) {
          // Drop the back while it can never again be the extreme (ties keep the older).
          while (tail > head && (isMax ? vs[deque[tail - 1]!]! < v : vs[deque[tail - 1]!]! > v)) tail--
          deque[tail++] = hi
        }
        hi++
      }
      while (lo < hi && ts[lo]! < start) lo++
      while (head < tail && deque[head]! < lo) head++
      if (hi === lo) continue
      present[k] = 1
      out[k] = head < tail ? vs[deque[head]!]! : NaN
    }
  }
}

/**
 * rate/increase/delta over a whole series, each window in O(1) plus its counter resets: the
 * same arithmetic as `extrapolatedRate` in the same order, but the resets (a point below the
 * one before it) are found once per series, so a window adds the value before each of its own
 * resets, in time order, as Prometheus' loop over the window does, without visiting its other
 * points. Prometheus' loop also compares the window's first point with 0 (adding 0 when it is
 * negative, which turns a −0 result into +0); kept.
 *
 *   points  ●  ●  ●  ●  ●↓ ●  ●        resets [5]: a window [lo, hi) adds vs[4] when lo < 5 < hi
 */
function extrapolatedRateKernel(isCounter: boolean, isRate: boolean): SeriesKernel {
  const env: WindowEnv = { start: 0, end: 0, evalTime: 0, range: 0, args: new Float64Array(0) }
  const windowFn = extrapolatedRate(isCounter, false)
  return (ts, vs, ends, range, out, present) => {
    const len = ts.length
    let resets: Int32Array | undefined
    if (isCounter) {
      let n = 0
      for (let i = 1; i < len; i++) if (vs[i]! < vs[i - 1]!) n++
      if (n > 0) {
        resets = new Int32Array(n)
        n = 0
        for (let i = 1; i < len; i++) if (vs[i]! < vs[i - 1]!) resets[n++] = i
      }
    }
    const rangeSeconds = range / 1000
    let lo = 0,
      hi = 0,
      r = 0
    for (let k = 0; k < ends.length; k++) {
      const end = ends[k]!
      const start = end - range
      while (hi < len && ts[hi]! <= end) hi++
      while (lo < hi && ts[lo]! < start) lo++
      if (hi - lo < 2) continue
      let result: number
      if (!isCounter) {
        env.start = start
        env.end = end
        result = windowFn(ts, vs, lo, hi, env)!
      } else {
        const first = vs[lo]!
        result = vs[hi - 1]! - first
        if (first < 0) result += 0
        if (resets !== undefined) {
          while (r < resets.length && resets[r]! <= lo) r++
          for (let j = r; j < resets.length && resets[j]! < hi; j++) result += vs[resets[j]! - 1]!
        }
        result = extrapolate(result, first, ts[lo]!, ts[hi - 1]!, hi - lo, start, end, true)
      }
      out[k] = isRate ? result / rangeSeconds : result
      present[k] = 1
    }
  }
}

/** Functions computed by a whole-series kernel instead of window by window. */
export const RANGE_KERNELS: Readonly<Record<string, SeriesKernel>> = {
  max_over_time: extremeKernel(true),
  min_over_time: extremeKernel(false),
  rate: extrapolatedRateKernel(true, true),
  increase: extrapolatedRateKernel(true, false),
  delta: extrapolatedRateKernel(false, false),
}

/** The range functions by name. */
export const RANGE_FUNCTIONS: Readonly<Record<string, RangeFn>> = {
  rate: extrapolatedRate(true, true),
  increase: extrapolatedRate(true, false),
  delta: extrapolatedRate(false, false),
  irate: instantValue(true),
  idelta: instantValue(false),
  changes: (_ts, vs, lo, hi) => {
    let changes = 0
    let prev = vs[lo]!
    for (let i = lo + 1; i < hi; i++) {
      const cur = vs[i]!
      if (cur !== prev && !(Number.isNaN(cur) && Number.isNaN(prev))) changes++
      prev = cur
    }
    return changes
  },
  resets: (_ts, vs, lo, hi) => {
    let resets = 0
    let prev = vs[lo]!
    for (let i = lo + 1; i < hi; i++) {
      const cur = vs[i]!
      if (cur < prev) resets++
      prev = cur
    }
    return resets
  },
  deriv: (ts, vs, lo, hi) => (hi - lo < 2 ? undefined : linearRegression(ts, vs, lo, hi, ts[lo]!)[0]),
  predict_linear: (ts, vs, lo, hi, env) => {
    if (hi - lo < 2) return undefined
    const [slope, intercept] = linearRegression(ts, vs, lo, hi, env.evalTime)
    return slope * env.args[1]! + intercept
  },
  holt_winters: holtWinters,
  avg_over_time: avgOverTime,
  sum_over_time: (_ts, vs, lo, hi) => {
    let s = 0
    for (let i = lo; i < hi; i++) s += vs[i]!
    return s
  },
  count_over_time: (_ts, _vs, lo, hi) => hi - lo,
  min_over_time: (_ts, vs, lo, hi) => {
    let m = vs[lo]!
    for (let i = lo; i < hi; i++) {
      const v = vs[i]!
      if (v < m || Number.isNaN(m)) m = v
    }
    return m
  },
  max_over_time: (_ts, vs, lo, hi) => {
    let m = vs[lo]!
    for (let i = lo; i < hi; i++) {
      const v = vs[i]!
      if (v > m || Number.isNaN(m)) m = v
    }
    return m
  },
  quantile_over_time: (_ts, vs, lo, hi, env) => quantileOf(env.args[0]!, vs.subarray(lo, hi)),
  stddev_over_time: (ts, vs, lo, hi) => Math.sqrt(varianceOverTime(ts, vs, lo, hi)),
  stdvar_over_time: varianceOverTime,
  last_over_time: (_ts, vs, _lo, hi) => vs[hi - 1]!,
  present_over_time: () => 1,
  // Answered per step by the evaluator (1 where no series has a point); never reached per series.
  absent_over_time: () => 1,
}
