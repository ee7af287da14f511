import { compressSync } from 'snappy'

/**
 * Prometheus remote write 1.0 requests, encoded by hand: a stale marker must reach the server
 * with its exact NaN bits (0x7ff0000000000002), which a JS number cannot be trusted to keep.
 */

/** A sample value: a number, or Prometheus' stale marker. */
export type SampleValue = number | 'stale'

export interface WriteSeries {
  readonly labels: Readonly<Record<string, string>>
  /** `[epoch ms, value]`, sorted by time. */
  readonly samples: readonly (readonly [number, SampleValue])[]
}

/** The uncompressed WriteRequest protobuf of `series`. */
export function encodeWriteRequest(series: readonly WriteSeries[]): Uint8Array {
  const out = new Bytes()
  for (const s of series) {
    const ts = new Bytes()
    for (const [name, value] of Object.entries(s.labels).sort(([a], [b]) => (a < b ? -1 : 1))) {
      const label = new Bytes()
      label.string(1, name)
      label.string(2, value)
      ts.message(1, label)
    }
    for (const [t, v] of s.samples) {
      const sample = new Bytes()
      sample.tag(1, 1)
      if (v === 'stale') sample.raw([0x02, 0, 0, 0, 0, 0, 0xf0, 0x7f])
      else sample.double(v)
      sample.tag(2, 0)
      sample.varint(BigInt.asUintN(64, BigInt(t)))
      ts.message(2, sample)
    }
    out.message(1, ts)
  }
  return out.bytes()
}

/**
 * Sends `series` to `url` (a server's `/api/v1/write`), snappy-compressed, as Prometheus does:
 * a 503 or 429 is retried (a loaded server sheds requests), anything else but 2xx throws.
 */
export async function remoteWrite(
  url: string,
  series: readonly WriteSeries[],
  headers: Record<string, string> = {},
): Promise<void> {
  const body = compressSync(Buffer.from(encodeWriteRequest(series)))
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(url, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/x-protobuf',
        'content-encoding': 'snappy',
        'x-prometheus-remote-write-version': '0.1.0',
        ...headers,
      },
    })
    if (res.ok) return
    const text = await res.text()
    if ((res.status !== 503 && res.status !== 429) || attempt >= 50)
      throw new Error(`remote write to ${url}: ${res.status} ${text}`)
    await new Promise((r) => setTimeout(r, 100 * Math.min(attempt, 10)))
  }
}

class Bytes {
  readonly #parts: number[] = []

  tag(field: number, wire: number): void {
    this.varint(BigInt((field << 3) | wire))
  }

  varint(v: bigint): void {
    let x = v
    while (x >= 0x80n) {
      this.#parts.push(Number(x & 0x7fn) | 0x80)
      x >>= 7n
    }
    this.#parts.push(Number(x))
  }

  raw(bytes: readonly number[]): void {
    for (const b of bytes) this.#parts.push(b)
  }

  double(v: number): void {
    const b = new Uint8Array(8)
    new DataView(b.buffer).setFloat64(0, v, true)
    this.raw([...b])
  }

  string(field: number, s: string): void {
    const b = Buffer.from(s, 'utf8')
    this.tag(field, 2)
    this.varint(BigInt(b.length))
    this.raw([...b])
  }

  message(field: number, m: Bytes): void {
    const b = m.bytes()
    this.tag(field, 2)
    this.varint(BigInt(b.length))
    this.raw([...b])
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.#parts)
  }
}
