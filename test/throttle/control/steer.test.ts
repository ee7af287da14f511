import { describe, expect, it } from 'vitest'
import { aimd, AIMD_PARAMS } from '../../../throttle/src/control/aimd.ts'
import { gradient, GRADIENT_PARAMS } from '../../../throttle/src/control/gradient.ts'
import { pid, PID_PARAMS } from '../../../throttle/src/control/pid.ts'
import { GUARD_DEFAULTS, mirror, steered, type SteerOptions } from '../../../throttle/src/control/steer.ts'
import type { Controller, GuardReading, Observation } from '../../../throttle/src/control/types.ts'
import { bounds, Drive } from './helpers.ts'

// Effect and guard, tick by tick with a manual clock (the Drive helper): a queue-lag SLO with
// a 1000 ms target, whose knob (workers) lowers the lag, guarded by a downstream latency SLO
// with a 250 ms limit.

const defaults = <T extends Record<string, { default: number }>>(specs: T) =>
  Object.fromEntries(Object.entries(specs).map(([k, v]) => [k, v.default])) as { [K in keyof T]: number }
const LAG = { target: 1000 }
const guardAt = (sli: number | undefined, extra: Partial<GuardReading> = {}): Partial<Observation> => ({
  ...LAG,
  guard: { sli, target: 250, ...extra },
})
const lowers: SteerOptions = { effect: 'lowers' }
const guarded: SteerOptions = { effect: 'lowers', guard: GUARD_DEFAULTS }
const aimd2 = () => aimd({ ...defaults(AIMD_PARAMS), increase: 2 })

describe('mirror', () => {
  it('mirrors the SLI against the target in ratio, floors it at a tenth of the target, and drops the burn rate', () => {
    const obs = (sli: number | undefined): Observation => ({ now: 0, sli, target: 1000, value: 4, burnRate: 50 })
    expect(mirror(obs(5000))).toEqual({ now: 0, sli: 200, target: 1000, value: 4 })
    expect(mirror(obs(500)).sli).toBe(2000)
    expect(mirror(obs(1000)).sli).toBe(1000)
    expect(mirror(obs(0)).sli).toBe(10_000)
    expect(mirror(obs(undefined))).toEqual({ now: 0, sli: undefined, target: 1000, value: 4 })
    expect(mirror(obs(-1)).sli).toBe(-1) // no measurement: left for the algorithm to refuse
  })
})

describe('effect lowers', () => {
  it('raises the knob when the SLI is over the target and lowers it when well under, stating the measured SLI', () => {
    const d = new Drive(steered(aimd2(), lowers), 4)
    expect(d.tick(5400, bounds(), LAG)).toEqual({
      kind: 'raise',
      value: 6,
      reason: 'SLI 5400 over target 1000 (+440 %, effect lowers): 4 → 6 (aimd, +2)',
    })
    expect(d.tick(200, bounds(), LAG)).toEqual({
      kind: 'lower',
      value: 5,
      reason: 'SLI 200 under target 1000 (-80 %, effect lowers): 6 → 5 (aimd, ×0.8)',
    })
    expect(d.tick(1030, bounds(), LAG)).toMatchObject({
      kind: 'hold',
      reason: 'SLI 1030 within ±5 % of target 1000 (+3 %, effect lowers): holding at 5 (aimd)',
    })
    expect(d.tick(undefined, bounds(), LAG)).toMatchObject({ kind: 'hold', reason: 'no SLI data: holding at 5 (aimd)' })
  })

  it('does not let a burning primary SLO hold raises back: raising is what stops the burn', () => {
    const plain = new Drive(aimd2(), 4)
    expect(plain.tick(200, bounds(), { ...LAG, burnRate: 20 }).kind).toBe('hold')
    const inverse = new Drive(steered(aimd2(), lowers), 4)
    expect(inverse.tick(5400, bounds(), { ...LAG, burnRate: 20 })).toMatchObject({ kind: 'raise', value: 6 })
  })

  it('gradient settles where the lag meets the target, from too few and from too many workers', () => {
    // A queue whose lag falls as workers are added: 30 000 / workers ms. The target (1000 ms) is met at 30 workers.
    for (const start of [4, 120]) {
      const d = new Drive(steered(gradient(defaults(GRADIENT_PARAMS)), lowers), start)
      for (let i = 0; i < 60; i++) d.tick(30_000 / d.value, bounds({ maxStep: 20 }), LAG)
      expect(d.value).toBeGreaterThanOrEqual(29)
      expect(d.value).toBeLessThanOrEqual(32)
      expect(d.decisions.at(-1)!.kind).toBe('hold')
    }
  })

  it('pid moves the same way: up on lag over the target, down under it', () => {
    const d = new Drive(steered(pid(defaults(PID_PARAMS)), lowers), 20)
    expect(d.tick(2000, bounds(), LAG)).toMatchObject({ kind: 'raise' })
    const e = new Drive(steered(pid(defaults(PID_PARAMS)), lowers), 20)
    expect(e.tick(500, bounds(), LAG)).toMatchObject({ kind: 'lower' })
  })

  it('with effect raises and no guard, runs the algorithm exactly as it runs alone', () => {
    const alone = new Drive(aimd(defaults(AIMD_PARAMS)), 40)
    const wrapped = new Drive(steered(aimd(defaults(AIMD_PARAMS)), { effect: 'raises' }), 40)
    for (const sli of [412, 120, 120, 305, undefined, 900, 50]) expect(wrapped.tick(sli)).toEqual(alone.tick(sli))
  })
})

