/**
 * What the store's numeric columns take (see store/migrations.ts), as rules every decoded
 * point is checked against before it is acknowledged. A value outside its column must not
 * reach the store: the engine either wraps it silently (2^64 in a UInt64 reads back as 0,
 * 200 in an Int8 as -56) or refuses the whole insert, and a refused commit is retried
 * until it succeeds, so one bad point would stop ingest for good. Such a point is rejected
 * at decode instead, with its field and value named.
 *
 *   column          rule                         fields
 *   UInt64          UINT64                       count, zero_count, bucket_counts[i]
 *   UInt8           FLAGS                        flags
 *   Int8            SCALE (OTLP's -10..20)       scale
 *   Int32           INT32                        positive.offset, negative.offset
 *   Int64 (ms)      MILLIS                       time, start
 *   Array(Float64)  finite, strictly increasing  explicit_bounds (as OTLP requires)
 *   Array(Float64)  QUANTILE                     quantile_values[i].quantile
 *
 * Float64 values (sample values, sums, min, max) take any double, NaN and ±Inf included.
 */

/** A column's rule: whether a value fits, and what the rejection says was expected. */
export interface NumberRule {
  readonly expected: string
  ok(value: number): boolean
}

/** 2^64. A uint64 near its maximum reaches a double as this (2^64 - 1 is not representable). */
export const TWO_64 = 2 ** 64
/** 2^63, the first value past int64. */
export const TWO_63 = 2 ** 63
export const UINT64_MAX_TEXT = '18446744073709551615'
const INT64_MAX_TEXT = '9223372036854775807'
const INT64_MIN_TEXT = '9223372036854775808'

/**
 * UInt64. 2^64 itself is let through: it is how an exact 2^64 - 1 (or any uint64 past
 * 2^64 - 2^10) arrives as a double; the encoder writes it as 2^64 - 1. A decoder that can
 * see more digits than a double holds refuses what is really above 2^64 - 1 (`aboveUint64`).
 */
export const UINT64: NumberRule = {
  expected: `an integer in 0..${UINT64_MAX_TEXT}`,
  ok: (v) => Number.isInteger(v) && v >= 0 && v <= TWO_64,
}

/** UInt8 (OTLP DataPointFlags is a uint32, but only bit 0 is defined and the column holds 8). */
export const FLAGS: NumberRule = {
  expected: 'an integer in 0..255',
  // One test for fraction, sign, NaN, ±Inf and range: only 0..255 survive the mask unchanged.
  ok: (v) => (v & 0xff) === v,
}

/** Exponential histogram scale: OTLP allows -10..20 (the column is an Int8). */
export const SCALE: NumberRule = {
  expected: 'an integer in -10..20',
  ok: (v) => Number.isInteger(v) && v >= -10 && v <= 20,
}

/** Int32 (exponential bucket offsets, sint32 in OTLP). */
export const INT32: NumberRule = {
  expected: 'an integer in -2147483648..2147483647',
  ok: (v) => (v | 0) === v,
}

/**
 * Milliseconds since the epoch (an Int64 column). Bounded to the integers a double holds
 * exactly (±2^53 - 1, some 285,000 years either way), which every row writer relies on.
 */
export const MILLIS: NumberRule = {
  expected: `whole milliseconds within ±${Number.MAX_SAFE_INTEGER}`,
  ok: (v) => Number.isSafeInteger(v),
}

/** A summary quantile: OTLP requires [0, 1]. */
export const QUANTILE: NumberRule = {
  expected: 'a number in 0..1',
  ok: (v) => v >= 0 && v <= 1,
}

/** An OTLP fixed64 nanosecond timestamp, 0..2^64 - 1. */
export const NANOS_EXPECTED = `an integer number of nanoseconds in 0..${UINT64_MAX_TEXT}`

/** An OTLP int64 (`as_int`). */
export const INT64_EXPECTED = `an integer in -${INT64_MIN_TEXT}..${INT64_MAX_TEXT}`

/** Whether a string of decimal digits (leading zeros allowed) is above 2^64 - 1, exactly. */
export function aboveUint64(digits: string): boolean {
  return above(digits, UINT64_MAX_TEXT)
}

/** Whether a string of decimal digits with an optional '-' lies outside int64, exactly. */
export function outsideInt64(signedDigits: string): boolean {
  return signedDigits.startsWith('-')
    ? above(signedDigits.slice(1), INT64_MIN_TEXT)
    : above(signedDigits, INT64_MAX_TEXT)
}

function above(digits: string, max: string): boolean {
  let i = 0
  while (i < digits.length - 1 && digits.charCodeAt(i) === 0x30) i++
  const d = i === 0 ? digits : digits.slice(i)
  // Same length: decimal strings compare as their numbers.
  return d.length !== max.length ? d.length > max.length : d > max
}

/**
 * The first explicit bound that breaks OTLP's rule (finite, strictly increasing), as its
 * index; -1 when all are fine.
 */
export function badBound(bounds: readonly number[]): number {
  let prev = -Infinity
  for (let i = 0; i < bounds.length; i++) {
    const b = bounds[i]!
    if (!Number.isFinite(b) || !(b > prev)) return i
    prev = b
  }
  return -1
}
