import { hash } from 'node:crypto'
import type { Attributes } from './types.ts'

/**
 * The canonical identity of a series: metric name, resource attributes and point
 * attributes, each attribute set sorted by key. Two points with the same key belong to
 * the same series whatever order their attributes arrived in.
 *
 * The text is `JSON.stringify([metric, sortedEntries(resource), sortedEntries(attributes)])`,
 * and must stay exactly that: the series id is a hash of it.
 */
export function seriesKey(metric: string, resource: Attributes, attributes: Attributes): string {
  return seriesKeyOf(metric, entriesKey(resource), attributes)
}

/**
 * `seriesKey` with the resource part already written by `entriesKey`: a decoder writes it once
 * for the many series of one resource.
 */
export function seriesKeyOf(metric: string, resourceKey: string, attributes: Attributes): string {
  return `[${JSON.stringify(metric)},${resourceKey},${entriesKey(attributes)}]`
}

/**
 * An attribute set as `seriesKey` writes it: `JSON.stringify` of its entries sorted by key,
 * `[["k1","v1"],["k2","v2"]]`. Written pair by pair, with no entry arrays: senders mostly
 * send keys sorted already, and then nothing is sorted either.
 */
export function entriesKey(attrs: Attributes): string {
  const keys = Object.keys(attrs)
  for (let i = 1; i < keys.length; i++) {
    if (keys[i - 1]! > keys[i]!) {
      keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      break
    }
  }
  let text = '['
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!
    text += `${i === 0 ? '' : ','}[${JSON.stringify(k)},${JSON.stringify(attrs[k])}]`
  }
  return `${text}]`
}

/** Metric-name hashes (the id prefix) of recent names, so that a new series hashes its key only. */
const prefixes = new Map<string, bigint>()
const MAX_PREFIXES = 10_000

/**
 * A 64-bit series id: 16 bits from the metric name, then 48 bits from the series key.
 *
 *   | metric hash (16) | series key hash (48) |
 *
 * Point tables are sorted by series id, so the prefix keeps a metric's series side by side
 * on disk without a metric column in every row. Two series of one metric collide with odds
 * of about n² / 2^49 (one in 500 for a million series of a single metric). Both parts are
 * the first bytes of a SHA-256, as stored ids have always been.
 */
export function seriesId(metric: string, key: string): bigint {
  let prefix = prefixes.get(metric)
  if (prefix === undefined) {
    // A bounded memo of pure values: cleared whole when full, nothing is lost but time.
    if (prefixes.size >= MAX_PREFIXES) prefixes.clear()
    prefix = BigInt(hash('sha256', metric, 'buffer').readUInt16BE(0)) << 48n
    prefixes.set(metric, prefix)
  }
  // One-shot hash: no Hash object per series (crypto.hash, Node 20.12 and later).
  return prefix | (hash('sha256', key, 'buffer').readBigUInt64BE(0) & 0xffff_ffff_ffffn)
}
