import { describe, expect, it } from 'vitest'
import { CardinalityGuard } from '../../../collector/src/model/cardinality-guard.ts'
import { SeriesCache } from '../../../collector/src/model/series-cache.ts'
import type { SeriesInfo } from '../../../collector/src/model/types.ts'

const cache = new SeriesCache()
const series = (metric: string, service: string, i: number): SeriesInfo =>
  cache.resolve({
    metric,
    type: 'gauge',
    temporality: 'unspecified',
    monotonic: false,
    unit: '',
    description: '',
    service,
    scope: '',
    resource: { 'service.name': service },
    attributes: { user: String(i) },
  })

function guard(known: Set<bigint> = new Set()) {
  let now = Date.UTC(2026, 0, 1, 10, 0, 0)
  const refused: string[] = []
  const g = new CardinalityGuard({
    maxPerMetric: 3,
    maxPerService: 5,
    isKnown: (id) => known.has(id),
    now: () => now,
    onRefused: (l) => refused.push(l),
  })
  return {
    g,
    refused,
    advance: (ms: number) => {
      now += ms
    },
  }
}

describe('CardinalityGuard', () => {
  it("admits a metric's first new series up to the limit, then refuses with a reason", () => {
    const { g, refused } = guard()
    const verdicts = [0, 1, 2, 3].map((i) => g.admit(series('logins', 'auth', i)))
    expect(verdicts.slice(0, 3)).toEqual([undefined, undefined, undefined])
    expect(verdicts[3]).toMatch(/metric "logins" already gained 3 new series this hour/)
    expect(refused).toEqual(['metric'])
  })

  it('keeps admitting a series it admitted, and any series the store knows', () => {
    const known = new Set([series('logins', 'auth', 99).id])
    const { g } = guard(known)
    for (const i of [0, 1, 2]) g.admit(series('logins', 'auth', i))
    expect(g.admit(series('logins', 'auth', 1))).toBeUndefined()
    expect(g.admit(series('logins', 'auth', 99))).toBeUndefined()
    expect(g.admit(series('logins', 'auth', 4))).toBeDefined()
  })

  it('limits a service across its metrics', () => {
    const { g, refused } = guard()
    const verdicts = ['a', 'b', 'c'].flatMap((m) => [0, 1].map((i) => g.admit(series(m, 'auth', i))))
    expect(verdicts.filter((v) => v === undefined)).toHaveLength(5)
    expect(verdicts[5]).toMatch(/service "auth" already gained 5 new series/)
    expect(refused).toEqual(['service'])
  })

  it('starts counting again at the top of the hour', () => {
    const { g, advance } = guard()
    for (const i of [0, 1, 2]) g.admit(series('logins', 'auth', i))
    expect(g.admit(series('logins', 'auth', 3))).toBeDefined()
    advance(3_600_000)
    expect(g.admit(series('logins', 'auth', 3))).toBeUndefined()
  })
})
