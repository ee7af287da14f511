/**
 * A port of Prometheus' `extrapolatedRate` (promql/functions.go, the version that reads
 * OTLP start timestamps), the function behind `rate()`, `increase()` and `delta()` on float
 * samples, without the `anchored`/`smoothed` modifiers.
 */

/** The samples of one series in one range window, and how to read them. */
export interface RateInput {
  /** Sample timestamps, ms, ascending. */
  ts: ArrayLike<number>
  value: ArrayLike<number>
  /** OTLP start time of each sample, ms, 0 when unknown; omit when there are none. */
  start?: ArrayLike<number> | undefined
  /** First sample of the window (default 0). Every sample in `[lo, hi)` must lie in the range. */
  lo?: number | undefined
  /** One past the last sample of the window (default `ts.length`). */
  hi?: number | undefined
  /** Start of the range, ms, exclusive, as in Prometheus: the range is `(rangeStartMs, rangeEndMs]`. */
  rangeStartMs: number
  /** End of the range, ms, inclusive. */
  rangeEndMs: number
  /** Counter semantics: a drop or a start-time reset is a counter reset, and no extrapolation below zero. */
  isCounter: boolean
  /** Divide the result by the range length in seconds (`rate`), or not (`increase`, `delta`). */
  isRate: boolean
}

/**
 * The increase (or per-second rate) of a series over a range, extrapolated to the range
 * boundaries the way Prometheus does; NaN when the window does not define one.
 *
 *   range  (rangeStart ─────────────────────────────────────── rangeEnd]
 *   samples        ●───────●───────●───────●───────●
 *                  first                            last
 *          ├─toStart─┤                               ├─toEnd─┤
 *
 * 1. raw = last − first; for counters, every drop (or start-time reset) adds the value before it.
 * 2. Each gap to a boundary is extrapolated over in full when it is shorter than 1.1× the
 *    average sample interval; otherwise the series is assumed to start or end inside the
 *    range and only half an average interval is added on that side.
 * 3. Counters never extrapolate below zero: the left gap is capped at the time the line
 *    through the samples would take to reach zero from the first value.
 * 4. result = raw × (sampled + toStart + toEnd) / sampled.
 *
 * When the first sample's start time lies inside the range, the counter is known to have
 * begun at zero at that time: the first value is added to raw, nothing is extrapolated on
 * the left, and a single sample is enough. Otherwise two samples are needed.
 */
export function extrapolatedRate(input: RateInput): number {
  const { ts, value, start, rangeStartMs, rangeEndMs, isCounter, isRate } = input
  const lo = input.lo ?? 0
  const hi = input.hi ?? ts.length
  const n = hi - lo
  if (n < 1) return Number.NaN

  const firstT = ts[lo] as number
  const lastT = ts[hi - 1] as number
  const firstV = value[lo] as number
  let result = (value[hi - 1] as number) - firstV
  if (isCounter) {
    for (let i = lo + 1; i < hi; i++) {
      const prev = value[i - 1] as number
      if (
        (value[i] as number) < prev ||
        (start !== undefined &&
          isStartTimestampReset(start[i - 1] ?? 0, ts[i - 1] as number, start[i] ?? 0, ts[i] as number))
      ) {
        result += prev
      }
    }
  }

  let durationToStart = (firstT - rangeStartMs) / 1000
  let durationToEnd = (rangeEndMs - lastT) / 1000
  let sampledInterval = (lastT - firstT) / 1000
  const averageInterval = n > 1 ? sampledInterval / (n - 1) : 0
  const threshold = averageInterval * 1.1

  const firstStart = start?.[lo] ?? 0
  if (isCounter && firstStart !== 0 && firstStart > rangeStartMs && firstStart < firstT) {
    // The counter started inside the range: assume a zero sample at its start time.
    durationToStart = 0
    sampledInterval = (lastT - firstStart) / 1000
    result += firstV
  } else if (n === 1) {
    return Number.NaN
  } else {
    if (durationToStart >= threshold) durationToStart = averageInterval / 2
    if (isCounter) {
      // Where the line through first and last sample would cross zero, seen from the first.
      let durationToZero = durationToStart
      if (result > 0 && firstV >= 0) durationToZero = sampledInterval * (firstV / result)
      if (durationToZero < durationToStart) durationToStart = durationToZero
    }
  }
  if (durationToEnd >= threshold) durationToEnd = averageInterval / 2

  let factor = sampledInterval !== 0 ? (sampledInterval + durationToStart + durationToEnd) / sampledInterval : 1
  if (isRate) factor /= (rangeEndMs - rangeStartMs) / 1000
  return result * factor
}

/**
 * Whether the start times of two consecutive samples show a counter reset between them
 * (Prometheus `isStartTimestampReset`). The order of the checks matters:
 *
 * - an unset start (0), an invalid one (after its sample), or OTel's "unknown start" (equal
 *   to its sample) is never a reset;
 * - a start before the previous sample is not (the series began before it), one after it is;
 * - a start exactly at the previous sample is the delta pattern, a reset only when the
 *   previous start was itself known and valid.
 */
export function isStartTimestampReset(prevStart: number, prevTs: number, currStart: number, currTs: number): boolean {
  if (currStart === 0 || currStart >= currTs) return false
  if (currStart < prevTs) return false
  if (currStart > prevTs) return true
  if (prevStart > prevTs) return false
  return prevStart !== 0 && prevStart !== prevTs
}
