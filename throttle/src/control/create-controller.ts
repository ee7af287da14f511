import { ThrottleError } from '../errors.ts'
import { aimd, AIMD_PARAMS } from './aimd.ts'
import { gradient, GRADIENT_PARAMS } from './gradient.ts'
import { describeRange, fits, type ParamSpecs } from './params.ts'
import { pid, PID_PARAMS } from './pid.ts'
import type { AlgorithmName, Controller } from './types.ts'

/** Every algorithm a controller binding may name, with its parameters (default, bounds, doc line). */
export const CONTROLLER_ALGORITHMS: Readonly<Record<AlgorithmName, ParamSpecs>> = {
  aimd: AIMD_PARAMS,
  gradient: GRADIENT_PARAMS,
  pid: PID_PARAMS,
}

const list = (names: readonly string[]) =>
  names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`

/**
 * The controller `name` with `params` over its defaults. Throws THROTTLE_ERR_CONTROLLER_INVALID,
 * naming the culprit and the valid choices, for an unknown algorithm, an unknown parameter or
 * a value outside a parameter's bounds.
 *
 * ```ts
 * const controller = createController('aimd', { decrease: 0.7 })
 * let state = controller.init(40, Date.now())
 * const { state: next, decision } = controller.step(state, observation, bounds)
 * ```
 */
export function createController(name: AlgorithmName, params: Readonly<Record<string, number>> = {}): Controller {
  const specs = Object.hasOwn(CONTROLLER_ALGORITHMS, name) ? CONTROLLER_ALGORITHMS[name] : undefined
  if (specs === undefined) {
    throw new ThrottleError(
      'THROTTLE_ERR_CONTROLLER_INVALID',
      `unknown controller algorithm ${JSON.stringify(name)}: use ${list(Object.keys(CONTROLLER_ALGORITHMS))}`,
    )
  }
  const resolved: Record<string, number> = {}
  for (const [param, spec] of Object.entries(specs)) resolved[param] = spec.default
  for (const [param, value] of Object.entries(params ?? {})) {
    const spec = Object.hasOwn(specs, param) ? specs[param] : undefined
    if (spec === undefined) {
      throw new ThrottleError(
        'THROTTLE_ERR_CONTROLLER_INVALID',
        `unknown parameter ${JSON.stringify(param)} of controller ${name}: its parameters are ${list(Object.keys(specs))}`,
      )
    }
    if (!fits(spec, value)) {
      throw new ThrottleError(
        'THROTTLE_ERR_CONTROLLER_INVALID',
        `parameter ${param} of controller ${name} must be a number ${describeRange(spec)}; got ${typeof value === 'number' ? String(value) : JSON.stringify(value)}`,
      )
    }
    resolved[param] = value
  }
  switch (name) {
    case 'aimd':
      return aimd(resolved as unknown as Parameters<typeof aimd>[0]) as Controller
    case 'gradient':
      return gradient(resolved as unknown as Parameters<typeof gradient>[0]) as Controller
    case 'pid':
      return pid(resolved as unknown as Parameters<typeof pid>[0]) as Controller
  }
}
