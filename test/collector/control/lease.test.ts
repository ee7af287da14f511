import { describe, expect, it } from 'vitest'
import { Lease, leaseHolder, leadsIn, planLease, type LeaseClaim } from '../../../collector/src/control/lease.ts'
import { MemoryLeaseStore } from '../../../collector/src/store/lease-store.ts'
import { isGovernorError } from '../../../collector/src/errors.ts'
import { ManualClock } from '../../../collector/src/sinks/clock.ts'

// The lease against the store double, driven by a manual clock (settling advances it).

const TTL = 9_000
const SETTLE = 500

function lease(store: MemoryLeaseStore, clock: ManualClock, holder: string): Lease {
  return new Lease({
    store,
    name: 'controllers',
    holder,
    ttlMillis: TTL,
    settleMillis: SETTLE,
    now: () => clock.now(),
    sleep: async (ms) => clock.advance(ms),
  })
}

const claim = (term: number, holder: string, expiresAt: number): LeaseClaim => ({
  name: 'controllers',
  term,
  holder,
  expiresAt,
  writtenAt: 0,
})

async function staleTermOf(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (err) {
    return isGovernorError(err) ? err.code : String(err)
  }
  return 'accepted'
}

describe('the lease, pure', () => {
  it('names the least holder of the highest term, whatever order the claims come in', () => {
    const claims = [claim(3, 'b', 10), claim(4, 'c', 10), claim(4, 'a', 5), claim(2, 'a', 99)]
    expect(leaseHolder(claims)).toEqual({ term: 4, holder: 'a', expiresAt: 5 })
    expect(leaseHolder([...claims].reverse())).toEqual({ term: 4, holder: 'a', expiresAt: 5 })
    expect(leaseHolder([])).toEqual({ term: 0, holder: undefined, expiresAt: 0 })
  })

  it('renews its own term, follows a live holder, claims the next term once the holder lapsed', () => {
    expect(planLease([], 'controllers', 'a', 100, TTL)).toEqual({
      kind: 'claim',
      claim: { name: 'controllers', term: 1, holder: 'a', expiresAt: 100 + TTL, writtenAt: 100 },
    })
    expect(planLease([claim(1, 'a', 200)], 'controllers', 'a', 100, TTL)).toMatchObject({
      kind: 'renew',
      claim: { term: 1, expiresAt: 100 + TTL },
    })
    expect(planLease([claim(1, 'a', 200)], 'controllers', 'b', 100, TTL)).toEqual({
      kind: 'follow',
      view: { term: 1, holder: 'a', expiresAt: 200 },
    })
    expect(planLease([claim(1, 'a', 200)], 'controllers', 'b', 200, TTL)).toMatchObject({
      kind: 'claim',
      claim: { term: 2, holder: 'b' },
    })
  })

  it('leads in a term only as its winner and before the expiry', () => {
    const claims = [claim(2, 'a', 1_000), claim(2, 'b', 1_000)]
    expect(leadsIn(claims, 'a', 2, 999)).toBe(true)
    expect(leadsIn(claims, 'a', 2, 1_000)).toBe(false)
    expect(leadsIn(claims, 'b', 2, 999)).toBe(false)
    expect(leadsIn(claims, 'a', 1, 999)).toBe(false)
  })
})

describe('two holders on one store double', () => {
  it('elect one leader; the other follows while the leader renews', async () => {
    const store = new MemoryLeaseStore()
    const clock = new ManualClock(1_000_000)
    const a = lease(store, clock, 'collector-a'),
      b = lease(store, clock, 'collector-b')
    expect((await a.step()).leader).toBe(true)
    expect(await b.step()).toEqual({
      leader: false,
      term: 1,
      holder: 'collector-a',
      expiresAt: 1_000_000 + SETTLE + TTL - SETTLE,
    })
    for (let i = 0; i < 10; i++) {
      clock.advance(TTL / 3)
      await a.step()
      await b.step()
      expect([a.held(clock.now()), b.held(clock.now())]).toEqual([true, false])
    }
    expect(a.state.term).toBe(1)
  })

  it('claiming at the same moment, both see both claims and agree on one winner', async () => {
    const store = new MemoryLeaseStore()
    const clock = new ManualClock(0)
    // Both read "nobody" before either writes: both claim term 1.
    const x = lease(store, clock, 'x'),
      y = lease(store, clock, 'y')
    const [sx, sy] = await Promise.all([x.step(), y.step()])
    expect(
      store.rows
        .filter((r) => r.term === 1)
        .map((r) => r.holder)
        .sort(),
    ).toEqual(['x', 'y'])
    expect([sx.leader, sy.leader]).toEqual([true, false])
    expect(sy.holder).toBe('x')
  })

  it('takes over when the leader stops renewing, in a new term, and refuses the old term', async () => {
    const store = new MemoryLeaseStore()
    const clock = new ManualClock(0)
    const a = lease(store, clock, 'a'),
      b = lease(store, clock, 'b')
    await a.step()
    const term = a.state.term
    await a.assertCurrent(term) // current while it leads
    clock.advance(TTL - SETTLE - 1)
    expect((await b.step()).leader).toBe(false) // one millisecond before the expiry: still a's
    clock.advance(1)
    expect(await b.step()).toMatchObject({ leader: true, term: term + 1, holder: 'b' })
    // a wakes up (a long pause) with a decision of its old term: refused.
    expect(await staleTermOf(a.assertCurrent(term))).toBe('GOV_ERR_CONTROLLER_STALE_TERM')
    expect(await a.step()).toMatchObject({ leader: false, holder: 'b', term: term + 1 })
    await b.assertCurrent(term + 1)
  })

  it('an expired claim is not current even when nobody took over yet', async () => {
    const store = new MemoryLeaseStore()
    const clock = new ManualClock(0)
    const a = lease(store, clock, 'a')
    await a.step()
    clock.advance(TTL)
    expect(a.held(clock.now())).toBe(false)
    expect(await staleTermOf(a.assertCurrent(a.state.term))).toBe('GOV_ERR_CONTROLLER_STALE_TERM')
  })

  it('a released lease is taken over at once, not after its expiry', async () => {
    const store = new MemoryLeaseStore()
    const clock = new ManualClock(0)
    const a = lease(store, clock, 'a'),
      b = lease(store, clock, 'b')
    await a.step()
    await a.release()
    clock.advance(1)
    expect(await b.step()).toMatchObject({ leader: true, term: 2 })
  })

  it('a store that fails leaves the holder not leading', async () => {
    const store = new MemoryLeaseStore()
    const clock = new ManualClock(0)
    const a = lease(store, clock, 'a')
    await a.step()
    store.failing = true
    await expect(a.step()).rejects.toThrow(/unavailable/)
    expect(a.held(clock.now())).toBe(false)
  })
})
