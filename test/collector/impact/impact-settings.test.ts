import { describe, expect, it } from 'vitest'
import type { ChangeLog } from '../../../collector/src/changelog/change-log.ts'
import { DeployImpact } from '../../../collector/src/impact/deploy-impact.ts'
import type { StoreQueries } from '../../../collector/src/store/queries.ts'

// A window of 150 s with 30 s buckets nominally holds 5, but buckets are aligned and deploys
// are not, so it holds 4 complete ones: every analysis would say not_enough_data. Refused at start.

const make = (windowMillis: number, bucketMillis: number) => () =>
  new DeployImpact({
    changeLog: {} as ChangeLog,
    queries: {} as StoreQueries,
    rankTest: async () => ({ u: 0, p: 1 }),
    windowMillis,
    bucketMillis,
    maxQueryPoints: 1000,
  })

describe('DeployImpact settings', () => {
  it('refuses windows that may hold fewer complete buckets than a verdict needs, saying how long they must be', () => {
    expect(make(150_000, 30_000)).toThrow(
      'GOVERNOR_IMPACT_WINDOW_MILLIS=150000 holds as few as 4 complete buckets of GOVERNOR_IMPACT_BUCKET_MILLIS=30000 (buckets are aligned, deploys are not), and a verdict needs 5: make the window at least 180000 ms or the buckets shorter',
    )
    expect(make(179_999, 30_000)).toThrow(/as few as 4 complete buckets/)
  })

  it('takes windows of six buckets or more', () => {
    expect(make(180_000, 30_000)).not.toThrow()
    expect(make(900_000, 30_000)).not.toThrow()
  })
})
