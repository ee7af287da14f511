import { describe, expect, it } from 'vitest'
import { createController } from '../../../throttle/src/control/create-controller.ts'
import type { AlgorithmName } from '../../../throttle/src/control/types.ts'
import { bounds, Drive } from './helpers.ts'

// The rules every algorithm obeys, whatever it computes. Target 300 (ms, say), value 40.
describe.each<AlgorithmName>(['aimd', 'gradient', 'pid'])('%s obeys the shared rules', (name) => {
  const drive = (value = 40, params: Record<string, number> = {}) => new Drive(createController(name, params), value)

  it('lowers when over the target, by no more than the max step', () => {
    const d = drive()
    const decision = d.tick(412, bounds({ maxStep: 3 }))
    expect(decision).toMatchObject({ kind: 'lower', value: 37 })
    expect(decision.reason).toMatch(
      new RegExp(`^SLI 412 over target 300 \\(\\+37 %\\): 40 → 37 \\(${name}, .*max step 3\\)$`),
    )
    const free = drive().tick(412)
    expect(free.kind).toBe('lower')
    expect(free.value).toBeLessThan(37) // without the cap it would have gone further
  })

  it('raises when under the target, by no more than the max step', () => {
    const decision = drive(40, name === 'aimd' ? { increase: 5 } : {}).tick(120, bounds({ maxStep: 2 })) // aimd's default step is 1
    expect(decision).toMatchObject({ kind: 'raise', value: 42 })
    expect(decision.reason).toMatch(new RegExp(`^SLI 120 under target 300 \\(-60 %\\): 40 → 42 \\(${name}, `))
  })

  it('holds inside the dead band, and acts just outside it', () => {
    const d = drive()
    for (const sli of [310, 290, 315, 285]) {
      const decision = d.tick(sli)
      expect(decision).toMatchObject({ kind: 'hold', value: 40 })
      expect(decision.reason).toMatch(
        new RegExp(`^SLI ${sli} within ±5 % of target 300 \\([-+]\\d+ %\\): holding at 40 \\(${name}\\)$`),
      )
    }
    expect(d.tick(316).kind).toBe('lower')
    expect(drive().tick(284).kind).toBe('raise')
  })

  it('makes no change sooner than the cooldown after the last one', () => {
    const d = drive(100)
    const b = bounds({ cooldownMillis: 30_000, maxStep: 5 })
    expect(d.tick(450, b)).toMatchObject({ kind: 'lower', value: 95 })
    const held = d.tick(450, b) // 10 s later
    expect(held).toMatchObject({ kind: 'hold', value: 95 })
    expect(held.reason).toBe(
      `SLI 450 over target 300 (+50 %) but the last change was 10 s ago (cooldown 30 s): holding at 95 (${name})`,
    )
    expect(d.tick(450, b).kind).toBe('hold') // 20 s
    expect(d.tick(450, b)).toMatchObject({ kind: 'lower', value: 90 }) // 30 s: allowed again
    expect(d.tick(450, b).kind).toBe('hold')
  })

  it('stays inside the bounds: clamped to min and max, and holds there', () => {
    const low = drive(11).tick(900, bounds({ min: 10 }))
    expect(low).toMatchObject({ kind: 'lower', value: 10 })
    expect(low.reason).toMatch(/clamped to min 10\)$/)
    const atMin = drive(10).tick(900, bounds({ min: 10 }))
    expect(atMin).toMatchObject({ kind: 'hold', value: 10 })
    expect(atMin.reason).toBe(`SLI 900 over target 300 (+200 %): already at min 10; holding at 10 (${name})`)
    const high = drive(199).tick(30, bounds({ max: 200, maxStep: 50 }))
    expect(high).toMatchObject({ kind: 'raise', value: 200 })
    const atMax = drive(200).tick(30, bounds({ max: 200 }))
    expect(atMax).toMatchObject({ kind: 'hold', value: 200 })
    expect(atMax.reason).toMatch(/already at max 200; holding at 200/)
  })

  it('moves a value outside the bounds to the nearest bound first, whatever the SLI or the cooldown', () => {
    const d = drive(40)
    const b = bounds({ cooldownMillis: 600_000 })
    d.tick(450, b) // a change: the cooldown starts
    const forced = d.tick(300, bounds({ cooldownMillis: 600_000, max: 20 }))
    expect(forced).toMatchObject({ kind: 'lower', value: 20 })
    expect(forced.reason).toBe(
      `${d.decisions[0]!.value} is outside the bounds [1, 20]: ${d.decisions[0]!.value} → 20 (${name})`,
    )
  })

  it('rounds to whole numbers for integer knobs, and not otherwise', () => {
    for (let i = 0, d = drive(37); i < 5; i++) expect(Number.isInteger(d.tick(i % 2 ? 413 : 151).value)).toBe(true)
    const float = drive(37).tick(413, bounds({ integer: false }))
    expect(Number.isInteger(float.value)).toBe(false)
    expect(float.value).toBeLessThan(37)
  })

  it('a small integer knob still moves: rounding does not swallow the step', () => {
    const d = drive(2)
    expect(d.tick(330)).toMatchObject({ kind: 'lower', value: 1 }) // 10 % over: any algorithm asks for less than one whole step
  })

  it('holds, value unchanged and the reason saying why, when the SLI is missing or stale', () => {
    const d = drive()
    const none = d.tick(undefined)
    expect(none).toEqual({ kind: 'hold', value: 40, reason: `no SLI data: holding at 40 (${name})` })
    const stale = d.tick(900, bounds(), { stale: true })
    expect(stale).toEqual({ kind: 'hold', value: 40, reason: `SLI data is stale: holding at 40 (${name})` })
    const nan = d.tick(Number.NaN)
    expect(nan).toMatchObject({ kind: 'hold', value: 40 })
    expect(nan.reason).toMatch(/^SLI NaN is not a measurement/)
    expect(d.tick(900).kind).toBe('lower') // and acts again with data
  })

  it('holds on bounds it cannot obey', () => {
    expect(drive().tick(900, bounds({ min: 50, max: 10 })).reason).toMatch(
      /^bounds invalid \(min 50, max 10, whole numbers\)/,
    )
    expect(drive().tick(900, bounds({ maxStep: 0 })).reason).toMatch(/^max step 0 allows no change/)
  })

  it('raises only what is used, and not while the error budget burns', () => {
    const unused = drive().tick(120, bounds(), { inUse: 19 })
    expect(unused).toMatchObject({ kind: 'hold', value: 40 })
    expect(unused.reason).toBe(`SLI 120 under target 300 (-60 %) but only 19 of 40 in use: holding at 40 (${name})`)
    expect(drive().tick(120, bounds(), { inUse: 20 }).kind).toBe('raise')
    const burning = drive().tick(120, bounds(), { burnRate: 2.5 })
    expect(burning.kind).toBe('hold')
    expect(burning.reason).toMatch(/burns at 2.5× \(raises wait below 1×\)/)
    expect(drive().tick(450, bounds(), { inUse: 1, burnRate: 9 }).kind).toBe('lower') // the gates never stop a decrease
  })

  it("raises a bound only while the app's limiter reaches it (binding), and lowers whatever the limiter does", () => {
    const idle = drive().tick(120, bounds(), { limit: 31, inUse: 30 })
    expect(idle).toMatchObject({ kind: 'hold', value: 40 })
    expect(idle.reason).toBe(
      `SLI 120 under target 300 (-60 %) but the app's limiter stays at 31, under the bound 40 (not binding): holding at 40 (${name})`,
    )
    expect(drive().tick(120, bounds(), { limit: 40, inUse: 30 }).kind).toBe('raise')
    expect(drive().tick(450, bounds(), { limit: 3 }).kind).toBe('lower')
  })

  it('lowers sooner while the SLO burns fast: the cooldown divided by the burn rate, up to burnSpeedup', () => {
    const b = bounds({ cooldownMillis: 40_000, maxStep: 5 })
    const d = drive(100)
    expect(d.tick(450, b, { burnRate: 50 })).toMatchObject({ kind: 'lower', value: 95 })
    // 10 s later: the cooldown is 40 s ÷ 4 (burnSpeedup's default caps the burn rate of 50).
    expect(d.tick(450, b, { burnRate: 50 })).toMatchObject({ kind: 'lower', value: 90 })
    // Burning at 2×: 20 s; 10 s after the change it waits, and says why.
    const held = d.tick(450, b, { burnRate: 2 })
    expect(held.kind).toBe('hold')
    expect(held.reason).toBe(
      `SLI 450 over target 300 (+50 %) but the last change was 10 s ago (cooldown 40 s, 20 s at burn rate 2×): holding at 90 (${name})`,
    )
    expect(d.tick(450, b, { burnRate: 2 }).kind).toBe('lower')
    // Without the speedup, the full cooldown.
    const fixed = new Drive(createController(name, { burnSpeedup: 1 }), 100)
    expect(fixed.tick(450, b, { burnRate: 50 }).kind).toBe('lower')
    expect(fixed.tick(450, b, { burnRate: 50 }).kind).toBe('hold')
    // Under the target a burn rate never speeds a raise.
    const up = drive(40)
    expect(up.tick(120, b, { burnRate: 0.5 }).kind).toBe('raise')
    expect(up.tick(120, b, { burnRate: 0.5 }).kind).toBe('hold')
  })

  it('holds raises while the observation says they must wait, and states the reading as given', () => {
    const waiting = drive().tick(120, bounds(), {
      raiseHold: 'the guard is near its limit',
      sliText: 'lag 5400 over 1000',
    })
    expect(waiting).toEqual({
      kind: 'hold',
      value: 40,
      reason: `lag 5400 over 1000 but the guard is near its limit: holding at 40 (${name})`,
    })
    const lower = drive().tick(450, bounds(), {
      raiseHold: 'the guard is near its limit',
      sliText: 'lag 200 under 1000',
    })
    expect(lower.kind).toBe('lower')
    expect(lower.reason).toMatch(/^lag 200 under 1000: 40 → /)
  })

  it('keeps its state JSON-serialisable: a restored state steps the same', () => {
    const a = drive(80)
    const b = bounds({ cooldownMillis: 15_000 })
    for (const sli of [450, 420, 380, 200, 150]) a.tick(sli, b)
    const copy = new Drive(createController(name), a.value)
    copy.clock.set(a.clock.now())
    copy.state = JSON.parse(JSON.stringify(a.state))
    for (const sli of [140, 500, 500, 260]) expect(copy.tick(sli, b)).toEqual(a.tick(sli, b))
  })
})
