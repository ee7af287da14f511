import { describe, expect, it } from 'vitest'
import { asMap, engineOver, matrixOf, scalarOf, series } from './fixtures.ts'

const at = (labels: Record<string, string>, v: number, t = 0) => series(labels, 1, () => v, 15_000, t)
const bucket = (le: string, v: number, extra: Record<string, string> = {}) =>
  at({ __name__: 'lat_bucket', job: 'a', le, ...extra }, v)

describe('histogram_quantile', () => {
  const engine = engineOver([
    // Buckets ≤0.1: 10, ≤0.5: 30, ≤1: 40, +Inf: 50 (cumulative).
    bucket('0.1', 10),
    bucket('0.5', 30),
    bucket('1', 40),
    bucket('+Inf', 50),
    // Non-monotonic counts (≤1 lower than ≤0.5) are raised to the running maximum; le "1.0" and "1" coalesce.
    bucket('0.5', 20, { job: 'b' }),
    bucket('1', 15, { job: 'b' }),
    bucket('+Inf', 40, { job: 'b' }),
    // No +Inf bucket: NaN.
    bucket('0.5', 3, { job: 'c' }),
    // Everything in +Inf: the highest finite bound.
    bucket('0.5', 0, { job: 'd' }),
    bucket('+Inf', 5, { job: 'd' }),
    // A negative first bound holding the rank.
    bucket('-1', 5, { job: 'e' }),
    bucket('+Inf', 5, { job: 'e' }),
  ])
  const q = async (query: string) => asMap(await engine.instantQuery(query, 0))

  it('interpolates linearly inside the bucket holding the rank', async () => {
    // φ 0.5 → rank 25, in (0.1, 0.5] holding 20 of it: 0.1 + 0.4 · (25 - 10) / 20.
    // φ 0.9 → rank 45, in (1, +Inf]: the highest finite bound, 1.
    const r = await q('histogram_quantile(0.5, lat_bucket{job="a"})')
    expect(r['{job="a"}']).toBeCloseTo(0.1 + (0.4 * 15) / 20, 14)
    expect(await q('histogram_quantile(0.9, lat_bucket{job="a"})')).toEqual({ '{job="a"}': 1 })
    // φ 0.05 → rank 2.5 in the first bucket, from 0: 0.1 · 2.5 / 10.
    expect((await q('histogram_quantile(0.05, lat_bucket{job="a"})'))['{job="a"}']).toBeCloseTo(0.025, 14)
  })
  it('applies Prometheus bucket rules: monotonic fix, no +Inf, all in +Inf, negative bound, φ outside [0, 1]', async () => {
    // job b: counts 20, 15→20, 40; rank 0.75 · 40 = 30 falls in +Inf → 1.
    expect(await q('histogram_quantile(0.75, lat_bucket{job="b"})')).toEqual({ '{job="b"}': 1 })
    // rank 0.25 · 40 = 10 in the first bucket: 0.5 · 10 / 20.
    expect(await q('histogram_quantile(0.25, lat_bucket{job="b"})')).toEqual({ '{job="b"}': 0.25 })
    expect(await q('histogram_quantile(0.5, lat_bucket{job="c"})')).toEqual({ '{job="c"}': NaN })
    expect(await q('histogram_quantile(0.5, lat_bucket{job="d"})')).toEqual({ '{job="d"}': 0.5 })
    expect(await q('histogram_quantile(0.5, lat_bucket{job="e"})')).toEqual({ '{job="e"}': -1 })
    expect(await q('histogram_quantile(2, lat_bucket{job="a"})')).toEqual({ '{job="a"}': Infinity })
    expect(await q('histogram_quantile(-2, lat_bucket{job="a"})')).toEqual({ '{job="a"}': -Infinity })
  })
  it('groups by all labels but le, across aggregated rates', async () => {
    const r = await q('histogram_quantile(0.5, sum by (le) (lat_bucket{job=~"a|b"}))')
    // Summed: 0.1 → 10, 0.5 → 50, 1 → 55, +Inf → 90; rank 45 in (0.1, 0.5]: 0.1 + 0.4 · 35/40.
    expect(r['{}']).toBeCloseTo(0.1 + (0.4 * 35) / 40, 14)
  })
})

