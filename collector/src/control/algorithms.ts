import { createController, type AlgorithmName, type Controller } from '@governor/throttle'

/**
 * The algorithms controller bindings name (aimd, gradient, pid), from the throttle library's
 * pure implementations (`createController`, the library's public export): the collector runs
 * exactly the code an app could run in-process.
 */
export function createAlgorithm(algorithm: AlgorithmName, params: Record<string, number>): Controller {
  return createController(algorithm, params)
}

/** Throws (naming the parameter and its bounds) when the algorithm refuses `params`. */
export function checkAlgorithmParams(algorithm: AlgorithmName, params: Record<string, number>): void {
  createController(algorithm, params)
}
