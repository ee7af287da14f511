/**
 * Sticky bucketing for percentage rollouts.
 *
 *   bucket(flag, key) = FNV-1a 32 (UTF-8 bytes of `${flag}\0${key}`) mod 10,000
 *   enabled           = bucket < round(percent × 100)
 *
 * A key keeps its bucket whatever the percentage, so the keys that are in at 10 % are still in
 * at 20 % (a canary grows, it does not reshuffle), and the flag's name in the hash gives each
 * flag its own draw (the 10 % of one flag are not the 10 % of another). The definition is
 * short on purpose: another language's client computes the same buckets from it.
 */

/** Buckets of a rollout: a percentage has a resolution of 0.01. */
export const BUCKETS = 10_000

const FNV_OFFSET = 0x811c9dc5
const FNV_PRIME = 0x01000193

/**
 * Continues an FNV-1a 32 hash over the UTF-8 bytes of `s`, without encoding it to a buffer
 * (an evaluation must not allocate). `h` is a previous result, or `FNV_OFFSET` to start.
 * Lone surrogates hash as U+FFFD, as `TextEncoder` encodes them.
 */
export function fnv1a32Continue(h: number, s: string): number {
  const n = s.length
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i)
    if (c < 0x80) {
      h = Math.imul(h ^ c, FNV_PRIME)
      continue
    }
    if (c < 0x800) {
      h = Math.imul(h ^ (0xc0 | (c >> 6)), FNV_PRIME)
      h = Math.imul(h ^ (0x80 | (c & 0x3f)), FNV_PRIME)
      continue
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < n ? s.charCodeAt(i + 1) : 0
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00)
        i++
        h = Math.imul(h ^ (0xf0 | (cp >> 18)), FNV_PRIME)
        h = Math.imul(h ^ (0x80 | ((cp >> 12) & 0x3f)), FNV_PRIME)
        h = Math.imul(h ^ (0x80 | ((cp >> 6) & 0x3f)), FNV_PRIME)
        h = Math.imul(h ^ (0x80 | (cp & 0x3f)), FNV_PRIME)
        continue
      }
      c = 0xfffd
    }
    h = Math.imul(h ^ (0xe0 | (c >> 12)), FNV_PRIME)
    h = Math.imul(h ^ (0x80 | ((c >> 6) & 0x3f)), FNV_PRIME)
    h = Math.imul(h ^ (0x80 | (c & 0x3f)), FNV_PRIME)
  }
  return h
}

/** FNV-1a 32 of the UTF-8 bytes of `s`, as an unsigned 32-bit integer. */
export function fnv1a32(s: string): number {
  return fnv1a32Continue(FNV_OFFSET, s) >>> 0
}

/** The hash state after `${flag}\0`: a flag computes it once, then continues it per key. */
export function flagSeed(flag: string): number {
  // The separator is one NUL byte: h ^ 0 is h.
  return Math.imul(fnv1a32Continue(FNV_OFFSET, flag) ^ 0, FNV_PRIME)
}

/** The bucket (0 to 9,999) of `key` for the flag whose seed is `seed` (see `flagSeed`). */
export function bucketFromSeed(seed: number, key: string): number {
  return (fnv1a32Continue(seed, key) >>> 0) % BUCKETS
}

/** The bucket (0 to 9,999) of `key` in flag `flag`. */
export function bucketOf(flag: string, key: string): number {
  return bucketFromSeed(flagSeed(flag), key)
}

/**
 * Buckets that are in at `percent` (0 to 100; outside is clamped): `round(percent × 100)`,
 * rounded so that 0.1 % is 10 buckets, not 11 (0.1 × 100 is 10.000000000000002 in floating point).
 */
export function bucketsFor(percent: number): number {
  if (!(percent > 0)) return 0
  if (percent >= 100) return BUCKETS
  return Math.round(percent * 100)
}

/** True when `key` is in the first `percent` % of flag `flag`'s buckets. */
export function isInRollout(flag: string, key: string, percent: number): boolean {
  return bucketOf(flag, key) < bucketsFor(percent)
}
