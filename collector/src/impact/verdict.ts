import type { UTest } from '../store/rank-test.ts'
import { smallestPValue } from './exact-rank-test.ts'
import type { BadDirection, Expected, ImpactThresholds, MetricImpact, SignalSpec, Verdict } from './types.ts'

export type { UTest } from '../store/rank-test.ts'

/** The thresholds every analysis uses. */
export const THRESHOLDS: Readonly<ImpactThresholds> = { p_value: 0.01, min_relative_change: 0.05, min_buckets: 5 }

/**
 * Judges one signal from its per-bucket values before and after a deploy. Pure: the rank
 * test is run by the caller (in the store) and passed in, `undefined` when it was not run.
 *
 * Rules, in order:
 * 1. fewer than `min_buckets` buckets with a value on either side → `not_enough_data`;
 * 2. every bucket on both sides holds the same value (all zero: no errors at all) → there is
 *    no variation to rank → `not_enough_data`;
 * 3. fewer than `min_buckets` non-zero buckets on both sides together (sparse counts: a
 *    handful of errors) → `not_enough_data`, since a rank test over a sea of ties proves little;
 * 4. no p-value → `not_enough_data`; and when even two groups wholly apart could not reach
 *    `p_value` with this many buckets (2 / C(n₁+n₂, n₁) ≥ p_value), `not_enough_data` saying
 *    so: such a test can never show a change, so calling it `unchanged` would mislead;
 * 5. p < `p_value` and |relative change| ≥ `min_relative_change` (a rise from 0 counts as
 *    large) → `worse` when it moved the bad way (or the bad way is `any`), else `better`;
 * 6. otherwise `unchanged`: the test ran on enough varied data and found no change that matters.
 */
export function judge(
  spec: SignalSpec,
  before: readonly number[],
  after: readonly number[],
  test: UTest | undefined,
  t: ImpactThresholds = THRESHOLDS,
): MetricImpact {
  const medBefore = median(before),
    medAfter = median(after)
  const meanBefore = mean(before),
    meanAfter = mean(after)
  // Mostly-zero series (error ratios) have medians of 0 on both sides: compare their means.
  const useMeans = medBefore === 0 && medAfter === 0
  const base = useMeans ? meanBefore : medBefore,
    now = useMeans ? meanAfter : medAfter
  const out: MetricImpact = {
    metric: spec.metric,
    signal: spec.kind,
    label: spec.label,
    unit: spec.unit,
    source: spec.source,
    verdict: 'not_enough_data',
    p_value: null,
    u_statistic: null,
    median_before: medBefore,
    median_after: medAfter,
    mean_before: meanBefore,
    mean_after: meanAfter,
    relative_change: relativeChange(base, now),
    rank_biserial: null,
    samples_before: before.length,
    samples_after: after.length,
    bad_direction: spec.bad,
    expected: spec.expected ?? null,
    note: '',
  }
  if (before.length < t.min_buckets || after.length < t.min_buckets) {
    out.note = `${before.length} buckets with data before and ${after.length} after; at least ${t.min_buckets} on each side are needed`
    return out
  }
  const first = before[0]!
  if (before.every((v) => v === first) && after.every((v) => v === first)) {
    out.note = `every bucket is ${first} before and after: no variation to test`
    return out
  }
  const nonZero = count(before, (v) => v !== 0) + count(after, (v) => v !== 0)
  if (nonZero < t.min_buckets) {
    out.note = `only ${nonZero} of ${before.length + after.length} buckets are non-zero: too sparse to test`
    return out
  }
  if (test === undefined || !Number.isFinite(test.p)) {
    out.note = 'the rank test gave no p-value'
    return out
  }
  out.p_value = test.p
  out.u_statistic = test.u
  const floor = smallestPValue(before.length, after.length)
  if (floor >= t.p_value) {
    out.note = `cannot reach significance with ${before.length} buckets before and ${after.length} after: the smallest possible p is ${floor.toPrecision(2)}, the threshold ${t.p_value}`
    return out
  }
  out.rank_biserial = 1 - (2 * test.u) / (before.length * after.length)
  const sign = Math.sign((now ?? 0) - (base ?? 0))
  const large = out.relative_change === null ? sign !== 0 : Math.abs(out.relative_change) >= t.min_relative_change
  out.verdict = test.p < t.p_value && large && sign !== 0 ? directionVerdict(spec.bad, sign) : 'unchanged'
  out.note = planNote(spec, out.verdict, sign)
  if (useMeans && out.verdict !== 'unchanged')
    out.note = join('medians are 0 on both sides; the means are compared', out.note)
  return out
}

function directionVerdict(bad: BadDirection, sign: number): Verdict {
  if (bad === 'any') return 'worse'
  return (bad === 'up') === sign > 0 ? 'worse' : 'better'
}

/** Where the outcome stands against the plan's expectation, if the plan had one. */
function planNote(spec: SignalSpec, verdict: Verdict, sign: number): string {
  const e: Expected | undefined = spec.expected
  const moved = verdict === 'worse' || verdict === 'better'
  if (e === undefined)
    return spec.bad === 'any' && moved ? 'no expected direction: a watched metric that moved is flagged' : ''
  if (!moved) return e === 'none' ? '' : `the plan expected it to go ${e}; no significant change`
  if (e === 'none') return 'contradicts the plan, which expected no change'
  const went = sign > 0 ? 'up' : 'down'
  return went === e ? `went ${went} as the plan expected` : `contradicts the plan, which expected it to go ${e}`
}

function join(a: string, b: string): string {
  return b === '' ? a : `${a}; ${b}`
}

/** (now − base) / |base|; 0 when both are 0; null when only the base is 0 or either is unknown. */
export function relativeChange(base: number | null, now: number | null): number | null {
  if (base === null || now === null) return null
  if (base === 0) return now === 0 ? 0 : null
  return (now - base) / Math.abs(base)
}

/** The median, null for no values. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null
  const s = [...values].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

function mean(values: readonly number[]): number | null {
  if (values.length === 0) return null
  let sum = 0
  for (const v of values) sum += v
  return sum / values.length
}

function count(values: readonly number[], f: (v: number) => boolean): number {
  let n = 0
  for (const v of values) if (f(v)) n++
  return n
}