describe('label_replace and label_join', () => {
  const engine = engineOver([
    at({ __name__: 'up', job: 'api', instance: 'host-1:9090' }, 1),
    at({ __name__: 'up', job: 'db', instance: 'host-2:5432' }, 1),
  ])
  const q = async (query: string) => asMap(await engine.instantQuery(query, 0))

  it('replaces with capture groups, named groups and Go template rules', async () => {
    expect(await q('label_replace(up{job="api"}, "host", "$1", "instance", "(.*):.*")')).toEqual({
      '{__name__="up",host="host-1",instance="host-1:9090",job="api"}': 1,
    })
    expect(await q('label_replace(up{job="api"}, "port", "${port}!", "instance", ".*:(?P<port>\\\\d+)")')).toEqual({
      '{__name__="up",instance="host-1:9090",job="api",port="9090!"}': 1,
    })
    // `$1x` names a group "1x", which does not exist: empty, so the label is not set.
    expect(await q('label_replace(up{job="api"}, "x", "$1x", "instance", "(.*)")')).toEqual({
      '{__name__="up",instance="host-1:9090",job="api"}': 1,
    })
    // No match: unchanged. The regex is anchored.
    expect(await q('label_replace(up{job="api"}, "x", "y", "instance", "host")')).toEqual({
      '{__name__="up",instance="host-1:9090",job="api"}': 1,
    })
    // An empty replacement removes the label.
    expect(await q('label_replace(up{job="api"}, "job", "", "job", ".*")')).toEqual({
      '{__name__="up",instance="host-1:9090"}': 1,
    })
  })
  it('refuses a bad destination or regex', async () => {
    await expect(q('label_replace(up, "1x", "a", "job", ".*")')).rejects.toMatchObject({
      errorType: 'execution',
      message: 'invalid destination label name in label_replace(): 1x',
    })
    await expect(q('label_replace(up, "x", "a", "job", "(")')).rejects.toMatchObject({
      message: 'invalid regular expression in label_replace(): (',
    })
  })
  it('refuses a replacement giving two series the same labels', async () => {
    await expect(
      q('label_replace(label_replace(up, "job", "x", "", ""), "instance", "y", "", "")'),
    ).rejects.toMatchObject({ message: 'vector cannot contain metrics with the same labelset' })
  })
  it('joins source labels with a separator', async () => {
    expect(await q('label_join(up{job="db"}, "id", "/", "job", "instance", "none")')).toEqual({
      '{__name__="up",id="db/host-2:5432/",instance="host-2:5432",job="db"}': 1,
    })
    expect(await q('label_join(up{job="db"}, "job", ",", "none")')).toEqual({
      '{__name__="up",instance="host-2:5432"}': 1,
    })
  })
})

describe('other functions', () => {
  const engine = engineOver([
    at({ __name__: 'v', k: 'a' }, -2.5),
    at({ __name__: 'v', k: 'b' }, 7.25),
    at({ __name__: 'v', k: 'c' }, NaN),
    series({ __name__: 'late', k: 'a' }, 1, () => 1, 15_000, 40_000),
  ])
  const q = async (query: string, t = 60_000) => asMap(await engine.instantQuery(query, t))
  const s = async (query: string, t = 60_000) => scalarOf(await engine.instantQuery(query, t))

  it('math functions drop the name', async () => {
    expect(await q('abs(v{k="a"})')).toEqual({ '{k="a"}': 2.5 })
    expect(await q('ceil(v{k="a"})')).toEqual({ '{k="a"}': -2 })
    expect(await q('floor(v{k="b"})')).toEqual({ '{k="b"}': 7 })
    expect(await q('sgn(v)')).toEqual({ '{k="a"}': -1, '{k="b"}': 1, '{k="c"}': NaN })
    expect(await q('sqrt(v{k="b"} - 3.25)')).toEqual({ '{k="b"}': 2 })
    expect(await q('exp(v{k="a"} * 0)')).toEqual({ '{k="a"}': 1 })
    expect(await q('ln(v{k="b"} * 0)')).toEqual({ '{k="b"}': -Infinity })
    expect(await q('log2(v{k="b"} + 0.75)')).toEqual({ '{k="b"}': 3 })
    expect(await q('deg(v{k="b"} * 0 + pi())')).toEqual({ '{k="b"}': 180 })
    expect(await q('rad(v{k="b"} * 0 + 180)')).toEqual({ '{k="b"}': Math.PI })
    // Go's Log10 is Log(x)·(1/Ln10): log10(1000) is 2.9999999999999996 in Prometheus.
    expect(await q('log10(v{k="b"} * 0 + 1000)')).toEqual({ '{k="b"}': Math.log(1000) * (1 / Math.LN10) })
  })
  it('clamp, clamp_min, clamp_max and round', async () => {
    expect(await q('clamp(v, 0, 5)')).toEqual({ '{k="a"}': 0, '{k="b"}': 5, '{k="c"}': NaN })
    expect(await q('clamp(v, 5, 0)')).toEqual({})
    expect(await q('clamp_min(v{k="a"}, 0)')).toEqual({ '{k="a"}': 0 })
    expect(await q('clamp_max(v{k="b"}, 0)')).toEqual({ '{k="b"}': 0 })
    // Ties round up: floor(v / to + 0.5) · to.
    expect(await q('round(v{k=~"a|b"})')).toEqual({ '{k="a"}': -2, '{k="b"}': 7 })
    expect(await q('round(v{k="b"}, 0.5)')).toEqual({ '{k="b"}': 7.5 })
  })
  it('absent, scalar, vector, time', async () => {
    expect(await q('absent(nope{a="1", b=~"x", c="2", c="3"})')).toEqual({ '{a="1"}': 1 })
    expect(await q('absent(v)')).toEqual({})
    expect(await q('absent(sum(nope))')).toEqual({ '{}': 1 })
    expect(await s('scalar(v{k="a"})')).toBe(-2.5)
    expect(Number.isNaN(await s('scalar(v)'))).toBe(true)
    expect(await q('vector(3)')).toEqual({ '{}': 3 })
    expect(await s('time()')).toBe(60)
  })
  it('date functions read the sample as Unix seconds in UTC, or the step time without argument', async () => {
    // 2024-02-29T13:45:00Z is 1709214300 s.
    const t = 1_709_214_300_000
    const d = engineOver([at({ __name__: 'ts' }, 1_709_214_300)])
    const one = async (f: string) => Object.values(asMap(await d.instantQuery(`${f}(ts)`, 0)))[0]
    expect(await one('year')).toBe(2024)
    expect(await one('month')).toBe(2)
    expect(await one('day_of_month')).toBe(29)
    expect(await one('day_of_week')).toBe(4)
    expect(await one('day_of_year')).toBe(60)
    expect(await one('days_in_month')).toBe(29)
    expect(await one('hour')).toBe(13)
    expect(await one('minute')).toBe(45)
    expect(asMap(await d.instantQuery('hour()', t))).toEqual({ '{}': 13 })
  })
  it('timestamp gives the sample time of a selector, the step time otherwise', async () => {
    expect(await q('timestamp(late)', 60_000)).toEqual({ '{k="a"}': 40 })
    expect(await q('timestamp(late * 1)', 60_000)).toEqual({ '{k="a"}': 60 })
  })
  it('sort and sort_desc order an instant vector, NaN last', async () => {
    const order = async (query: string) => {
      const d = await engine.instantQuery(query, 0)
      if (d.resultType !== 'vector') throw new Error('vector expected')
      return d.result.map((x) => x.metric.k)
    }
    expect(await order('sort(v)')).toEqual(['a', 'b', 'c'])
    expect(await order('sort_desc(v)')).toEqual(['b', 'a', 'c'])
    expect(Object.keys(await q('sort(v)', 0))).toContain('{__name__="v",k="a"}')
  })
})

