import { GovernorError } from '../errors.ts'

/** Protobuf wire types (the low 3 bits of a tag). */
export const VARINT = 0
export const I64 = 1
export const LEN = 2
export const SGROUP = 3
export const EGROUP = 4
export const I32 = 5

const TWO_32 = 0x1_0000_0000
/** Groups are deprecated; anything nested deeper than this is an attack, not data. */
const MAX_GROUP_DEPTH = 64
/**
 * Up to this length an ASCII string is decoded by hand: a TextDecoder call costs more than the
 * loop (measured about 10% off decoding SDK-shaped requests, whose keys and values are short).
 */
const SHORT_STRING = 16

const utf8 = new TextDecoder('utf-8')

/**
 * A cursor over protobuf wire-format bytes. It allocates nothing but the strings and
 * sub-arrays it returns: 64-bit values come back as numbers, or as their two 32-bit halves
 * in `lo`/`hi` for callers that need them exact.
 *
 * Every read is bounds-checked and a malformed input throws `GOV_ERR_OTLP_MALFORMED` naming
 * the byte offset. Messages are read by taking their end offset from `delimitedEnd()` and
 * looping while `pos < end`; `pos` is public so a caller may scan a message twice.
 */
export class ProtobufReader {
  /** Offset of the next byte to read. */
  pos = 0
  /** Low 32 bits (unsigned) of the last value read by `varint64()` or `fixed64()` (length prefixes too). */
  lo = 0
  /** High 32 bits (unsigned) of the last value read by `varint64()` or `fixed64()`. */
  hi = 0
  readonly #buf: Uint8Array
  readonly #view: DataView
  readonly #bytes: Buffer

