import { describe, expect, it } from 'vitest'
import type { ChangeEvent } from '../../../collector/src/changelog/types.ts'
import { counterRates } from '../../../collector/src/impact/counter-rates.ts'
import { hintsFor, summarise } from '../../../collector/src/impact/report.ts'
import { defaultSignals } from '../../../collector/src/impact/signals.ts'
import type { SignalSpec } from '../../../collector/src/impact/types.ts'
import { judge, median } from '../../../collector/src/impact/verdict.ts'
import { impactWindows } from '../../../collector/src/impact/windows.ts'
import type { MetricSummary, SeriesRow } from '../../../collector/src/store/queries.ts'

// The pure parts of deploy impact analysis: verdict rules, windows, counter rates, texts,
// recognition. The rank test's outcome is passed in, as the store computes it.

const latency: SignalSpec = {
  metric: 'http.server.request.duration',
  kind: 'p99',
  label: 'p99 latency',
  bad: 'up',
  intrinsic: true,
  source: 'default',
  unit: 's',
}
const SIGNIFICANT = { u: 0, p: 0.0001 }
const range = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i))

describe('judge', () => {
  const before = range(10, (i) => 0.2 + i * 0.001)

  it('calls a significant rise of a latency worse, with the medians and the rank-biserial correlation', () => {
    const after = before.map((v) => v * 1.5)
    const r = judge(latency, before, after, SIGNIFICANT)
    expect(r).toMatchObject({ verdict: 'worse', p_value: 0.0001, samples_before: 10, samples_after: 10, note: '' })
    expect(r.median_before).toBeCloseTo(0.2045, 6)
    expect(r.relative_change).toBeCloseTo(0.5, 6)
    // u = 0: no before bucket is above any after bucket → every pair favours after.
    expect(r.rank_biserial).toBe(1)
    expect(judge(latency, after, before, { u: 100, p: 0.0001 })).toMatchObject({ verdict: 'better', rank_biserial: -1 })
  })

  it('needs both p < 0.01 and a change of at least 5 %', () => {
    const after = before.map((v) => v * 1.5)
    expect(judge(latency, before, after, { u: 20, p: 0.011 }).verdict).toBe('unchanged')
    const slightly = before.map((v) => v * 1.04)
    expect(judge(latency, before, slightly, { u: 0, p: 0.0001 }).verdict).toBe('unchanged')
    expect(
      judge(
        latency,
        before,
        before.map((v) => v * 1.06),
        { u: 0, p: 0.0001 },
      ).verdict,
    ).toBe('worse')
  })

  it('wants five buckets with data on each side', () => {
    const r = judge(latency, before, before.slice(0, 4), SIGNIFICANT)
    expect(r).toMatchObject({ verdict: 'not_enough_data', p_value: null, samples_after: 4 })
    expect(r.note).toMatch(/10 buckets with data before and 4 after; at least 5/)
    expect(judge(latency, [], before, undefined).median_before).toBeNull()
  })

  it('calls all-zero and constant values not enough data, whatever the test says', () => {
    const zeros = range(30, () => 0)
    const errors = { ...latency, kind: 'error_ratio' as const, label: 'error ratio' }
    expect(judge(errors, zeros, zeros, { u: 450, p: 1 })).toMatchObject({
      verdict: 'not_enough_data',
      note: 'every bucket is 0 before and after: no variation to test',
    })
    expect(
      judge(
        errors,
        range(8, () => 3),
        range(8, () => 3),
        { u: 32, p: 1 },
      ).verdict,
    ).toBe('not_enough_data')
  })

  it('calls sparse counts not enough data, and judges a real rise from mostly zero by the means', () => {
    const errors = { ...latency, kind: 'error_ratio' as const, label: 'error ratio' }
    const zeros = range(30, () => 0)
    const sparse = range(30, (i) => (i === 3 || i === 17 ? 0.01 : 0))
    const r = judge(errors, zeros, sparse, { u: 420, p: 0.15 })
    expect(r.verdict).toBe('not_enough_data')
    expect(r.note).toBe('only 2 of 60 buckets are non-zero: too sparse to test')
    // Errors in a third of the buckets after: the medians stay 0, the means tell.
    const often = range(30, (i) => (i % 3 === 0 ? 0.05 : 0))
    const rise = judge(errors, zeros, often, { u: 300, p: 0.0002 })
    expect(rise).toMatchObject({ verdict: 'worse', median_before: 0, median_after: 0, relative_change: null })
    expect(rise.note).toMatch(/means are compared/)
  })

  it('follows the bad direction: throughput down is worse; a watched metric without direction that moved is flagged', () => {
    const throughput: SignalSpec = {
      ...latency,
      kind: 'throughput',
      label: 'throughput',
      bad: 'down',
      intrinsic: false,
    }
    expect(
      judge(
        throughput,
        before,
        before.map((v) => v / 2),
        { u: 100, p: 0.0001 },
      ).verdict,
    ).toBe('worse')
    expect(
      judge(
        throughput,
        before,
        before.map((v) => v * 2),
        SIGNIFICANT,
      ).verdict,
    ).toBe('better')
    const watched: SignalSpec = {
      ...latency,
      kind: 'value',
      label: 'queue.depth',
      bad: 'any',
      intrinsic: false,
      source: 'plan',
    }
    const down = judge(
      watched,
      before,
      before.map((v) => v / 2),
      { u: 100, p: 0.0001 },
    )
    expect(down).toMatchObject({
      verdict: 'worse',
      note: 'no expected direction: a watched metric that moved is flagged',
    })
  })

  it('says where the outcome departs from the plan', () => {
    const up = before.map((v) => v * 1.5)
    expect(judge({ ...latency, expected: 'down' }, before, up, SIGNIFICANT).note).toBe(
      'contradicts the plan, which expected it to go down',
    )
    expect(judge({ ...latency, expected: 'none' }, before, up, SIGNIFICANT).note).toBe(
      'contradicts the plan, which expected no change',
    )
    expect(judge({ ...latency, expected: 'up' }, before, up, SIGNIFICANT)).toMatchObject({
      verdict: 'worse',
      note: 'went up as the plan expected',
    })
    expect(judge({ ...latency, expected: 'down' }, before, before, { u: 50, p: 1 }).note).toBe(
      'the plan expected it to go down; no significant change',
    )
  })

  it('takes the median of an even count as the mean of the middle two', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5)
    expect(median([5, 1, 3])).toBe(3)
    expect(median([])).toBeNull()
  })
})

