/**
 * Prometheus remote write 1.0 requests for load generation, encoded once and patched in
 * place like the OTLP ones (otlp-template.ts): every sample's value and timestamp sit at
 * known byte offsets. The timestamp is a varint, so it is written as exactly 6 bytes, the
 * length of every millisecond timestamp between 1971 and 2109 (2^35 ≤ ms < 2^42), and the
 * request never changes length.
 *
 *   WriteRequest  1 timeseries          TimeSeries  1 labels  2 samples
 *   Label         1 name  2 value       Sample      1 value (double)  2 timestamp (varint ms)
 */

const TS_BYTES = 6
const TS_MIN = 2 ** 35,
  TS_MAX = 2 ** 42

function varint(n: number): Buffer {
  const out: number[] = []
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80)
    n = Math.floor(n / 128)
  }
  out.push(n)
  return Buffer.from(out)
}

function field(num: number, payload: Buffer): Buffer {
  return Buffer.concat([varint((num << 3) | 2), varint(payload.length), payload])
}

function label(name: string, value: string): Buffer {
  return field(1, Buffer.concat([field(1, Buffer.from(name)), field(2, Buffer.from(value))]))
}

/** A WriteRequest of one metric name with one sample per series, uncompressed. */
export interface RemoteWriteTemplate {
  body: Buffer
  /** Byte offset of each sample's timestamp (a 6-byte varint). */
  timeAt: number[]
  /** Byte offset of each sample's value (a little-endian double). */
  valueAt: number[]
}

/**
 * Series `firstSeries … firstSeries + series - 1` of `metric`, labelled (sorted, as
 * Prometheus sends them) `__name__`, `instance="host-N"`, `job`, `region="rN%5"`, the same
 * label sets as otlp-template.ts gives its points plus the job; or, with `labels`, `__name__`
 * and the labels it gives series N (`__name__` among them replaces `metric`).
 */
export function buildRemoteWrite(opts: {
  metric: string
  job: string
  series: number
  firstSeries: number
  labels?: (n: number) => Record<string, string>
}): RemoteWriteTemplate {
  const parts: Buffer[] = []
  const timeAt: number[] = [],
    valueAt: number[] = []
  let at = 0
  for (let i = 0; i < opts.series; i++) {
    const n = opts.firstSeries + i
    const pairs =
      opts.labels === undefined
        ? { __name__: opts.metric, instance: `host-${n}`, job: opts.job, region: `r${n % 5}` }
        : { __name__: opts.metric, ...opts.labels(n) }
    const labels = Buffer.concat(
      Object.entries(pairs)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => label(k, v)),
    )
    const sample = Buffer.alloc(1 + 8 + 1 + TS_BYTES)
    sample[0] = (1 << 3) | 1 // value, fixed64
    sample[9] = (2 << 3) | 0 // timestamp, varint
    const sampleField = Buffer.concat([varint((2 << 3) | 2), varint(sample.length), sample])
    const series = Buffer.concat([labels, sampleField])
    const head = Buffer.concat([varint((1 << 3) | 2), varint(series.length)])
    const sampleStart = at + head.length + labels.length + (sampleField.length - sample.length)
    valueAt.push(sampleStart + 1)
    timeAt.push(sampleStart + 10)
    parts.push(head, series)
    at += head.length + series.length
  }
  return { body: Buffer.concat(parts), timeAt, valueAt }
}

/** Rewrites every sample's timestamp (ms) and value; `value(i)` gives sample i's value. */
export function patchRemoteWrite(t: RemoteWriteTemplate, timeMs: number, value: (i: number) => number): void {
  if (!(timeMs >= TS_MIN && timeMs < TS_MAX && Number.isInteger(timeMs)))
    throw new RangeError(`timestamp ${timeMs} does not fit the template's 6-byte varint`)
  // The 6 varint bytes of timeMs, computed once for the whole request.
  const ts = Buffer.alloc(TS_BYTES)
  let n = timeMs
  for (let b = 0; b < TS_BYTES - 1; b++) {
    ts[b] = (n % 128) | 0x80
    n = Math.floor(n / 128)
  }
  ts[TS_BYTES - 1] = n
  for (let i = 0; i < t.timeAt.length; i++) {
    ts.copy(t.body, t.timeAt[i]!)
    t.body.writeDoubleLE(value(i), t.valueAt[i]!)
  }
}
