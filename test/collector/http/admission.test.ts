import { describe, expect, it } from 'vitest'
import { Admission } from '../../../collector/src/http/admission.ts'
import { ArrivalClock } from '../../../collector/src/http/arrival-clock.ts'
import { ManualClock } from '../../../throttle/src/clock.ts'
import { FixedLimit } from '../../../throttle/src/limit/fixed-limit.ts'
import { Limiter } from '../../../throttle/src/limit/limiter.ts'
import { RecordingLimit } from '../../../throttle/src/limit/recording-limit.ts'

/** Callbacks deferred to "the end of the turn", run when the test says the turn is over. */
function turns() {
  const pending: (() => void)[] = []
  return {
    defer: (fn: () => void) => {
      pending.push(fn)
    },
    end: () => {
      for (const fn of pending.splice(0)) fn()
    },
    pending,
  }
}

describe('admission by wait', () => {
  it('sheds a request that arrived longer ago than the bound, and admits one within it', () => {
    const clock = new ManualClock(1_000)
    const admission = new Admission({ maxWaitMillis: 50, maxBodyBytes: 0, clock: clock.now })
    const longAgo = clock.now()
    clock.advance(30)
    const lately = clock.now()
    expect(admission.late(longAgo)).toBe(false) // 30 ms: within the bound
    clock.advance(21)
    expect(admission.waited(longAgo)).toBe(51)
    expect(admission.late(longAgo)).toBe(true) // 51 ms: past it
    expect(admission.late(lately)).toBe(false) // 21 ms
    clock.advance(10_000)
    expect(admission.late(lately)).toBe(true)
    expect(admission.refused).toEqual({ waited: 2, body_bytes: 0 })
  })

  it('with no bound (0) sheds nothing, however long ago the request arrived', () => {
    const clock = new ManualClock()
    const admission = new Admission({ maxWaitMillis: 0, maxBodyBytes: 0, clock: clock.now })
    clock.advance(3_600_000)
    expect(admission.late(0)).toBe(false)
    expect(admission.refused.waited).toBe(0)
  })
})

describe('admission by body bytes', () => {
  it('refuses a body that would take the bytes being read past the ceiling, and admits again once they are released', () => {
    const admission = new Admission({ maxWaitMillis: 0, maxBodyBytes: 1_000, clock: () => 0 })
    expect(admission.reserve(600)).toBe(true)
    expect(admission.reserve(400)).toBe(true) // exactly at the ceiling
    expect(admission.bodyBytes).toBe(1_000)
    expect(admission.reserve(1)).toBe(false)
    expect(admission.refused).toEqual({ waited: 0, body_bytes: 1 })
    admission.release(600)
    expect(admission.reserve(500)).toBe(true)
    expect(admission.bodyBytes).toBe(900)
  })

  it('takes any body when nothing else is being read, so a body over the ceiling is still served alone', () => {
    const admission = new Admission({ maxWaitMillis: 0, maxBodyBytes: 1_000, clock: () => 0 })
    expect(admission.reserve(5_000)).toBe(true)
    expect(admission.reserve(0)).toBe(false) // even a body of unknown length waits for it
    admission.release(5_000)
    expect(admission.bodyBytes).toBe(0)
    expect(admission.reserve(0)).toBe(true)
  })

  it('counts a body of undeclared length as it is read', () => {
    const admission = new Admission({ maxWaitMillis: 0, maxBodyBytes: 1_000, clock: () => 0 })
    expect(admission.reserve(0)).toBe(true)
    admission.grow(800)
    admission.grow(300)
    expect(admission.bodyBytes).toBe(1_100)
    expect(admission.reserve(10)).toBe(false)
    admission.release(1_100)
    expect(admission.bodyBytes).toBe(0)
  })
})

describe('arrival clock', () => {
  it("gives every request read in one event-loop turn the turn's start, so the last of them is seen to have waited for the others", () => {
    const clock = new ManualClock(500)
    const t = turns()
    const arrivals = new ArrivalClock(clock.now, t.defer)
    const admission = new Admission({ maxWaitMillis: 50, maxBodyBytes: 0, clock: clock.now })
    const first = arrivals.arrival()
    expect(first).toBe(500)
    clock.advance(30) // the first request is decoded
    expect(arrivals.arrival()).toBe(500)
    clock.advance(30) // and the second
    const third = arrivals.arrival()
    expect(third).toBe(500)
    expect(admission.late(third)).toBe(true) // waited 60 ms behind the two before it
    expect(t.pending).toHaveLength(1) // one deferred callback a turn, not one a request
    t.end()
    clock.advance(5)
    expect(arrivals.arrival()).toBe(565) // a new turn
    expect(admission.late(arrivals.arrival())).toBe(false)
  })
})

describe('the limiter timed from arrival', () => {
  it('counts the wait before acquire in the round trip it samples', () => {
    const clock = new ManualClock(1_000)
    const limit = new RecordingLimit(new FixedLimit(10))
    const limiter = new Limiter({ limit, clock: clock.now, criticalReserve: 0 })
    const arrived = clock.now()
    clock.advance(400) // waited in the event loop before the limiter's hook ran
    const fromArrival = limiter.acquire({}, arrived)!
    const fromHook = limiter.acquire({})!
    clock.advance(20)
    fromArrival.onSuccess()
    fromHook.onSuccess()
    expect(limit.samples.map((s) => s.rtt)).toEqual([420, 20])
    // An arrival "later" than now (another clock) counts from now, never a negative round trip.
    limiter.acquire({}, clock.now() + 1_000)!.onSuccess()
    expect(limit.samples.at(-1)!.rtt).toBe(0)
  })
})
