import { uncompressSync } from 'snappy'
import { GovernorError } from '../errors.ts'

/** The stream identifier chunk that starts the snappy framing format, which remote write does not use. */
const FRAMED_MAGIC = [0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59]

/**
 * The uncompressed length a snappy block declares in its header: a little-endian base-128
 * varint of at most 32 bits (so at most 5 bytes) at its start. -1 when there is no valid header.
 */
export function snappyDeclaredLength(block: Uint8Array): number {
  let value = 0
  for (let i = 0; i < 5; i++) {
    const b = block[i]
    if (b === undefined) return -1
    value += (b & 0x7f) * 2 ** (7 * i)
    if (b < 0x80) return value > 0xffff_ffff ? -1 : value
  }
  return -1
}

/**
 * Decompresses a snappy block (the format remote write specifies, not the framing format).
 * The declared length is checked against `maxBytes` before anything is allocated, so a
 * small body that claims gigabytes is refused with 413 at the cost of reading 5 bytes;
 * the library then checks that the data really decodes to the declared length.
 *
 * Synchronous on purpose: snappy decodes at over 1 GB/s, far faster than the protobuf
 * decoding that follows on the same thread, so a thread-pool hop would cost more than it saves.
 */
export function snappyBlock(raw: Uint8Array, maxBytes: number): Buffer {
  if (FRAMED_MAGIC.every((byte, i) => raw[i] === byte)) {
    throw new GovernorError(
      'GOV_ERR_RW_MALFORMED',
      'the body is in the snappy framing format: remote write sends the snappy block format',
    )
  }
  const declared = snappyDeclaredLength(raw)
  if (declared < 0)
    throw new GovernorError('GOV_ERR_RW_MALFORMED', 'the snappy body does not start with a valid length header')
  if (declared > maxBytes) {
    throw new GovernorError(
      'GOV_ERR_BODY_TOO_LARGE',
      `the snappy body declares ${declared} bytes uncompressed, more than ${maxBytes} (GOVERNOR_MAX_BODY_BYTES)`,
    )
  }
  try {
    return uncompressSync(raw, { asBuffer: true }) as Buffer
  } catch (err) {
    throw new GovernorError(
      'GOV_ERR_RW_MALFORMED',
      `the snappy body could not be decompressed: ${(err as Error).message}`,
      { cause: err },
    )
  }
}
