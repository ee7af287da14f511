/**
 * OTLP protobuf requests for load generation, encoded once and patched in place: every
 * data point's time and value sit at known byte offsets, so a sender rewrites 16 bytes per
 * point instead of encoding a request per send (the generator must stay far cheaper than
 * the server it measures).
 */

/** Bytes plus the offsets of interest inside them. */
interface Chunk {
  buf: Buffer
  marks: number[]
}

function varint(n: number): Buffer {
  const out: number[] = []
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80)
    n = Math.floor(n / 128)
  }
  out.push(n)
  return Buffer.from(out)
}

function concat(chunks: Chunk[]): Chunk {
  const marks: number[] = []
  let at = 0
  for (const c of chunks) {
    for (const m of c.marks) marks.push(m + at)
    at += c.buf.length
  }
  return { buf: Buffer.concat(chunks.map((c) => c.buf)), marks }
}

function field(num: number, c: Chunk): Chunk {
  const head = Buffer.concat([varint((num << 3) | 2), varint(c.buf.length)])
  return { buf: Buffer.concat([head, c.buf]), marks: c.marks.map((m) => m + head.length) }
}

function bytes(b: Buffer): Chunk {
  return { buf: b, marks: [] }
}
function str(num: number, s: string): Chunk {
  return field(num, bytes(Buffer.from(s)))
}
function uint(num: number, n: number): Chunk {
  return bytes(Buffer.concat([varint(num << 3), varint(n)]))
}
function keyValue(k: string, v: string): Chunk {
  return concat([str(1, k), field(2, str(1, v))])
}

/** A request of one gauge or cumulative monotonic sum with one point per series. */
export interface Template {
  body: Buffer
  /** Byte offset of each point's time_unix_nano (fixed64, little-endian). */
  timeAt: number[]
  /** Byte offset of each point's as_double. */
  valueAt: number[]
}

export function buildTemplate(opts: {
  service: string
  metric: string
  kind: 'gauge' | 'counter'
  series: number
  firstSeries: number
}): Template {
  const points: Chunk[] = []
  for (let i = 0; i < opts.series; i++) {
    const fixed = Buffer.alloc(27)
    fixed[0] = (3 << 3) | 1 // time_unix_nano, fixed64: mark 0 at byte 1
    fixed[9] = (2 << 3) | 1 // start_time_unix_nano
    fixed.writeBigUInt64LE(1_700_000_000_000_000_000n, 10)
    fixed[18] = (4 << 3) | 1 // as_double: mark 1 at byte 19
    const point = concat([
      { buf: fixed, marks: [1, 19] },
      field(7, keyValue('instance', `host-${opts.firstSeries + i}`)),
      field(7, keyValue('region', `r${(opts.firstSeries + i) % 5}`)),
    ])
    points.push(field(1, point))
  }
  const data = opts.kind === 'gauge' ? field(5, concat(points)) : field(7, concat([...points, uint(2, 2), uint(3, 1)]))
  const metric = concat([str(1, opts.metric), str(3, opts.kind === 'gauge' ? 'By' : '1'), data])
  const scope = concat([field(1, str(1, 'bench')), field(2, metric)])
  const resource = field(1, field(1, keyValue('service.name', opts.service)))
  const request = field(1, concat([resource, field(2, scope)]))
  const timeAt: number[] = [],
    valueAt: number[] = []
  for (let i = 0; i < request.marks.length; i += 2) {
    timeAt.push(request.marks[i]!)
    valueAt.push(request.marks[i + 1]!)
  }
  return { body: request.buf, timeAt, valueAt }
}

/** Rewrites every point's time (ms) and value; `value(i)` gives point i's value. */
export function patch(t: Template, timeMs: number, value: (i: number) => number): void {
  const ns = BigInt(timeMs) * 1_000_000n
  for (let i = 0; i < t.timeAt.length; i++) {
    t.body.writeBigUInt64LE(ns, t.timeAt[i]!)
    t.body.writeDoubleLE(value(i), t.valueAt[i]!)
  }
}
