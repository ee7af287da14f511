import { INT64_EXPECTED, NANOS_EXPECTED, TWO_63, TWO_64, UINT64, aboveUint64, outsideInt64 } from './point-limits.ts'

/*
 * The scalar values of the OTLP JSON mapping and the errors they raise: int64 and fixed64
 * as decimal strings or numbers, doubles as numbers or "NaN"/"Infinity"/"-Infinity", enums
 * as integers or names. Each reader takes the field's path for its error.
 */

export type JsonObject = Record<string, unknown>

const TEMPORALITY_NAMES: Record<string, number> = {
  AGGREGATION_TEMPORALITY_UNSPECIFIED: 0,
  AGGREGATION_TEMPORALITY_DELTA: 1,
  AGGREGATION_TEMPORALITY_CUMULATIVE: 2,
}
const DIGITS = /^\d+$/
export const SIGNED_DIGITS = /^-?\d+$/
const EMPTY: readonly unknown[] = Object.freeze([])

/**
 * A shape error below the data point, with the path relative to where it was caught.
 * Loops over arrays add their index as the error passes through (`within`), so no path
 * string is built unless something is malformed.
 */
export class Malformed extends Error {
  path: string

  constructor(path: string, message: string) {
    super(message)
    this.path = path
  }
}

/**
 * A number outside its field: the point is rejected, the request goes on. Thrown only where
 * the JSON text says more than the double it becomes (digits past 2^64 - 1, a fractional
 * as_int, a time before 1970); the rest is checked on the number by the BatchBuilder.
 */
export class BadNumber extends Malformed {
  readonly value: string
  readonly expected: string

  constructor(path: string, value: unknown, expected: string) {
    const text = typeof value === 'string' && value.length > 40 ? `${value.slice(0, 40)}…` : String(value)
    // A number as written; text that is no number at all quoted, so that it reads as text.
    const shown = typeof value === 'string' && Number.isNaN(Number(value)) && value !== 'NaN' ? show(value) : text
    super(path, `${shown} is out of range: expected ${expected}`)
    this.value = shown
    this.expected = expected
  }
}

/** A JSON path below a point as the OTLP field name: `positive.bucketCounts[1]` → `positive.bucket_counts[1]`. */
export function fieldName(path: string): string {
  return path.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)
}

/** Adds `segment` in front of the path of a Malformed passing through a loop or a nested reader. */
export function within(err: unknown, segment: string): unknown {
  if (err instanceof Malformed) {
    err.path = err.path === '' ? segment : err.path.startsWith('[') ? segment + err.path : `${segment}.${err.path}`
  }
  return err
}

/** Whether `v` is a JSON object (not null, not an array). */
export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/**
 * A fixed64 nanosecond timestamp as integer milliseconds; 0 when absent. A digit string is
 * cut before its last 6 digits, which stays exact where Number() of the whole string would
 * round past 2^53 ns. Anything but an integer in 0..2^64 - 1 is a BadNumber, a string that
 * is no number at all too: a bad time costs its point, not the request.
 */
export function time(value: unknown, field: string): number {
  if (value === undefined || value === null) return 0
  if (typeof value === 'string' && DIGITS.test(value)) {
    if (aboveUint64(value)) throw new BadNumber(field, value, NANOS_EXPECTED)
    return value.length <= 6 ? 0 : Number(value.slice(0, -6))
  }
  if (typeof value !== 'number' && typeof value !== 'string')
    throw new Malformed(field, `expected a timestamp string or number, got ${show(value)}`)
  const n = Number(value)
  // A double at 2^64 may stand for anything from 2^64 - 2^11: not provably in range.
  if (!(Number.isInteger(n) && n >= 0 && n < TWO_64)) throw new BadNumber(field, value, NANOS_EXPECTED)
  return Math.floor(n / 1e6)
}

/**
 * An integer field (uint32, sint32) as a number; 0 when absent. Any number passes, NaN and
 * ±Inf included: the BatchBuilder checks it against its column. A string that is no
 * number at all is malformed.
 */