describe('subqueries', () => {
  // x = i at 10 s · i.
  const engine = engineOver([series({ __name__: 'x' }, 100, (i) => i, 10_000)])
  it('evaluate the inner query at multiples of the step inside the window', async () => {
    // At 95 s, [95 s - 30 s, 95 s] = [65, 95]: steps at 70, 80, 90 s, where x is 7, 8, 9.
    expect(matrixOf(await engine.instantQuery('x[30s:10s]', 95_000))).toEqual({
      '{__name__="x"}': [
        [70, 7],
        [80, 8],
        [90, 9],
      ],
    })
    // Closed window: at 90 s, [60, 90] holds 60, 70, 80, 90 s.
    expect(asMap(await engine.instantQuery('count_over_time(x[30s:10s])', 90_000))).toEqual({ '{}': 4 })
    expect(asMap(await engine.instantQuery('sum_over_time(x[30s:10s])', 90_000))).toEqual({ '{}': 6 + 7 + 8 + 9 })
  })
  it('apply offset and @ to the subquery', async () => {
    // Offset 20 s at 95 s: window [45, 75]: steps 50, 60, 70 s.
    expect(asMap(await engine.instantQuery('sum_over_time(x[30s:10s] offset 20s)', 95_000))).toEqual({
      '{}': 5 + 6 + 7,
    })
    expect(asMap(await engine.instantQuery('max_over_time(x[30s:10s] @ 200)', 95_000))).toEqual({ '{}': 20 })
  })
  it('nest a rate in a subquery and default the step to one minute', async () => {
    // rate(x[20s]) is 0.1/s everywhere; steps of 1 m in [0, 300 s] from 60 s on … 300 s: five.
    expect(asMap(await engine.instantQuery('count_over_time(rate(x[20s])[4m:])', 300_000))).toEqual({ '{}': 5 })
    const r = asMap(await engine.instantQuery('avg_over_time(rate(x[20s])[4m:])', 300_000))
    expect(r['{}']).toBeCloseTo(0.1, 12)
  })
  it('give every step of a range query the same inner steps it would get alone', async () => {
    const m = matrixOf(await engine.rangeQuery('sum_over_time(x[20s:10s])', 50_000, 70_000, 10_000))
    // At t: x(t-20) + x(t-10) + x(t) = 3·t/10 - 3.
    expect(m).toEqual({
      '{}': [
        [50, 12],
        [60, 15],
        [70, 18],
      ],
    })
  })
})
