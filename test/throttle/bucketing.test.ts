import { describe, expect, it } from 'vitest'
import { BUCKETS, bucketOf, bucketsFor, fnv1a32, isInRollout } from '../../throttle/src/bucketing.ts'

/** The reference: FNV-1a 32 over the bytes TextEncoder produces. */
function referenceFnv(s: string): number {
  let h = 0x811c9dc5
  for (const b of new TextEncoder().encode(s)) h = Math.imul(h ^ b, 0x01000193)
  return h >>> 0
}

const KEYS = Array.from({ length: 100_000 }, (_, i) => `user-${i}`)

describe('bucketing', () => {
  it('is FNV-1a 32 of the UTF-8 bytes, for ASCII, accents, CJK, emoji and lone surrogates', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5)
    expect(fnv1a32('a')).toBe(0xe40c292c) // the published test vector
    expect(fnv1a32('foobar')).toBe(0xbf9cf968)
    for (const s of [
      'user-42',
      'café',
      'ユーザー',
      '👩‍💻 dev',
      'x\ud800y',
      '\udc00',
      'end\ud83d',
      'new-search\0alice@example.com',
    ]) {
      expect(fnv1a32(s)).toBe(referenceFnv(s))
    }
  })

  it('puts a key in the bucket of `${flag}\\0${key}`, stable from call to call', () => {
    expect(bucketOf('new-search', 'alice')).toBe(referenceFnv('new-search\0alice') % BUCKETS)
    expect(bucketOf('new-search', 'alice')).toBe(bucketOf('new-search', 'alice'))
    // A fixed value: a change of the hash would move every user of every rollout.
    expect(bucketOf('new-search', 'user-1')).toBe(referenceFnv('new-search\0user-1') % 10_000)
  })

  it('turns a percentage into buckets without floating-point drift', () => {
    expect(bucketsFor(0)).toBe(0)
    expect(bucketsFor(-5)).toBe(0)
    expect(bucketsFor(Number.NaN)).toBe(0)
    expect(bucketsFor(0.1)).toBe(10) // 0.1 × 100 is 10.000000000000002
    expect(bucketsFor(12.5)).toBe(1250)
    expect(bucketsFor(100)).toBe(BUCKETS)
    expect(bucketsFor(250)).toBe(BUCKETS)
  })

  it('lets in the requested share of 100,000 keys within ±1 percentage point', () => {
    for (const flag of ['new-search', 'checkout.v2']) {
      for (const percent of [1, 5, 10, 25, 50, 90, 99]) {
        const inside = KEYS.filter((k) => isInRollout(flag, k, percent)).length
        expect(Math.abs((inside / KEYS.length) * 100 - percent), `${flag} at ${percent} %`).toBeLessThanOrEqual(1)
      }
    }
  })

  it('is monotone: every key in at 10 % is still in at 20 %, and the 10 % is spread over distinct buckets', () => {
    const at10 = KEYS.filter((k) => isInRollout('new-search', k, 10))
    expect(at10.length).toBeGreaterThan(9_000)
    expect(at10.every((k) => isInRollout('new-search', k, 20))).toBe(true)
    const at20 = KEYS.filter((k) => isInRollout('new-search', k, 20))
    expect(at20.length).toBeGreaterThan(at10.length + 9_000)
    expect(new Set(at10.map((k) => bucketOf('new-search', k))).size).toBeGreaterThan(950)
  })

  it('draws each flag on its own: the 10 % of one flag is not the 10 % of another', () => {
    const a = new Set(KEYS.filter((k) => isInRollout('flag-a', k, 10)))
    const both = KEYS.filter((k) => a.has(k) && isInRollout('flag-b', k, 10)).length
    // Independent draws overlap on about 10 % × 10 % = 1 % of the keys.
    expect(both / KEYS.length).toBeGreaterThan(0.007)
    expect(both / KEYS.length).toBeLessThan(0.013)
  })
})
