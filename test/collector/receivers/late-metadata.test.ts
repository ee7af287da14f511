import { describe, expect, it } from 'vitest'
import type { NewEvent } from '../../../collector/src/changelog/change-log.ts'
import { FAMILY_TYPE } from '../../../collector/src/decode/remote-write-typing.ts'
import { MetricTypes } from '../../../collector/src/model/metric-types.ts'
import {
  applyLateMetadata,
  RETYPED_KIND,
  type LateMetadataDeps,
} from '../../../collector/src/receivers/late-metadata.ts'
import type { RetypedSeries, Retyping } from '../../../collector/src/store/series-retyping.ts'

// The order of applying late metadata, with the store and the change log recorded: types are
// declared before the call returns, the store is re-typed only after what was accepted on the
// guess is committed, and each re-typed metric is recorded once per service.

/** `answers`: what each call of `retype` answers, in turn (then nothing). */
function deps(...answers: (RetypedSeries[] | Error)[]) {
  const steps: string[] = []
  const events: NewEvent[] = []
  const asked: Retyping[][] = []
  const d: LateMetadataDeps = {
    types: MetricTypes.of([['legacy_requests', 'gauge']]),
    sync: async () => {
      steps.push(`sync (legacy_requests is ${d.types.get('legacy_requests')})`)
    },
    retype: async (r) => {
      steps.push('retype')
      asked.push([...r])
      const answer = answers.shift() ?? []
      if (answer instanceof Error) throw answer
      return answer
    },
    record: async (e) => {
      steps.push(`record ${e.id}`)
      events.push(e)
    },
    now: () => 1_700_000_000_000,
  }
  return { d, steps, events, asked }
}

describe('applyLateMetadata', () => {
  it('declares the type at once, re-types after the sync, records each re-typed metric by service', async () => {
    const { d, steps, events, asked } = deps([
      { metric: 'legacy_requests', service: 'shop', from: 'gauge', to: 'sum', series: 2 },
    ])
    const done = applyLateMetadata(
      [
        { family: 'legacy_requests', type: FAMILY_TYPE.COUNTER },
        { family: 'temperature', type: FAMILY_TYPE.GAUGE },
      ],
      d,
    )
    // Before any await: a sample decoded next is stored as a counter.
    expect(d.types.get('legacy_requests')).toBe('sum')
    expect(await done).toHaveLength(1)
    expect(asked).toEqual([
      [{ metric: 'legacy_requests', from: 'gauge', to: 'sum' }],
      [{ metric: 'legacy_requests', from: 'gauge', to: 'sum' }],
    ])
    expect(steps).toEqual([
      'sync (legacy_requests is sum)',
      'retype',
      'sync (legacy_requests is sum)',
      'retype',
      `record ${RETYPED_KIND}:shop:legacy_requests:counter`,
    ])
    expect(events[0]).toMatchObject({
      kind: RETYPED_KIND,
      service: 'shop',
      time: 1_700_000_000_000,
      title: 'legacy_requests re-typed from gauge to counter',
      data: { metric: 'legacy_requests', family: 'legacy_requests', from: 'gauge', to: 'counter', series: 2 },
    })
  })

  it('touches nothing when no series can carry a wrong guess', async () => {
    const { d, steps } = deps([])
    const got = await applyLateMetadata(
      [
        { family: 'http_requests_total', type: FAMILY_TYPE.COUNTER },
        { family: 'latency_seconds', type: FAMILY_TYPE.HISTOGRAM },
      ],
      d,
    )
    expect(got).toEqual([])
    expect(steps).toEqual([])
  })

  it('records nothing when the store found no series on the guess (stated, or re-typed by another collector)', async () => {
    const { d, steps, events } = deps([])
    await applyLateMetadata([{ family: 'legacy_requests', type: FAMILY_TYPE.COUNTER }], d)
    expect(steps).toEqual(['sync (legacy_requests is sum)', 'retype', 'sync (legacy_requests is sum)', 'retype'])
    expect(events).toEqual([])
  })

  it('takes in, on its second pass, series a request decoded on the guess stored after the first', async () => {
    const { d, events } = deps(
      [{ metric: 'legacy_requests', service: 'shop', from: 'gauge', to: 'sum', series: 2 }],
      [
        { metric: 'legacy_requests', service: 'shop', from: 'gauge', to: 'sum', series: 1 },
        { metric: 'legacy_requests', service: 'cart', from: 'gauge', to: 'sum', series: 1 },
      ],
    )
    const got = await applyLateMetadata([{ family: 'legacy_requests', type: FAMILY_TYPE.COUNTER }], d)
    expect(got.map((r) => [r.service, r.series])).toEqual([
      ['shop', 3],
      ['cart', 1],
    ])
    expect(events.map((e) => [e.service, e.data.series])).toEqual([
      ['shop', 3],
      ['cart', 1],
    ])
  })

  it('rejects when the store fails, the declared type kept so that a retry re-types what is left', async () => {
    const { d, events } = deps(new Error('store down'))
    await expect(applyLateMetadata([{ family: 'legacy_requests', type: FAMILY_TYPE.COUNTER }], d)).rejects.toThrow(
      'store down',
    )
    expect(events).toEqual([])
    expect(d.types.get('legacy_requests')).toBe('sum')
    // The same metadata again: asked again, though the known type is already the declared one.
    const again = deps([{ metric: 'legacy_requests', service: 'shop', from: 'gauge', to: 'sum', series: 1 }])
    again.d.types = d.types
    expect(await applyLateMetadata([{ family: 'legacy_requests', type: FAMILY_TYPE.COUNTER }], again.d)).toHaveLength(1)
  })
})
