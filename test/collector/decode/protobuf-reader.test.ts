import protobuf from 'protobufjs'
import { describe, expect, it } from 'vitest'
import { int64Text, ProtobufReader } from '../../../collector/src/decode/protobuf-reader.ts'
import { isGovernorError } from '../../../collector/src/errors.ts'

/** protobufjs's Writer is the oracle for the wire format. */
function write(fn: (w: protobuf.Writer) => void): Uint8Array {
  const w = protobuf.Writer.create()
  fn(w)
  return w.finish()
}

/** 64-bit value as protobufjs LongBits input, exact for any bigint. */
function long(v: bigint): { low: number; high: number; unsigned: boolean } {
  const u = BigInt.asUintN(64, v)
  return { low: Number(u & 0xffff_ffffn) | 0, high: Number(u >> 32n) | 0, unsigned: v >= 0n }
}

function malformed(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    expect(isGovernorError(err)).toBe(true)
    expect((err as { code: string }).code).toBe('GOV_ERR_OTLP_MALFORMED')
    return (err as Error).message
  }
  throw new Error('expected a GOV_ERR_OTLP_MALFORMED error')
}

describe('ProtobufReader', () => {
  it('reads uint32 varints of every length', () => {
    const values = [0, 1, 127, 128, 300, 16_383, 16_384, 2 ** 21, 2 ** 28 - 1, 2 ** 28, 2 ** 32 - 1]
    const r = new ProtobufReader(write((w) => values.forEach((v) => w.uint32(v))))
    for (const v of values) expect(r.uint32()).toBe(v)
    expect(r.pos).toBe(r.length)
  })

  it('reads 64-bit varints exactly into lo/hi and as numbers', () => {
    const values = [0n, 1n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 35n + 7n, 2n ** 53n - 1n, 2n ** 63n, 2n ** 64n - 1n]
    const r = new ProtobufReader(write((w) => values.forEach((v) => w.uint64(long(v)))))
    for (const v of values) {
      r.varint64()
      expect((BigInt(r.hi) << 32n) | BigInt(r.lo)).toBe(v)
    }
    const r2 = new ProtobufReader(write((w) => w.uint64(long(2n ** 53n - 1n)).uint64(long(5n * 2n ** 32n + 3n))))
    expect(r2.uint64()).toBe(2 ** 53 - 1)
    expect(r2.uint64()).toBe(5 * 2 ** 32 + 3)
  })

  it('reads negative int64 (10-byte varints) and their exact decimal text', () => {
    const values = [-1n, -2n, -(2n ** 31n), -(2n ** 53n), -(2n ** 63n), 2n ** 63n - 1n, 9_007_199_254_740_993n]
    const bytes = write((w) => values.forEach((v) => w.int64(long(v))))
    const r = new ProtobufReader(bytes)
    for (const v of values) expect(r.int64String()).toBe(v.toString())
    const r2 = new ProtobufReader(write((w) => w.int64(long(-5n)).int64(long(-(2n ** 40n)))))
    expect(r2.int64()).toBe(-5)
    expect(r2.int64()).toBe(-(2 ** 40))
  })

  it('reads int32 negatives and zigzag sint32', () => {
    const r = new ProtobufReader(
      write((w) =>
        w
          .int32(-7)
          .sint32(-3)
          .sint32(3)
          .sint32(-(2 ** 31))
          .sint32(2 ** 31 - 1),
      ),
    )
    expect(r.int32()).toBe(-7)
    expect(r.sint32()).toBe(-3)
    expect(r.sint32()).toBe(3)
    expect(r.sint32()).toBe(-(2 ** 31))
    expect(r.sint32()).toBe(2 ** 31 - 1)
  })

  it('reads fixed64, sfixed64, fixed32, float and double', () => {
    const r = new ProtobufReader(
      write((w) =>
        w
          .fixed64(long(1_700_000_000_123_456_789n))
          .sfixed64(long(-42n))
          .fixed32(0xdead_beef)
          .float(1.5)
          .double(-0.1)
          .double(NaN),
      ),
    )
    r.fixed64()
    expect((BigInt(r.hi) << 32n) | BigInt(r.lo)).toBe(1_700_000_000_123_456_789n)
    expect(r.sfixed64()).toBe(-42)
    expect(r.fixed32()).toBe(0xdead_beef)
    expect(r.float()).toBe(1.5)
    expect(r.double()).toBe(-0.1)
    expect(r.double()).toBeNaN()
  })

  it('reads strings (ASCII and multi-byte) and bytes without copying', () => {
    const long_ = 'x'.repeat(100) + 'é'
    const r = new ProtobufReader(
      write((w) =>
        w
          .string('abc')
          .string('héllo ✓')
          .string(long_)
          .string('')
          .bytes(new Uint8Array([1, 2, 3])),
      ),
    )
    expect(r.string()).toBe('abc')
    expect(r.string()).toBe('héllo ✓')
    expect(r.string()).toBe(long_)
    expect(r.string()).toBe('')
    expect([...r.bytes()]).toEqual([1, 2, 3])
  })

  it('skips every wire type, including nested groups', () => {
    const bytes = write((w) => {
      w.uint32((1 << 3) | 0).uint64(long(2n ** 63n)) // varint, 10 bytes
      w.uint32((2 << 3) | 1).fixed64(long(5n)) // i64
      w.uint32((3 << 3) | 2).string('skip me') // len
      w.uint32((4 << 3) | 5).fixed32(9) // i32
      w.uint32((5 << 3) | 3) // group 5 { group 6 { varint } }
      w.uint32((6 << 3) | 3)
        .uint32((1 << 3) | 0)
        .uint32(1)
        .uint32((6 << 3) | 4)
      w.uint32((5 << 3) | 4)
      w.uint32((7 << 3) | 0).uint32(77)
    })
    const r = new ProtobufReader(bytes)
    const seen: number[] = []
    while (r.pos < r.length) {
      const tag = r.tag()
      if (tag >>> 3 === 7) seen.push(r.uint32())
      else r.skip(tag)
    }
    expect(seen).toEqual([77])
  })

  it('rejects varints longer than 10 bytes, naming the offset', () => {
    const bytes = new Uint8Array([0x08, ...new Array(11).fill(0xff), 0x01])
    const r = new ProtobufReader(bytes)
    r.tag()
    expect(malformed(() => r.varint64())).toMatch(/at byte 1: varint longer than 10 bytes/)
    expect(malformed(() => new ProtobufReader(bytes.subarray(1)).uint32())).toMatch(/varint longer than 10 bytes/)
  })

  it('rejects truncated values', () => {
    expect(malformed(() => new ProtobufReader(new Uint8Array([0x80, 0x80])).uint32())).toMatch(
      /at byte 2: varint runs past the end/,
    )
    expect(malformed(() => new ProtobufReader(new Uint8Array([1, 2, 3])).fixed64())).toMatch(
      /at byte 0: 8-byte value runs past/,
    )
    expect(malformed(() => new ProtobufReader(new Uint8Array([1, 2])).fixed32())).toMatch(/4-byte value/)
    expect(malformed(() => new ProtobufReader(new Uint8Array([5, 0x61])).string())).toMatch(
      /at byte 0: length 5 runs past the end/,
    )
  })

  it('rejects field number 0, bad wire types and unclosed or mismatched groups', () => {
    expect(malformed(() => new ProtobufReader(new Uint8Array([0x00])).tag())).toMatch(/field number 0/)
    const r = new ProtobufReader(new Uint8Array([0x0e]))
    expect(malformed(() => r.skip(r.tag()))).toMatch(/unexpected wire type 6/)
    const g = new ProtobufReader(
      write((w) =>
        w
          .uint32((5 << 3) | 3)
          .uint32((1 << 3) | 0)
          .uint32(1),
      ),
    )
    expect(malformed(() => g.skip(g.tag()))).toMatch(/group 5 is not closed/)
    const m = new ProtobufReader(write((w) => w.uint32((5 << 3) | 3).uint32((6 << 3) | 4)))
    expect(malformed(() => m.skip(m.tag()))).toMatch(/end of group 6 does not match start of group 5/)
  })

  it('checks wire types and message ends', () => {
    const r = new ProtobufReader(write((w) => w.uint32((3 << 3) | 2).string('x')))
    const tag = r.tag()
    expect(malformed(() => r.expect(tag, 1, 'NumberDataPoint.time_unix_nano'))).toMatch(
      /NumberDataPoint.time_unix_nano has wire type 2, expected 1/,
    )
    r.pos = 3
    expect(malformed(() => r.endOf(2, 'Metric'))).toMatch(/at byte 2: a field of Metric runs 1 bytes past the end/)
  })
})

describe('int64Text', () => {
  it('is exact across the int64 range', () => {
    const values = [
      0n,
      1n,
      -1n,
      2n ** 53n - 1n,
      2n ** 53n,
      -(2n ** 53n),
      -(2n ** 53n) - 1n,
      2n ** 63n - 1n,
      -(2n ** 63n),
      123_456_789_012_345_678n,
    ]
    for (const v of values) {
      const u = BigInt.asUintN(64, v)
      expect(int64Text(Number(u & 0xffff_ffffn), Number(u >> 32n))).toBe(v.toString())
    }
  })
})

describe('ProtobufReader.delimitedEnd', () => {
  it('does not wrap lengths of 2^32 and more', () => {
    const bytes = write((w) => w.uint64(long(2n ** 32n + 1n)).uint32(0x61))
    expect(malformed(() => new ProtobufReader(bytes).delimitedEnd())).toMatch(
      /at byte 0: length 4294967297 runs past the end/,
    )
    const ok = new ProtobufReader(write((w) => w.bytes(new Uint8Array(200))))
    expect(ok.delimitedEnd()).toBe(202)
  })
})