describe('guard', () => {
  it('under its limit, the algorithm decides; the reason states both readings', () => {
    const d = new Drive(steered(aimd2(), guarded), 4)
    expect(d.tick(5400, bounds(), guardAt(180))).toEqual({
      kind: 'raise',
      value: 6,
      reason:
        'SLI 5400 over target 1000 (+440 %, effect lowers) · guard SLI 180 under limit 250 (-28 %): 4 → 6 (aimd, +2)',
    })
  })

  it('near its limit, raises wait but lowers go through', () => {
    const d = new Drive(steered(aimd2(), guarded), 6)
    // 240 > (1 − 0.1) × 250 = 225: near.
    expect(d.tick(5400, bounds(), guardAt(240))).toEqual({
      kind: 'hold',
      value: 6,
      reason:
        'SLI 5400 over target 1000 (+440 %, effect lowers) · guard SLI 240 near limit 250 (-4 %) but the guard is within 10 % of its limit (no raise): holding at 6 (aimd)',
    })
    expect(d.tick(100, bounds(), guardAt(240))).toMatchObject({ kind: 'lower', value: 5 })
    expect(d.tick(5400, bounds(), guardAt(224))).toMatchObject({ kind: 'raise', value: 7 })
  })

  it('over its limit, lowers multiplicatively whatever the primary says, inside max step and bounds', () => {
    const d = new Drive(steered(aimd2(), guarded), 10)
    // The lag asks for more workers; the guard is breached: 10 × 0.8 = 8.
    expect(d.tick(5400, bounds(), guardAt(300))).toEqual({
      kind: 'lower',
      value: 8,
      reason:
        'SLI 5400 over target 1000 (+440 %, effect lowers) · guard SLI 300 over limit 250 (+20 %): 10 → 8 (guard, ×0.8)',
    })
    // Even with the lag inside its band, and a max step of 1.
    expect(d.tick(1000, bounds({ maxStep: 1 }), guardAt(300))).toMatchObject({
      kind: 'lower',
      value: 7,
      reason: expect.stringMatching(/: 8 → 7 \(guard, ×0\.8, max step 1\)$/),
    })
    const low = new Drive(steered(aimd2(), guarded), 3)
    expect(low.tick(5400, bounds({ min: 3 }), guardAt(300))).toMatchObject({
      kind: 'hold',
      value: 3,
      reason: expect.stringMatching(/: already at min 3; holding at 3 \(guard\)$/),
    })
    // A custom decrease, on a float knob.
    const f = new Drive(steered(aimd2(), { effect: 'lowers', guard: { decrease: 0.5, headroom: 0 } }), 10)
    expect(f.tick(5400, bounds({ integer: false }), guardAt(251)).value).toBe(5)
  })

  it('waits for the cooldown between guard lowerings, and the algorithm waits for it after one', () => {
    const b = bounds({ cooldownMillis: 30_000 })
    const d = new Drive(steered(aimd2(), guarded), 20) // a tick every 10 s
    expect(d.tick(5400, b, guardAt(400))).toMatchObject({ kind: 'lower', value: 16 })
    expect(d.tick(5400, b, guardAt(400))).toMatchObject({
      kind: 'hold',
      value: 16,
      reason: expect.stringMatching(/ but the guard lowered it 10 s ago \(cooldown 30 s\): holding at 16 \(guard\)$/),
    })
    expect(d.tick(5400, b, guardAt(100))).toMatchObject({
      kind: 'hold',
      reason: expect.stringMatching(/ but the guard lowered it 20 s ago \(cooldown 30 s\): holding at 16 \(aimd\)$/),
    })
    expect(d.tick(5400, b, guardAt(100))).toMatchObject({ kind: 'raise', value: 18 })
    // The algorithm's own cooldown does not delay the guard: it lowers right after a raise.
    expect(d.tick(5400, b, guardAt(400))).toMatchObject({ kind: 'lower', value: 14 })
  })

  it('holds without a guard reading, or with a stale one', () => {
    const d = new Drive(steered(aimd2(), guarded), 6)
    expect(d.tick(5400, bounds(), LAG)).toEqual({
      kind: 'hold',
      value: 6,
      reason: 'SLI 5400 over target 1000 (+440 %, effect lowers) but the guard has no data: holding at 6 (aimd)',
    })
    expect(d.tick(5400, bounds(), guardAt(undefined))).toMatchObject({
      kind: 'hold',
      reason: expect.stringContaining('the guard has no data'),
    })
    expect(d.tick(5400, bounds(), guardAt(100, { stale: true }))).toMatchObject({
      kind: 'hold',
      reason: expect.stringContaining('the guard has stale data'),
    })
    expect(d.tick(5400, bounds(), guardAt(Number.NaN))).toMatchObject({
      kind: 'hold',
      reason: expect.stringContaining('is not a measurement'),
    })
    expect(d.value).toBe(6)
  })

  it('guards a knob whose effect is raises the same way', () => {
    const c: Controller<unknown> = steered(aimd(defaults(AIMD_PARAMS)), { effect: 'raises', guard: GUARD_DEFAULTS })
    const d = new Drive(c, 40)
    expect(d.tick(120, bounds(), { guard: { sli: 0.0005, target: 0.001 } })).toEqual({
      kind: 'raise',
      value: 41,
      reason: 'SLI 120 under target 300 (-60 %) · guard SLI 0.0005 under limit 0.001 (-50 %): 40 → 41 (aimd, +1)',
    })
    expect(d.tick(120, bounds(), { guard: { sli: 0.002, target: 0.001 } })).toMatchObject({ kind: 'lower', value: 33 })
  })
})
