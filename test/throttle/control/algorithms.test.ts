import { describe, expect, it } from 'vitest'
import { aimd, AIMD_PARAMS } from '../../../throttle/src/control/aimd.ts'
import { gradient, GRADIENT_PARAMS } from '../../../throttle/src/control/gradient.ts'
import { pid, PID_PARAMS, type PidParams } from '../../../throttle/src/control/pid.ts'
import { bounds, Drive } from './helpers.ts'

const defaults = <T extends Record<string, { default: number }>>(specs: T) =>
  Object.fromEntries(Object.entries(specs).map(([k, v]) => [k, v.default])) as { [K in keyof T]: number }

describe('aimd', () => {
  it('multiplies by the decrease over the target and adds the increase under it, with the numbers in the reason', () => {
    const d = new Drive(aimd(defaults(AIMD_PARAMS)), 40)
    expect(d.tick(412)).toEqual({
      kind: 'lower',
      value: 32,
      reason: 'SLI 412 over target 300 (+37 %): 40 → 32 (aimd, ×0.8)',
    })
    expect(d.tick(120)).toEqual({
      kind: 'raise',
      value: 33,
      reason: 'SLI 120 under target 300 (-60 %): 32 → 33 (aimd, +1)',
    })
    const f = new Drive(aimd({ ...defaults(AIMD_PARAMS), decrease: 0.5, increase: 2.5 }), 41)
    expect(f.tick(412, bounds({ integer: false })).value).toBe(20.5)
    expect(f.tick(100, bounds({ integer: false })).value).toBe(23)
  })

  it('decreases by decrease^s while the SLO burns at s× (up to burnSpeedup)', () => {
    const d = new Drive(aimd(defaults(AIMD_PARAMS)), 100)
    expect(d.tick(412, bounds(), { burnRate: 2 })).toEqual({
      kind: 'lower',
      value: 64,
      reason: 'SLI 412 over target 300 (+37 %): 100 → 64 (aimd, ×0.64, step ×2 at burn rate 2×)',
    })
    expect(
      new Drive(aimd(defaults(AIMD_PARAMS)), 100).tick(412, bounds({ integer: false }), { burnRate: 1000 }).value,
    ).toBeCloseTo(100 * 0.8 ** 4, 10)
  })
})

describe('gradient', () => {
  const make = (p: Partial<ReturnType<typeof defaults<typeof GRADIENT_PARAMS>>> = {}) =>
    gradient({ ...defaults(GRADIENT_PARAMS), ...p })

  it('moves the value by target / sli, clamped to [1 − maxDown, 1 + maxUp], half the way (smoothing 0.5)', () => {
    const float = bounds({ integer: false, max: 1000 })
    // 300 / 412 = 0.728 → 1 + 0.5 × (0.728 − 1) = 0.864
    expect(new Drive(make(), 40).tick(412, float).value).toBeCloseTo(40 * (1 + 0.5 * (300 / 412 - 1)), 10)
    expect(new Drive(make(), 40).tick(1200, float).value).toBeCloseTo(40 * 0.75, 10) // 0.25 clamped to 0.5, then halved
    expect(new Drive(make(), 40).tick(120, float).value).toBeCloseTo(40 * 1.1, 10) // 2.5 clamped to 1.2, then halved
    expect(new Drive(make({ smoothing: 1 }), 40).tick(400, float).value).toBeCloseTo(30, 10)
    expect(new Drive(make(), 40).tick(412).reason).toBe('SLI 412 over target 300 (+37 %): 40 → 35 (gradient, ×0.864)')
  })

  it('applies more of the gradient while the SLO burns fast: smoothing × s, at most all of it', () => {
    const float = bounds({ integer: false, max: 1000 })
    // smoothing 0.5 × 1.5 = 0.75 of the way to ×0.5
    expect(new Drive(make(), 40).tick(1200, float, { burnRate: 1.5 }).value).toBeCloseTo(40 * (1 - 0.75 * 0.5), 10)
    expect(new Drive(make(), 40).tick(1200, float, { burnRate: 300 }).value).toBeCloseTo(20, 10) // all of it: halved
    expect(new Drive(make(), 40).tick(1200, float, { burnRate: 0.9 }).value).toBeCloseTo(30, 10) // under 1: the plain step
  })

  it('takes 64 to 8 in three halvings 10 s apart (5 s ticks, 30 s cooldown) while the SLI is twice the target and the budget burns fast', () => {
    const d = new Drive(make(), 64, 5_000)
    const b = bounds({ cooldownMillis: 30_000 })
    const values = Array.from({ length: 5 }, () => d.tick(600, b, { burnRate: 100 }).value)
    expect(values).toEqual([32, 32, 16, 16, 8])
    // Fixed steps: ×0.75 each 30 s.
    const fixed = new Drive(make({ burnSpeedup: 1 }), 64, 5_000)
    expect(Array.from({ length: 7 }, () => fixed.tick(600, b, { burnRate: 100 }).value)).toEqual([
      48, 48, 48, 48, 48, 48, 36,
    ])
  })

  it('settles where the SLI meets the target, from above and from below', () => {
    // A plant whose latency grows with the knob: 10 ms per worker. The SLO target (300) is met at 30 workers.
    for (const start of [120, 8]) {
      const d = new Drive(make(), start)
      for (let i = 0; i < 40; i++) d.tick(10 * d.value, bounds({ maxStep: 20 }))
      expect(d.value).toBeGreaterThanOrEqual(29)
      expect(d.value).toBeLessThanOrEqual(31)
      expect(d.decisions.at(-1)!.kind).toBe('hold')
    }
  })
})

