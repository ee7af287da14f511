import { describe, expect, it } from 'vitest'
import {
  parseController,
  withDefaults,
  type ControllerContext,
  type ControllerDefinition,
} from '../../../collector/src/control/definition.ts'
import { isGovernorError } from '../../../collector/src/errors.ts'
import type { KnobState } from '../../../collector/src/knobs/knob-service.ts'

// The binding's `effect` and `guard`, read without a store: the knob and the SLOs come from
// a context double, as the controller service passes them.

const workers = { name: 'workers', definition: { type: 'int', min: 1, max: 64 } } as unknown as KnobState
const ctx: ControllerContext = {
  knob: (k) => (k === 'workers' ? workers : undefined),
  hasSlo: (s) => s === 'lag' || s === 'downstream-latency',
  checkParams: () => undefined,
}
const body = { knob: 'workers', slo: 'lag', algorithm: 'aimd' }

/** The error `parseController` throws for `b`: its code and the problems it names. */
function refusal(b: object): { code: string; problems: string[] } {
  try {
    parseController(b, 'jobs', ctx)
  } catch (err) {
    if (isGovernorError(err)) return { code: err.code, problems: err.message.split('; ') }
    throw err
  }
  throw new Error('accepted')
}

describe('effect and guard of a controller binding', () => {
  it("defaults to effect raises and no guard: today's behaviour", () => {
    expect(parseController(body, 'jobs', ctx)).toMatchObject({ effect: 'raises', guard: null })
  })

  it("reads effect lowers and a guard, by name or as an object, with the guard's defaults", () => {
    expect(parseController({ ...body, effect: 'lowers', guard: 'downstream-latency' }, 'jobs', ctx)).toMatchObject({
      effect: 'lowers',
      guard: { slo: 'downstream-latency', decrease: 0.8, headroom: 0.1 },
    })
    expect(
      parseController(
        { ...body, effect: 'lowers', guard: { slo: 'downstream-latency', decrease: 0.5, headroom: 0 } },
        'jobs',
        ctx,
      ).guard,
    ).toEqual({ slo: 'downstream-latency', decrease: 0.5, headroom: 0 })
  })

  it('names every malformed field of effect and guard in one 400', () => {
    expect(refusal({ ...body, effect: 'down', guard: { slo: 'lag', decrease: 1, headroom: -0.1, margin: 2 } })).toEqual(
      {
        code: 'GOV_ERR_CONTROLLER_INVALID',
        problems: [
          'effect must be one of raises, lowers (how raising the knob moves the SLI), got "down"',
          'unknown field guard.margin (fields of guard: slo, decrease, headroom)',
          'guard.slo must name another SLO than slo (lag): the guard is a second objective the controller must not break',
          'guard.decrease must be a factor above 0 and below 1 (0.8: ×0.8 a step while the guard is breached), got 1',
          "guard.headroom must be a share from 0 (inclusive) to 1 (0.1: no raise within 10 % of the guard's threshold), got -0.1",
        ],
      },
    )
    expect(refusal({ ...body, guard: 42 }).problems).toEqual([
      'guard must be the name of another SLO of jobs or {slo, decrease, headroom}, got 42',
    ])
    expect(refusal({ ...body, guard: { decrease: 0.5 } }).problems).toEqual([
      'guard.slo is required: the name of another SLO of jobs',
    ])
    expect(refusal({ ...body, guard: ['lag'] }).problems[0]).toMatch(/^guard must be the name of another SLO/)
  })

  it('refuses a guard SLO the service does not have with 404, naming the field', () => {
    expect(refusal({ ...body, guard: 'errors' })).toEqual({
      code: 'GOV_ERR_SLO_NOT_FOUND',
      problems: ['no SLO jobs/errors (guard.slo): define it with PUT /api/v1/slos/jobs/errors first'],
    })
  })

  it('completes a definition stored before effect and guard existed, in the same key order as a new one', () => {
    const fresh = parseController(body, 'jobs', ctx)
    const { effect: _effect, guard: _guard, ...stored } = fresh
    const loaded = withDefaults(stored as ControllerDefinition)
    expect(loaded).toMatchObject({ effect: 'raises', guard: null })
    expect(JSON.stringify(loaded)).toBe(JSON.stringify(fresh))
    const lowered = parseController({ ...body, effect: 'lowers', guard: 'downstream-latency' }, 'jobs', ctx)
    expect(withDefaults(lowered)).toEqual(lowered)
  })
})
