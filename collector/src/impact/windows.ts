import type { ChangeEvent } from '../changelog/types.ts'
import type { ImpactWindows, Range } from './types.ts'

/**
 * The windows a deploy's impact compares, of `windowMillis` each:
 *
 *   previous deploy      this deploy (start ─ finish)      next deploy
 *         │ ◄──── before ────► │░░░░░░░│ ◄──── after ────► │
 *         ▲ cut here if nearer                             ▲ cut here if nearer
 *
 * Before ends at the deploy's start and begins `windowMillis` earlier, or at the previous
 * deploy's finish when that is nearer. After begins at the deploy's finish and ends
 * `windowMillis` later, or at the next deploy's start when that is nearer, so that neither
 * side mixes in another version. The rollout itself (start to finish) is in neither.
 * Only deploys of the same service and environment count; `deploys` may hold others.
 */
export function impactWindows(
  deploy: ChangeEvent,
  deploys: readonly ChangeEvent[],
  windowMillis: number,
): ImpactWindows {
  let beforeFrom = deploy.time - windowMillis
  let afterTo = deploy.timeEnd + windowMillis
  for (const d of deploys) {
    if (
      d.id === deploy.id ||
      d.kind !== deploy.kind ||
      d.service !== deploy.service ||
      d.environment !== deploy.environment
    )
      continue
    if (d.time < deploy.time) beforeFrom = Math.max(beforeFrom, Math.min(d.timeEnd, deploy.time))
    else if (d.time > deploy.time) afterTo = Math.min(afterTo, Math.max(d.time, deploy.timeEnd))
  }
  return { before: { from: beforeFrom, to: deploy.time }, after: { from: deploy.timeEnd, to: afterTo } }
}

/** The after window cut at `now`, for a provisional analysis while it has not passed. */
export function cutAt(w: ImpactWindows, now: number): ImpactWindows {
  return { before: w.before, after: { from: w.after.from, to: Math.max(w.after.from, Math.min(w.after.to, now)) } }
}

/**
 * Keeps the bucket values whose whole bucket `[ts, ts + step)` lies inside `range`: buckets
 * are aligned to multiples of the step, so the ones cut by a window's edge (or by the
 * deploy) would hold part of another version's data, or a partial rate.
 */
export function completeBuckets(
  points: ReadonlyArray<readonly [number, number]>,
  range: Range,
  stepMs: number,
): number[] {
  const out: number[] = []
  for (const [ts, v] of points) if (ts >= range.from && ts + stepMs <= range.to) out.push(v)
  return out
}
