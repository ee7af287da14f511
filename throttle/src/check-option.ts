import { ThrottleError } from './errors.ts'

/**
 * Checks one numeric option of a limit, limiter, bucket, pool or caller throttle, and returns
 * it (or its default when undefined). Throws THROTTLE_ERR_LIMIT_INVALID naming the owner, the
 * option, what it must be and the value received.
 */
export function numberOption(
  owner: string,
  name: string,
  value: number | undefined,
  fallback: number,
  rule: NumberRule,
): number {
  const v = value ?? fallback
  if (typeof v !== 'number' || !RULES[rule].test(v)) {
    throw new ThrottleError(
      'THROTTLE_ERR_LIMIT_INVALID',
      `${owner}: ${name} must be ${RULES[rule].text}; got ${typeof v === 'number' ? String(v) : JSON.stringify(v)}`,
    )
  }
  return v
}

/** The shapes an option can be required to have. */
export type NumberRule =
  | 'positive'
  | 'nonNegative'
  | 'fraction'
  | 'openFraction'
  | 'share'
  | 'backoff'
  | 'positiveInteger'
  | 'nonNegativeInteger'

const RULES: Record<NumberRule, { test: (v: number) => boolean; text: string }> = {
  positive: { test: (v) => v > 0 && Number.isFinite(v), text: 'a finite number above 0' },
  nonNegative: { test: (v) => v >= 0 && Number.isFinite(v), text: 'a finite number of at least 0' },
  fraction: { test: (v) => v >= 0 && v <= 1, text: 'a number in [0, 1]' },
  openFraction: { test: (v) => v > 0 && v < 1, text: 'a number in (0, 1)' },
  share: { test: (v) => v >= 0 && v < 1, text: 'a number in [0, 1)' },
  backoff: { test: (v) => v >= 0.5 && v < 1, text: 'a number in [0.5, 1)' },
  positiveInteger: { test: (v) => Number.isSafeInteger(v) && v > 0, text: 'a whole number above 0' },
  nonNegativeInteger: { test: (v) => Number.isSafeInteger(v) && v >= 0, text: 'a whole number of at least 0' },
}

/** Throws THROTTLE_ERR_LIMIT_INVALID unless min and max are whole numbers with 0 ≤ min ≤ max. */
export function checkBounds(owner: string, min: number, max: number): void {
  if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || min < 0 || max < min) {
    throw new ThrottleError(
      'THROTTLE_ERR_LIMIT_INVALID',
      `${owner}: bounds must be whole numbers with 0 ≤ min ≤ max; got min ${min}, max ${max}`,
    )
  }
}