  constructor(buf: Uint8Array) {
    this.#buf = buf
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
    this.#bytes = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  }

  /**
   * The bytes in [start, end) as a string of one char per byte: a cheap, exact map key for
   * a run of encoded fields (no UTF-8 decoding, no validation).
   */
  bytesKey(start: number, end: number): string {
    return this.#bytes.toString('latin1', start, end)
  }

  /** Length of the whole buffer in bytes. */
  get length(): number {
    return this.#buf.length
  }

  /** Throws `GOV_ERR_OTLP_MALFORMED` with the offset `at` (default: the cursor). */
  fail(message: string, at: number = this.pos): never {
    throw new GovernorError('GOV_ERR_OTLP_MALFORMED', `invalid protobuf at byte ${at}: ${message}`)
  }

  /** Reads a field tag: `(fieldNumber << 3) | wireType`. Field number 0 is invalid. */
  tag(): number {
    const at = this.pos
    const tag = this.uint32()
    if (tag >>> 3 === 0) this.fail(`invalid field number 0 (tag ${tag})`, at)
    return tag
  }

  /** Reads a varint and returns its low 32 bits, unsigned (uint32, enums, bools, lengths). */
  uint32(): number {
    const buf = this.#buf
    let pos = this.pos
    // Fast path: one byte covers tags of fields 1..15 and most small values.
    if (pos < buf.length) {
      const b = buf[pos]!
      if (b < 0x80) {
        this.pos = pos + 1
        return b
      }
    }
    let value = 0
    for (let shift = 0; shift < 70; shift += 7) {
      if (pos >= buf.length) this.fail('varint runs past the end of the buffer', pos)
      const b = buf[pos++]!
      // Bits past 32 are dropped, as protobuf does when an int64 is read as an int32.
      if (shift < 32) value |= (b & 0x7f) << shift
      if (b < 0x80) {
        this.pos = pos
        return value >>> 0
      }
    }
    return this.fail('varint longer than 10 bytes', this.pos)
  }

  /** Reads a varint as a signed 32-bit integer (int32, negative enums). */
  int32(): number {
    return this.uint32() | 0
  }

  /** Reads a zigzag-encoded sint32. */
  sint32(): number {
    const n = this.uint32()
    return (n >>> 1) ^ -(n & 1)
  }

  /** Reads a bool varint. */
  bool(): boolean {
    return this.uint32() !== 0
  }

  /** Reads a 64-bit varint into `lo`/`hi`. */
  varint64(): void {
    const buf = this.#buf
    let pos = this.pos
    let lo = 0
    let hi = 0
    // Bytes 0..3 fill bits 0..27; byte 4 straddles the halves (bits 28..34); bytes 5..9
    // fill the high half. A 10th byte carries only bit 63.
    for (let i = 0; i < 10; i++) {
      if (pos >= buf.length) this.fail('varint runs past the end of the buffer', pos)
      const b = buf[pos++]!
      const bits = b & 0x7f
      if (i < 4) lo |= bits << (7 * i)
      else if (i === 4) {
        lo |= bits << 28
        hi |= bits >>> 4
      } else hi |= bits << (7 * i - 32)
      if (b < 0x80) {
        this.pos = pos
        this.lo = lo >>> 0
        this.hi = hi >>> 0
        return
      }
    }
    this.fail('varint longer than 10 bytes', this.pos)
  }

  /** Reads a uint64 varint as a number (exact up to 2^53). */
  uint64(): number {
    this.varint64()
    return this.hi * TWO_32 + this.lo
  }

  /** Reads an int64 varint (two's complement) as a number (exact within ±2^53). */
  int64(): number {
    this.varint64()
    return (this.hi | 0) * TWO_32 + this.lo
  }

  /** Reads an int64 varint as its exact decimal text. */
  int64String(): string {
    this.varint64()
    return int64Text(this.lo, this.hi)
  }

  /** Reads 8 little-endian bytes into `lo`/`hi` and returns them as an unsigned number. */
  fixed64(): number {
    const pos = this.#need(8)
    this.lo = this.#view.getUint32(pos, true)
    this.hi = this.#view.getUint32(pos + 4, true)
    return this.hi * TWO_32 + this.lo
  }

  /** Reads an sfixed64 as a number (exact within ±2^53). */
  sfixed64(): number {
    this.fixed64()
    return (this.hi | 0) * TWO_32 + this.lo
  }

  /** Reads a fixed32. */
  fixed32(): number {
    return this.#view.getUint32(this.#need(4), true)
  }

  /** Reads a float. */
  float(): number {
    return this.#view.getFloat32(this.#need(4), true)
  }

  /** Reads a double. */
  double(): number {
    return this.#view.getFloat64(this.#need(8), true)
  }

  /**
   * Reads the length prefix of a length-delimited field and returns the offset where the
   * field ends, after checking that it lies inside the buffer.
   */
  delimitedEnd(): number {
    const at = this.pos
    let len: number
    const first = this.#buf[at]
    if (first !== undefined && first < 0x80) {
      len = first
      this.pos = at + 1
    } else {
      // Read all 64 bits: uint32() would wrap a length of 2^32 + 5 to 5 and read garbage.
      this.varint64()
      len = this.hi * TWO_32 + this.lo
    }
    const end = this.pos + len
    if (end > this.#buf.length) {
      this.fail(`length ${len} runs past the end of the buffer (${this.#buf.length - this.pos} bytes left)`, at)
    }
    return end
  }

  /** Reads a length-delimited field as a view into the buffer (no copy). */
  bytes(): Uint8Array {
    const end = this.delimitedEnd()
    const out = this.#buf.subarray(this.pos, end)
    this.pos = end
    return out
  }

  /** Reads a length-delimited UTF-8 string. Invalid sequences become U+FFFD. */
  string(): string {
    const end = this.delimitedEnd()
    const buf = this.#buf
    let pos = this.pos
    if (end - pos <= SHORT_STRING) {
      let s = ''
      for (; pos < end; pos++) {
        const c = buf[pos]!
        if (c >= 0x80) break
        s += String.fromCharCode(c)
      }
      if (pos === end) {
        this.pos = end
        return s
      }
      pos = this.pos
    }
    this.pos = end
    return utf8.decode(buf.subarray(pos, end))
  }

  /**
   * Checks that the fields of a message ended exactly at its end offset; a field that ran
   * over it means a length prefix inside the message was wrong.
   */
  endOf(end: number, message: string): void {
    if (this.pos !== end)
      this.fail(`a field of ${message} runs ${this.pos - end} bytes past the end of the message`, end)
  }

  /** Skips the value of the field whose tag has just been read. */
  skip(tag: number): void {
    switch (tag & 7) {
      case VARINT:
        this.varint64()
        return
      case I64:
        this.#need(8)
        return
      case LEN:
        this.pos = this.delimitedEnd()
        return
      case I32:
        this.#need(4)
        return
      case SGROUP:
        this.#skipGroup(tag >>> 3)
        return
      default:
        this.fail(`unexpected wire type ${tag & 7} (field ${tag >>> 3})`)
    }
  }

  /** Checks that a known field came with the wire type its schema declares. */
  expect(tag: number, wireType: number, field: string): void {
    if ((tag & 7) !== wireType) {
      this.fail(`${field} has wire type ${tag & 7}, expected ${wireType}`)
    }
  }

  /** Skips a group up to its matching end-group tag; the start tag has been read. */
  #skipGroup(field: number): void {
    // Iterative, with a stack of open field numbers: recursion would let a body made of
    // nested group starts overflow the call stack.
    const open: number[] = [field]
    const start = this.pos
    for (;;) {
      if (this.pos >= this.#buf.length) this.fail(`group ${field} is not closed before the end of the buffer`, start)
      const tag = this.tag()
      const wt = tag & 7
      if (wt === SGROUP) {
        if (open.length >= MAX_GROUP_DEPTH) this.fail('groups nested too deeply')
        open.push(tag >>> 3)
      } else if (wt === EGROUP) {
        const expected = open.pop()
        if (expected !== tag >>> 3)
          this.fail(`end of group ${tag >>> 3} does not match start of group ${String(expected)}`)
        if (open.length === 0) return
      } else {
        this.skip(tag)
      }
    }
  }

  /** Advances over `n` bytes and returns the offset they start at. */
  #need(n: number): number {
    const pos = this.pos
    if (pos + n > this.#buf.length) {
      this.fail(`${n}-byte value runs past the end of the buffer (${this.#buf.length - pos} bytes left)`, pos)
    }
    this.pos = pos + n
    return pos
  }
}

/**
 * The exact decimal text of a 64-bit two's-complement integer given as two unsigned 32-bit
 * halves. Values within ±2^53 take the number path; only larger ones pay for a BigInt.
 */
export function int64Text(lo: number, hi: number): string {
  const signedHi = hi | 0
  // The value lies in [-2^53, 2^53) exactly when the signed high half lies in [-2^21, 2^21).
  if (signedHi >= -0x20_0000 && signedHi < 0x20_0000) return String(signedHi * TWO_32 + lo)
  return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)).toString()
}
