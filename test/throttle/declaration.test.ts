import { describe, expect, it } from 'vitest'
import {
  declarationBody,
  normalizeDeclaration,
  valueProblem,
  type KnobDeclaration,
} from '../../throttle/src/declaration.ts'
import { isThrottleError } from '../../throttle/src/errors.ts'

function problemOf(decl: unknown): string {
  try {
    normalizeDeclaration('k', decl as KnobDeclaration)
  } catch (err) {
    expect(isThrottleError(err) && err.code).toBe('THROTTLE_ERR_DECLARATION_INVALID')
    return (err as Error).message
  }
  throw new Error('no error')
}

describe('declarations', () => {
  it('reads a declaration as the collector does: percent bounds 0 to 100, enum values deduplicated', () => {
    expect(normalizeDeclaration('workers', { type: 'int', default: 20, min: 1, max: 200, unit: '{worker}' })).toEqual({
      type: 'int',
      default: 20,
      min: 1,
      max: 200,
      values: null,
      unit: '{worker}',
      description: '',
      owner: '',
    })
    expect(normalizeDeclaration('p', { type: 'percent', default: 5, max: 50 })).toMatchObject({ min: 0, max: 50 })
    expect(normalizeDeclaration('e', { type: 'enum', values: ['a', 'b', 'a'], default: 'b' }).values).toEqual([
      'a',
      'b',
    ])
    expect(declarationBody(normalizeDeclaration('p', { type: 'percent', default: 5 }))).toEqual({
      type: 'percent',
      default: 5,
      min: 0,
      max: 100,
    })
  })

  it('refuses a malformed declaration, naming every problem', () => {
    expect(problemOf({ type: 'int', default: 500, min: 1, max: 200 })).toBe(
      'knob k: default: 500 is outside the bounds [1, 200]',
    )
    expect(problemOf({ type: 'bool', default: 'yes' })).toBe('knob k: default: "yes" is not true or false (bool knob)')
    expect(problemOf({ type: 'number', default: 1 })).toMatch(
      /type must be one of int, float, bool, percent, enum, string, got "number"/,
    )
    expect(problemOf({ type: 'int', default: 1, min: 5, max: 2 })).toMatch(/min \(5\) is above max \(2\)/)
    expect(problemOf({ type: 'bool', default: true, min: 1 })).toMatch(
      /min and max apply to int, float and percent knobs, not bool/,
    )
    expect(problemOf({ type: 'enum', values: [], default: 'a' })).toMatch(/values must be a non-empty array/)
    expect(problemOf({ type: 'int' })).toMatch(/default is required/)
    expect(problemOf({ type: 'int', default: 2.5 })).toMatch(/2.5 is not a whole number/)
  })

  it('checks a value against the declaration: type, whole numbers, bounds, enum values', () => {
    const workers = normalizeDeclaration('w', { type: 'int', default: 20, min: 1, max: 200 })
    expect(valueProblem(workers, 40)).toBeUndefined()
    expect(valueProblem(workers, 1)).toBeUndefined()
    expect(valueProblem(workers, 200)).toBeUndefined()
    expect(valueProblem(workers, 201)).toBe('201 is outside the bounds [1, 200]')
    expect(valueProblem(workers, 0)).toBe('0 is outside the bounds [1, 200]')
    expect(valueProblem(workers, 2.5)).toBe('2.5 is not a whole number (int knob)')
    expect(valueProblem(workers, '40')).toBe('"40" is not a finite number (int knob)')
    expect(valueProblem(workers, null)).toBe('null is not a finite number (int knob)')
    const ratio = normalizeDeclaration('r', { type: 'float', default: 0.5 })
    expect(valueProblem(ratio, -1e9)).toBeUndefined()
    const rollout = normalizeDeclaration('p', { type: 'percent', default: 0 })
    expect(valueProblem(rollout, 100.5)).toBe('100.5 is outside the bounds [0, 100]')
    const mode = normalizeDeclaration('m', { type: 'enum', values: ['off', 'dark', 'on'], default: 'off' })
    expect(valueProblem(mode, 'dark')).toBeUndefined()
    expect(valueProblem(mode, 'maybe')).toBe('"maybe" is not one of "off", "dark", "on"')
    expect(valueProblem(normalizeDeclaration('b', { type: 'bool', default: false }), 1)).toBe(
      '1 is not true or false (bool knob)',
    )
    expect(valueProblem(normalizeDeclaration('s', { type: 'string', default: '' }), 'x'.repeat(5000))).toMatch(
      /over 4096/,
    )
  })
})