describe('pid', () => {
  const make = (p: Partial<PidParams> = {}) => pid({ ...defaults(PID_PARAMS), ...p })

  it('acts on the relative error: P on the first tick, then the integral accumulates', () => {
    const d = new Drive(make({ kp: 0.5, ki: 0.02 }), 40)
    // e = (300 − 412) / 300 = −0.373; P = −0.187; no dt yet: 40 × (1 − 0.187) = 32.5 → 33
    expect(d.tick(412)).toEqual({
      kind: 'lower',
      value: 33,
      reason: 'SLI 412 over target 300 (+37 %): 40 → 33 (pid, P -0.187, I 0, D 0)',
    })
    // Same error 10 s later: I = back-calculated (33/40 − 1 + 0.187 = 0.012) + 0.02 × −0.373 × 10 = −0.063 → 40 × (1 − 0.187 − 0.063) = 30.0
    const second = d.tick(412)
    expect(second.value).toBe(30)
    expect(second.reason).toMatch(/\(pid, P -0.187, I -0.063, D 0\)$/)
  })

  it('does not wind up: after a long spell pinned at min, it raises on the first tick under the target', () => {
    const d = new Drive(make({ kp: 0.3, ki: 0.05 }), 40)
    const b = bounds({ min: 10 })
    for (let i = 0; i < 60; i++) d.tick(900, b) // ten minutes far over the target
    expect(d.value).toBe(10)
    const first = d.tick(150, b)
    expect(first.kind).toBe('raise')
    // The integral holds only what the value at min needs; a wound-up one would still be deep below −1.
    expect(d.state.integral).toBeGreaterThan(-1)
  })

  it('takes the derivative on the measurement: a new target is no kick, a jump of the SLI is', () => {
    const run = (kd: number, ticks: [sli: number, target: number][]) => {
      const d = new Drive(make({ kp: 0.4, ki: 0.01, kd }), 100)
      return ticks.map(([sli, target]) => d.tick(sli, bounds({ integer: false, deadBand: 0 }), { target }).value)
    }
    const targetStep: [number, number][] = [
      [360, 300],
      [360, 300],
      [360, 320],
      [360, 320],
    ]
    expect(run(20, targetStep)).toEqual(run(0, targetStep))
    const sliJump: [number, number][] = [
      [330, 300],
      [330, 300],
      [420, 300],
    ]
    const withD = run(20, sliJump)
    const withoutD = run(0, sliJump)
    expect(withD[1]).toBe(withoutD[1])
    expect(withD[2]!).toBeLessThan(withoutD[2]! - 5) // the rising SLI lowers harder
  })

  it('takes over a value set by someone else without a bump', () => {
    const d = new Drive(make(), 40)
    for (let i = 0; i < 5; i++) d.tick(200)
    const before = d.value
    expect(before).toBeGreaterThan(40)
    d.value = 120 // ops turned the knob
    const next = d.tick(200) // the same error as before: the same relative step, now from 120
    expect(next.kind).toBe('raise')
    // 120 × (1 + 0.02 × 0.333 × 10) = 128: a step from 120, not a jump back towards the old value
    expect(next.value).toBe(128)
  })

  it('forgets the time base after a gap in the data, so the gap is not integrated', () => {
    const d = new Drive(make({ kp: 0, ki: 0.05 }), 40)
    d.tick(450)
    for (let i = 0; i < 30; i++) d.tick(undefined) // five minutes without data
    const after = d.tick(450)
    expect(after.kind).toBe('hold') // kp 0 and no dt yet: nothing to act on
    expect(d.tick(450).value).toBe(30) // one tick's worth (40 × (1 − 0.05 × 0.5 × 10)), not five minutes' (which would hit min)
  })
})
