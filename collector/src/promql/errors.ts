/**
 * The one error type the PromQL engine throws, with Prometheus' `errorType` names so the
 * HTTP layer can answer `{"status":"error","errorType":…,"error":…}` as Prometheus does.
 */

const BRAND = Symbol.for('governor.promql.error')

/** Prometheus' error kinds, as its HTTP API names them. */
export type PromqlErrorType = 'bad_data' | 'execution' | 'timeout' | 'canceled' | 'internal'

/**
 * An error of the PromQL engine. Recognise it with `isPromqlError`, not `instanceof`: the
 * brand survives two copies of the module in one process.
 */
export class PromqlError extends Error {
  readonly errorType: PromqlErrorType
  readonly [BRAND] = true

  constructor(errorType: PromqlErrorType, message: string) {
    super(message)
    this.name = 'PromqlError'
    this.errorType = errorType
  }
}

/** True when `err` is a `PromqlError`, from this copy of the module or another. */
export function isPromqlError(err: unknown): err is PromqlError {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[BRAND] === true
}

/** A parse error at a character offset of the query, worded as Prometheus words it: `1:5: parse error: …`. */
export function parseError(query: string, offset: number, message: string): PromqlError {
  let line = 1
  let lastBreak = -1
  const end = Math.min(Math.max(offset, 0), query.length)
  for (let i = 0; i < end; i++) {
    if (query.charCodeAt(i) === 10) {
      line++
      lastBreak = i
    }
  }
  return new PromqlError('bad_data', `${line}:${end - lastBreak}: parse error: ${message}`)
}

/** An error while evaluating (Prometheus' `execution`). */
export function executionError(message: string): PromqlError {
  return new PromqlError('execution', message)
}

/** Prometheus' message when the samples in memory would pass `query.max-samples`. */
export const TOO_MANY_SAMPLES = 'query processing would load too many samples into memory in query execution'
