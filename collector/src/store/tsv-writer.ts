/**
 * Writes TabSeparated rows straight into a growing Buffer. Samples are the hot path of
 * every commit (one row per point): building a string per row and encoding it again cost
 * more than the engine's own parse, so integers are written digit by digit and the
 * per-series prefix is copied as prepared bytes. `bench/encode-tsv.ts` measures it against
 * the template-string encoder.
 */
export class TsvWriter {
  #buf: Buffer
  #pos = 0

  constructor(initialBytes = 1 << 16) {
    this.#buf = Buffer.allocUnsafe(initialBytes)
  }

  /** The bytes written so far (a view, valid until the next write). */
  bytes(): Buffer {
    return this.#buf.subarray(0, this.#pos)
  }

  get length(): number {
    return this.#pos
  }

  /** Makes room for `n` more bytes, doubling the buffer as it fills. */
  reserve(n: number): void {
    if (this.#pos + n <= this.#buf.length) return
    let size = this.#buf.length * 2
    while (size < this.#pos + n) size *= 2
    const next = Buffer.allocUnsafe(size)
    this.#buf.copy(next, 0, 0, this.#pos)
    this.#buf = next
  }

  /** Prepared bytes, such as a series' escaped name and id. */
  raw(bytes: Buffer): void {
    const n = bytes.length
    this.reserve(n)
    if (n > 32) {
      this.#pos += bytes.copy(this.#buf, this.#pos)
      return
    }
    // A series prefix is about 21 bytes: a loop beats the native copy's call overhead.
    const buf = this.#buf
    let at = this.#pos
    for (let i = 0; i < n; i++) buf[at++] = bytes[i]!
    this.#pos = at
  }

  /** Writes again `length` bytes already written at `from` (a value repeated from an earlier row). */
  repeat(from: number, length: number): void {
    this.reserve(length)
    const buf = this.#buf
    let at = this.#pos
    for (let i = 0; i < length; i++) buf[at++] = buf[from + i]!
    this.#pos = at
  }

  byte(b: number): void {
    this.reserve(1)
    this.#buf[this.#pos++] = b
  }

  /**
   * A safe integer as decimal digits. Written backwards from its last digit: no string,
   * no division by powers of ten to find the length first.
   */
  int(n: number): void {
    this.reserve(21)
    const buf = this.#buf
    if (n < 0) {
      buf[this.#pos++] = 0x2d // '-'
      n = -n
    }
    let end = this.#pos
    let t = n
    do {
      end++
      t = Math.floor(t / 10)
    } while (t > 0)
    let at = end
    do {
      const q = Math.floor(n / 10)
      buf[--at] = 0x30 + (n - q * 10)
      n = q
    } while (n > 0)
    this.#pos = end
  }

  /** A float as ClickHouse parses it: integers as digits, others in shortest round-trip form, `nan`/`inf`/`-inf`. */
  float(v: number): void {
    if (Number.isInteger(v) && v <= Number.MAX_SAFE_INTEGER && v >= -Number.MAX_SAFE_INTEGER && !Object.is(v, -0))
      return this.int(v)
    const s = Object.is(v, -0)
      ? '-0'
      : Number.isFinite(v)
        ? String(v)
        : Number.isNaN(v)
          ? 'nan'
          : v > 0
            ? 'inf'
            : '-inf'
    this.reserve(s.length)
    this.#pos += this.#buf.write(s, this.#pos, 'latin1')
  }
}