describe('impactWindows', () => {
  const d = (id: string, time: number, timeEnd: number, extra: Partial<ChangeEvent> = {}): ChangeEvent => ({
    id,
    kind: 'deploy',
    time,
    timeEnd,
    service: 'checkout',
    environment: 'production',
    actor: 'ci',
    title: '',
    text: '',
    tags: [],
    version: id,
    data: {},
    recordedAt: 0,
    ...extra,
  })
  const W = 900_000

  it('compares the window before the start with the window after the finish', () => {
    const deploy = d('a', 10_000_000, 10_060_000)
    expect(impactWindows(deploy, [deploy], W)).toEqual({
      before: { from: 9_100_000, to: 10_000_000 },
      after: { from: 10_060_000, to: 10_960_000 },
    })
  })

  it('cuts the windows at the neighbouring deploys of the same service and environment only', () => {
    const deploy = d('b', 10_000_000, 10_000_000)
    const deploys = [
      d('a', 9_500_000, 9_600_000),
      d('c', 10_300_000, 10_300_000),
      d('x', 9_900_000, 9_900_000, { service: 'search' }),
      d('y', 10_100_000, 10_100_000, { environment: 'staging' }),
      deploy,
    ]
    expect(impactWindows(deploy, deploys, W)).toEqual({
      before: { from: 9_600_000, to: 10_000_000 },
      after: { from: 10_000_000, to: 10_300_000 },
    })
  })
})

describe('counterRates', () => {
  it('keeps growth that lands on a bucket edge, spreading it over the time between points', () => {
    // Points every 10 s; one error counted at t = 30 s, exactly on the edge of the second bucket.
    const s = {
      ts: [0, 10_000, 20_000, 30_000, 40_000, 50_000, 60_000],
      value: [0, 0, 0, 1, 1, 1, 1],
      start: new Array(7).fill(-1000),
      cumulative: true,
    }
    // It happened in (20 s, 30 s], so the first bucket: 1 error over the 30 s its points cover.
    expect(counterRates([s], 30_000)).toEqual([
      [0, 1 / 30],
      [30_000, 0],
    ])
  })

  it('reads a drop as a counter reset and adds up the series of a group', () => {
    const a = { ts: [0, 15_000, 30_000, 45_000], value: [10, 40, 5, 35], start: [0, 0, 0, 0], cumulative: true }
    const b = { ts: [0, 30_000], value: [0, 60], start: [0, 0], cumulative: true }
    // a grows 30, then resets to 5 (growth 5), then 30; b grows 60 over 30 s.
    expect(counterRates([a, b], 30_000)).toEqual([
      [0, 35 / 30 + 2],
      [30_000, 30 / 15],
    ])
  })

  it('takes deltas over their own start and end', () => {
    const s = { ts: [30_000, 60_000], value: [6, 3], start: [0, 30_000], cumulative: false }
    // The first point has no start: skipped. The second covers (30 s, 60 s].
    expect(counterRates([s], 30_000)).toEqual([[30_000, 0.1]])
  })
})

