import { describe, expect, it } from 'vitest'
import { CONTROLLER_ALGORITHMS, createController } from '../../../throttle/src/control/create-controller.ts'
import type { AlgorithmName } from '../../../throttle/src/control/types.ts'
import { isThrottleError } from '../../../throttle/src/errors.ts'
import { Drive } from './helpers.ts'

function thrown(fn: () => unknown): { code: string; message: string } {
  try {
    fn()
  } catch (err) {
    expect(isThrottleError(err)).toBe(true)
    return err as { code: string; message: string }
  }
  throw new Error('expected a throw')
}

describe('createController', () => {
  it('builds each algorithm on its documented defaults', () => {
    for (const name of Object.keys(CONTROLLER_ALGORITHMS) as AlgorithmName[]) {
      const controller = createController(name)
      expect(controller.name).toBe(name)
      for (const spec of Object.values(CONTROLLER_ALGORITHMS[name])) {
        expect(spec.doc.length).toBeGreaterThan(20)
        expect(Number.isFinite(spec.default)).toBe(true)
      }
    }
    expect(new Drive(createController('aimd'), 40).tick(412).value).toBe(32) // decrease 0.8
  })

  it('applies the parameters given over the defaults', () => {
    expect(new Drive(createController('aimd', { decrease: 0.5 }), 40).tick(412).value).toBe(20)
    expect(new Drive(createController('gradient', { smoothing: 1, maxDown: 0.9 }), 40).tick(600).value).toBe(20)
  })

  it('refuses an unknown algorithm, naming it and the valid ones', () => {
    const err = thrown(() => createController('bbr' as AlgorithmName))
    expect(err.code).toBe('THROTTLE_ERR_CONTROLLER_INVALID')
    expect(err.message).toBe('unknown controller algorithm "bbr": use aimd, gradient or pid')
    expect(thrown(() => createController('toString' as AlgorithmName)).message).toMatch(
      /unknown controller algorithm "toString"/,
    )
  })

  it("refuses an unknown parameter, naming it and the algorithm's parameters", () => {
    const err = thrown(() => createController('aimd', { factor: 0.8 }))
    expect(err.code).toBe('THROTTLE_ERR_CONTROLLER_INVALID')
    expect(err.message).toBe(
      'unknown parameter "factor" of controller aimd: its parameters are decrease, increase, raiseBelowBurnRate or burnSpeedup',
    )
    expect(thrown(() => createController('pid', { ki: 0.1, Kd: 1 })).message).toMatch(
      /"Kd" of controller pid: its parameters are kp, ki, kd, raiseBelowBurnRate or burnSpeedup/,
    )
  })

  it('refuses a parameter outside its bounds, with the value received', () => {
    expect(thrown(() => createController('aimd', { decrease: 1.5 })).message).toBe(
      'parameter decrease of controller aimd must be a number in (0, 1); got 1.5',
    )
    expect(thrown(() => createController('gradient', { smoothing: 0 })).message).toMatch(
      /smoothing of controller gradient must be a number in \(0, 1\]; got 0/,
    )
    expect(thrown(() => createController('pid', { kp: -1 })).message).toMatch(
      /kp of controller pid must be a number of at least 0; got -1/,
    )
    expect(thrown(() => createController('pid', { kd: Number.NaN })).message).toMatch(/got NaN/)
    expect(thrown(() => createController('aimd', { increase: Infinity })).message).toMatch(/got Infinity/)
  })
})
