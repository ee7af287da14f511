import { alignDown, isStartTimestampReset, type StepPoint } from '../query/eval/index.ts'

/** One counter series: its points, ascending, and whether they are cumulative or deltas. */
export interface CounterSeries {
  ts: ArrayLike<number>
  value: ArrayLike<number>
  /** OTLP start times, ms, 0 when unknown. */
  start: ArrayLike<number>
  cumulative: boolean
}

/**
 * The per-second rate of a group of counters in each step bucket, summed over the series.
 *
 * Each growth between two consecutive points of a series is spread evenly over the time
 * between them, and every bucket takes the share that falls inside it:
 *
 *   points      ●─────────●─────────●─────────●        (a point every 10 s)
 *   growth          +1        +0        +2
 *   buckets   |        b0        |        b1        |   (30 s)
 *
 * so growth is never lost between the last point of one bucket and the first of the next —
 * which matters for sparse counts such as a few server errors, where the query API's
 * per-bucket increase (Prometheus' `increase()` over the bucket's own points) would drop
 * the ones that land on a bucket edge. A series' rate in a bucket is its growth there over
 * the time its points cover there, so a series that begins mid-bucket is not diluted.
 *
 * Cumulative points: a drop, or a start time that moved past the previous point, is a
 * reset, and the growth is the new value (since the new start when known). Delta points
 * carry their own growth over `(start, ts]`, or since the previous point when the start is
 * unknown; a first point without a start is skipped.
 */
export function counterRates(group: ReadonlyArray<CounterSeries>, stepMs: number): StepPoint[] {
  const total = new Map<number, number>()
  for (const s of group) {
    const inc = new Map<number, number>()
    const covered = new Map<number, number>()
    for (let i = 0; i < s.ts.length; i++) {
      const t1 = s.ts[i] as number
      const v = s.value[i] as number
      const start = s.start[i] as number
      let t0: number
      let growth: number
      if (s.cumulative) {
        if (i === 0) continue
        t0 = s.ts[i - 1] as number
        const prev = s.value[i - 1] as number
        growth = v - prev
        if (growth < 0 || isStartTimestampReset(s.start[i - 1] as number, t0, start, t1)) {
          growth = v
          if (start > t0 && start < t1) t0 = start
        }
      } else {
        if (start > 0 && start < t1) t0 = start
        else if (i > 0) t0 = s.ts[i - 1] as number
        else continue
        growth = v
      }
      if (!(t1 > t0) || !Number.isFinite(growth)) continue
      // Spread (t0, t1] over the buckets it overlaps.
      for (let b = alignDown(t0, stepMs); b < t1; b += stepMs) {
        const overlap = Math.min(t1, b + stepMs) - Math.max(t0, b)
        if (overlap <= 0) continue
        inc.set(b, (inc.get(b) ?? 0) + (growth * overlap) / (t1 - t0))
        covered.set(b, (covered.get(b) ?? 0) + overlap)
      }
    }
    for (const [b, g] of inc) total.set(b, (total.get(b) ?? 0) + g / (covered.get(b)! / 1000))
  }
  return [...total.entries()].sort((a, b) => a[0] - b[0])
}
