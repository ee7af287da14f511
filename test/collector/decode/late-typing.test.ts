import { describe, expect, it } from 'vitest'
import { declareTypes, lateTypings } from '../../../collector/src/decode/late-typing.ts'
import { FAMILY_TYPE, MetricFamilies, seriesTyping } from '../../../collector/src/decode/remote-write-typing.ts'
import { MetricTypes } from '../../../collector/src/model/metric-types.ts'

// Which series names metadata come late can have found stored with a wrong, guessed type, and
// what the types samples yield to become.

describe('lateTypings', () => {
  it('names the series a guess types otherwise than their family declares, and no other', () => {
    const got = lateTypings([
      { family: 'legacy_requests', type: FAMILY_TYPE.COUNTER }, // no _total: guessed gauge
      { family: 'http_requests_total', type: FAMILY_TYPE.COUNTER }, // guessed right
      { family: 'pool_count', type: FAMILY_TYPE.GAUGE }, // named as a counter's part: guessed sum
      { family: 'temperature', type: FAMILY_TYPE.GAUGE }, // guessed right
      { family: 'latency_seconds', type: FAMILY_TYPE.HISTOGRAM }, // _bucket/_count/_sum guessed right
      { family: 'queue', type: FAMILY_TYPE.GAUGEHISTOGRAM }, // _bucket guessed sum
      { family: 'rpc', type: FAMILY_TYPE.SUMMARY }, // quantiles and parts guessed right
      { family: 'mystery', type: FAMILY_TYPE.UNKNOWN }, // declares nothing
    ])
    expect(got).toEqual([
      { metric: 'legacy_requests', guessed: 'gauge', declared: 'sum', family: 'legacy_requests' },
      { metric: 'pool_count', guessed: 'sum', declared: 'gauge', family: 'pool_count' },
      { metric: 'queue_bucket', guessed: 'sum', declared: 'gauge', family: 'queue' },
    ])
  })

  it('agrees with how samples are typed once the metadata is known', () => {
    const cases = [
      { family: 'legacy_requests', type: FAMILY_TYPE.COUNTER },
      { family: 'pool_count', type: FAMILY_TYPE.GAUGE },
      { family: 'queue', type: FAMILY_TYPE.GAUGEHISTOGRAM },
      { family: 'build_total', type: FAMILY_TYPE.INFO },
      { family: 'rpc_sum', type: FAMILY_TYPE.SUMMARY },
    ]
    const families = new MetricFamilies()
    for (const c of cases) families.set(c.family, { type: c.type, help: '', unit: '' })
    const typings = lateTypings(cases)
    expect(typings.map((t) => t.metric)).toEqual([
      'legacy_requests',
      'pool_count',
      'queue_bucket',
      'build_total',
      'rpc_sum',
    ])
    for (const t of typings) {
      expect(seriesTyping(t.metric, new MetricFamilies()), t.metric).toMatchObject({ type: t.guessed, guessed: true })
      expect(seriesTyping(t.metric, families).type, t.metric).toBe(t.declared)
    }
  })
})

describe('declareTypes', () => {
  it('makes samples yield to the declared type where the known type is unknown, the guess or already declared', () => {
    const types = MetricTypes.of([
      ['guessed_gauge', 'gauge'], // read at start from series stored on a guess
      ['declared_already', 'sum'],
      ['stated_other', 'histogram'], // stored under that name as something else: left alone
    ])
    const typings = [
      { metric: 'guessed_gauge', guessed: 'gauge', declared: 'sum', family: 'guessed_gauge' },
      { metric: 'never_learned', guessed: 'gauge', declared: 'sum', family: 'never_learned' },
      { metric: 'declared_already', guessed: 'gauge', declared: 'sum', family: 'declared_already' },
      { metric: 'stated_other', guessed: 'gauge', declared: 'sum', family: 'stated_other' },
    ] as const
    const kept = declareTypes(typings, types)
    expect(kept.map((t) => t.metric)).toEqual(['guessed_gauge', 'never_learned', 'declared_already'])
    expect(types.get('guessed_gauge')).toBe('sum')
    expect(types.get('never_learned')).toBe('sum')
    expect(types.get('declared_already')).toBe('sum')
    expect(types.get('stated_other')).toBe('histogram')
  })
})