export function int(value: unknown, field: string): number {
  if (typeof value === 'number') return value
  if (value === undefined || value === null) return 0
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value)
    if (!Number.isNaN(n) || value === 'NaN') return n
  }
  throw new Malformed(field, `expected an integer, got ${show(value)}`)
}

/**
 * A fixed64/uint64 as a number. Digits past 2^64 - 1, and numbers from 2^64 up (a double
 * that large cannot show it is in range), are a BadNumber; the rest is checked by the
 * BatchBuilder, which sees -1 or 1.5 as well as the text did.
 */
export function uint64(value: unknown, field: string): number {
  if (typeof value === 'string' && DIGITS.test(value)) {
    if (aboveUint64(value)) throw new BadNumber(field, value, UINT64.expected)
    return Number(value)
  }
  const n = int(value, field)
  if (n >= TWO_64) throw new BadNumber(field, value, UINT64.expected)
  return n
}

/** An sfixed64 (`asInt`) as a number: an integer within int64, or a BadNumber. */
export function int64(value: unknown, field: string): number {
  if (typeof value === 'string' && SIGNED_DIGITS.test(value)) {
    if (outsideInt64(value)) throw new BadNumber(field, value, INT64_EXPECTED)
    return Number(value)
  }
  const n = int(value, field)
  if (!(Number.isInteger(n) && n >= -TWO_63 && n < TWO_63)) throw new BadNumber(field, value, INT64_EXPECTED)
  return n
}

/** A double: a number, or a string such as "NaN", "Infinity", "-Infinity" or "1.5". */
export function double(value: unknown, absent: number, field: string): number {
  if (typeof value === 'number') return value
  if (value === undefined || value === null) return absent
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value)
    if (!Number.isNaN(n) || value === 'NaN') return n
  }
  throw new Malformed(field, `expected a number, got ${show(value)}`)
}

/** A repeated fixed64/uint64 (`isDouble` false) or double field. */
export function numbers(value: unknown, isDouble: boolean, field: string): number[] {
  const items = array(value, field)
  const out = new Array<number>(items.length)
  for (let i = 0; i < items.length; i++) {
    const x = items[i]
    // Fast path for plain numbers; the helpers (and the path string) only for the rest.
    if (typeof x === 'number' && (isDouble || x < TWO_64)) out[i] = x
    else out[i] = isDouble ? double(x, 0, `${field}[${i}]`) : uint64(x, `${field}[${i}]`)
  }
  return out
}

/** An enum: its number, or its name; an unknown name is 0 (unspecified). */
export function enumValue(value: unknown, field: string): number {
  if (typeof value === 'string' && !DIGITS.test(value)) return TEMPORALITY_NAMES[value] ?? 0
  return int(value, field)
}

/** A bool; false when absent. */
export function bool(value: unknown, field: string): boolean {
  if (typeof value === 'boolean') return value
  if (value === undefined || value === null) return false
  throw new Malformed(field, `expected true or false, got ${show(value)}`)
}

/** A string; '' when absent. */
export function string(value: unknown, field: string): string {
  if (typeof value === 'string') return value
  if (value === undefined || value === null) return ''
  throw new Malformed(field, `expected a string, got ${show(value)}`)
}

/** An array; empty when absent. */
export function array(value: unknown, field: string): readonly unknown[] {
  if (Array.isArray(value)) return value
  if (value === undefined || value === null) return EMPTY
  throw new Malformed(field, `expected an array, got ${show(value)}`)
}

/** An object; undefined when absent. */
export function object(value: unknown, field: string): JsonObject | undefined {
  if (isObject(value)) return value
  if (value === undefined || value === null) return undefined
  throw new Malformed(field, `expected an object, got ${show(value)}`)
}

/** A value for an error message: short, and never the whole of a large object. */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (value === null) return 'null'
  return Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`
}