describe('texts', () => {
  const deploy = { service: 'checkout', version: '1.4.2' } as ChangeEvent
  const worse = judge(
    latency,
    range(10, () => 0.2).map((v, i) => v + i / 1000),
    range(10, (i) => 0.3 + i / 1000),
    { u: 0, p: 0.0003 },
  )

  it('summarises in one line', () => {
    expect(summarise(deploy, [worse])).toBe('checkout 1.4.2: p99 latency worse by 49 %') // 0.2045 → 0.3045
    expect(summarise(deploy, [])).toBe('checkout 1.4.2: no request or watched metrics found')
    expect(summarise(deploy, [{ ...worse, verdict: 'not_enough_data' }])).toBe(
      'checkout 1.4.2: not enough data to judge',
    )
  })

  it("names the plan's contingency knobs for what got worse, and nothing without them", () => {
    expect(hintsFor({ contingency: ['cart_cache'] }, [worse])).toEqual([
      'p99 of http.server.request.duration is 49 % worse (p = 0.0003): consider turning off cart_cache',
    ])
    expect(hintsFor({ contingency: ['a', 'b', 'c'] }, [worse])[0]).toMatch(/consider turning off a, b or c$/)
    expect(hintsFor({ contingency: [] }, [worse])).toEqual([])
    expect(hintsFor(null, [worse])).toEqual([])
    expect(hintsFor({ contingency: ['cart_cache'] }, [{ ...worse, verdict: 'unchanged' }])).toEqual([])
  })
})

describe('defaultSignals', () => {
  const row = (id: string, attributes: Record<string, string>, type: SeriesRow['type'] = 'histogram'): SeriesRow => ({
    id,
    type,
    temporality: 'cumulative',
    monotonic: true,
    unit: 's',
    description: '',
    service: 'shop',
    resource: {},
    attributes,
  })
  const summary = (name: string, type: MetricSummary['type']): MetricSummary => ({
    name,
    type,
    unit: '',
    description: '',
    services: ['shop'],
    series: 1,
  })
  const of = (series: Record<string, SeriesRow[]>) => async (m: string) => series[m] ?? []

  it('reads latency, errors and throughput from the OTel request duration histogram', async () => {
    const rows = [
      row('1', { 'http.response.status_code': '200' }),
      row('2', { 'http.response.status_code': '502' }),
      row('3', { 'http.response.status_code': '404' }),
    ]
    const s = await defaultSignals(
      [summary('http.server.request.duration', 'histogram')],
      of({ 'http.server.request.duration': rows }),
    )
    expect(s.map((x) => [x.spec.kind, x.spec.metric])).toEqual([
      ['p99', 'http.server.request.duration'],
      ['error_ratio', 'http.server.request.duration'],
      ['throughput', 'http.server.request.duration'],
    ])
    expect(s[1]!.errorSeries!.map((r) => r.id)).toEqual(['2'])
  })

  it('takes errors from a Prometheus counter with a code label when the histogram has no status', async () => {
    const s = await defaultSignals(
      [
        summary('http.server.duration', 'histogram'),
        summary('jobs_total', 'sum'),
        summary('http_requests_total', 'sum'),
      ],
      of({
        'http.server.duration': [row('1', { route: '/' })],
        jobs_total: [row('4', { status: 'done' }, 'sum')],
        http_requests_total: [row('5', { code: '200' }, 'sum'), row('6', { code: '5xx' }, 'sum')],
      }),
    )
    expect(s.map((x) => [x.spec.kind, x.spec.metric])).toEqual([
      ['p99', 'http.server.duration'],
      ['error_ratio', 'http_requests_total'],
      ['throughput', 'http_requests_total'],
    ])
    expect(s[1]!.errorSeries!.map((r) => r.id)).toEqual(['6'])
  })

  it('finds nothing in metrics it does not recognise', async () => {
    expect(
      await defaultSignals(
        [summary('queue.depth', 'gauge'), summary('jobs_total', 'sum')],
        of({ jobs_total: [row('4', { status: 'done' }, 'sum')] }),
      ),
    ).toEqual([])
  })
})
