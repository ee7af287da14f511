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

/** A 64-bit id for a series key: the first 8 bytes of its SHA-256, as an unsigned integer. */
export function seriesId(key: string): bigint {
  return createHash('sha256').update(key).digest().readBigUInt64BE(0)
}
