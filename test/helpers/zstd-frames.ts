/**
 * Zstandard bodies for tests (Node 20 has no zstd compressor). Frames of raw and RLE blocks are
 * built here, byte by byte, as RFC 8878 lays them out: valid zstd that any decoder reads. Real
 * compressed blocks come from the `zstd` command (1.5.4, level 19), kept below as fixtures of
 * a known plaintext.
 */

const MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd])
const MAX_BLOCK = 128 * 1024

/** A block header: last (bit 0), type (bits 1-2: 0 raw, 1 RLE, 2 compressed), size (bits 3-23). */
export function blockHeader(size: number, type: 0 | 1 | 2 | 3, last: boolean): Buffer {
  const h = (size << 3) | (type << 1) | (last ? 1 : 0)
  return Buffer.from([h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff])
}

/**
 * A frame header with a 128 KiB window (not single-segment), declaring `contentSize` (8 bytes)
 * when given.
 */
export function frameHeader(contentSize?: number): Buffer {
  const window = 7 << 3 // 2^(10 + 7) = 128 KiB
  if (contentSize === undefined) return Buffer.concat([MAGIC, Buffer.from([0x00, window])])
  const size = Buffer.alloc(8)
  size.writeBigUInt64LE(BigInt(contentSize))
  return Buffer.concat([MAGIC, Buffer.from([0xc0, window]), size])
}

/** `data` as one zstd frame of raw blocks, declaring its size unless told not to. */
export function zstdRawFrame(data: Buffer, options: { declareSize?: boolean } = {}): Buffer {
  const parts = [frameHeader(options.declareSize === false ? undefined : data.length)]
  let at = 0
  do {
    const block = data.subarray(at, at + MAX_BLOCK)
    at += block.length
    parts.push(blockHeader(block.length, 0, at >= data.length), block)
  } while (at < data.length)
  return Buffer.concat(parts)
}

/** `count` copies of `byte` as one frame of RLE blocks (4 bytes a block, whatever it regenerates), declaring no size. */
export function zstdRleFrame(byte: number, count: number): Buffer {
  const parts = [frameHeader()]
  for (let left = count; left > 0; left -= MAX_BLOCK)
    parts.push(blockHeader(Math.min(left, MAX_BLOCK), 1, left <= MAX_BLOCK), Buffer.from([byte]))
  return Buffer.concat(parts)
}

/** A skippable frame (magic 0x184D2A5?) of `length` bytes, which decoders pass over. */
export function skippableFrame(length: number): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt32LE(0x184d2a53, 0)
  head.writeUInt32LE(length, 4)
  return Buffer.concat([head, Buffer.alloc(length, 0xaa)])
}

/** The plaintext of the fixtures: an OTLP/JSON traces request of 40 spans of service checkout. */
export function fixturePlaintext(): Buffer {
  const spans = Array.from({ length: 40 }, (_, i) => ({
    traceId: '5b8efff798038103d269b633813fc60c',
    spanId: (1000000000000000 + i).toString(16).padStart(16, '0'),
    name: `GET /orders/${i % 4}`,
    kind: 2,
    startTimeUnixNano: '1700000000000000000',
    endTimeUnixNano: '1700000000250000000',
  }))
  return Buffer.from(
    JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }] },
          scopeSpans: [{ scope: { name: 'zstd-fixture' }, spans }],
        },
      ],
    }),
  )
}

/**
 * `zstd -19` of the plaintext: one single-segment frame (content size declared) of compressed
 * blocks, with a checksum.
 */
export const FIXTURE_FILE = Buffer.from(
  'KLUv/WQuHaULAFZSOR8wrxucK3oNJOGbo3Adc/ZxgFMqtG13Zkl6oaqgoAAMMwAxADEAG7VtOrXs8d7xdNHApAZxE2X0Iw4T/Lsm8aVOWvnHT6264pxOL5MyJpWYkyD+RS2TH/US0fMa9xDc1bfPs5wj96eSnoa+HPlGEmRZ1keVo5NCwz8Xp37UJuWyAnBKi06S7EllApFD/bCzjXs3M7M5DbFXRhdinTTD3IFyYYqPXIkZ3ZTK9KQQux4DGR/GbABIEAqM7m4btVEb5VA/7Gzj3s282271M9znVTuWNnKoH3a2ce9m3mW3+hnu86odSxtiqEHIpKScFBSkMBygg4LqQiAcigBCIIITgquFRPg/IQI/alEWlahFQ2TRixaFThSiL5oIRFf0ohO16EUr6qITXdRFxaEXNdGLLsqiF72oiS56URa96EQteuaWgPehQbQIqQe/VtV+tBU4h5O/RmB6FdWYVtmyRwQBF3NxhcpHiXWP4Aab/93eSfFtGhni1Uk=',
  'base64',
)

/**
 * `zstd -19` of the plaintext from standard input: a frame with a window descriptor and no
 * declared size, of compressed blocks, with a checksum.
 */
export const FIXTURE_STREAM = Buffer.from(
  'KLUv/QRopQsAVlI5HzCvG5wreg0k4ZujcB1z9nGAUyq0bXdmSXqhqqCgAAwzADEAMQAbtW06tezx3vF00cCkBnETZfQjDhP8uybxpU5a+cdPrbrinE4vkzImlZiTIP5FLZMf9RLR8xr3ENzVt8+znCP3p5Kehr4c+UYSZFnWR5Wjk0LDPxenftQm5bICcEqLTpLsSWUCkUP9sLONezczszkNsVdGF2KdNMPcgXJhio9ciRndlMr0pBC7HgMZH8ZsAEgQCozubhu1URvlUD/sbOPezbzbbvUz3OdVO5Y2cqgfdrZx72beZbf6Ge7zqh1LG2KoQcikpJwUFKQwHKCDgupCIByKAEIgghOCq4VE+D8hAj9qURaVqEVDZNGLFoVOFKIvmghEV/SiE7XoRSvqohNd1EXFoRc10YsuyqIXvaiJLnpRFr3oRC165paA96FBtAipB79W1X60FTiHk79GYHoV1ZhW2bJHBAEXc3GFykeJdY/gBpv/3d5J8W0aGeLVSQ==',
  'base64',
)
