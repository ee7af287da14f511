import { createHash } from 'node:crypto'
import type { Attributes } from './types.ts'

/**
 * The canonical identity of a series: metric name, resource attributes and point
 * attributes, each attribute set sorted by key. Two points with the same key belong to
 * the same series whatever order their attributes arrived in.
 */
export function seriesKey(metric: string, resource: Attributes, attributes: Attributes): string {
  return JSON.stringify([metric, sortedEntries(resource), sortedEntries(attributes)])
}

function sortedEntries(attrs: Attributes): [string, string][] {
  return Object.entries(attrs).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
}

/**
 * A 64-bit series id: 16 bits from the metric name, then 48 bits from the series key.
 *
 *   | metric hash (16) | series key hash (48) |
 *
 * Point tables are sorted by series id, so the prefix keeps a metric's series side by side
 * on disk without a metric column in every row. Two series of one metric collide with odds
 * of about n² / 2^49 (one in 500 for a million series of a single metric).
 */
export function seriesId(metric: string, key: string): bigint {
  const prefix = BigInt(createHash('sha256').update(metric).digest().readUInt16BE(0))
  const rest = createHash('sha256').update(key).digest().readBigUInt64BE(0) & 0xffff_ffff_ffffn
  return (prefix << 48n) | rest
}
