import { Decompress } from 'fzstd'
import { GovernorError } from '../errors.ts'

/*
 * Zstandard bodies (RFC 8878), decompressed in JavaScript by fzstd: the same code on every
 * supported Node version (node:zlib has zstd only from 22.15). fzstd trusts its input to say
 * how much to allocate, so the frames are walked first, cheaply, and refused when they would
 * make it allocate more than the cap:
 *
 *   frame      magic 28 B5 2F FD · descriptor · [window] · [dictionary id] · [content size]
 *              · blocks · [checksum, 4 bytes]
 *   block      3-byte header: last (bit 0), type (bits 1-2: raw, RLE, compressed), size (bits 3-23)
 *              then `size` bytes (raw, compressed) or 1 byte repeated `size` times (RLE)
 *   skippable  magic 5? 2A 4D 18 · 4-byte length · that many bytes
 *
 * fzstd allocates a frame's window (its declared content size, for a single-segment frame)
 * at once: frames whose window or declared size is over the cap are refused before anything
 * is decompressed. Compressed blocks can still expand (128 KiB from a few bytes), so the
 * output is counted as it comes, and decompression stops as soon as it passes the cap.
 */

const ZSTD_MAGIC = 0xfd2fb528
/** Skippable frames have magics 0x184D2A50 to 0x184D2A5F. */
const SKIPPABLE_MAGIC = 0x184d2a50
const MAX_BLOCK_BYTES = 128 * 1024
/**
 * Windows up to this size are taken even when the cap is smaller: decoders are expected to
 * support 8 MiB windows (RFC 8878, 3.1.1.1.2), and encoders use them for small inputs too.
 */
const MIN_WINDOW_BYTES = 8 * 1024 * 1024

/** Output past the cap: thrown out of fzstd's data callback to stop it. */
class OverCap extends Error {}

/**
 * Decompresses a zstd body of one or more frames. Throws GOV_ERR_BODY_TOO_LARGE when it
 * would decompress (or declares it decompresses) to more than `maxBytes`, or needs a window
 * larger than `maxBytes` (and 8 MiB); GOV_ERR_OTLP_MALFORMED when it is not valid zstd;
 * GOV_ERR_OTLP_CONTENT_ENCODING when it needs a dictionary.
 */
export function zstdDecompress(raw: Uint8Array, maxBytes: number): Buffer {
  checkFrames(raw, maxBytes)
  const chunks: Uint8Array[] = []
  let total = 0
  const stream = new Decompress((chunk) => {
    total += chunk.length
    if (total > maxBytes) throw new OverCap()
    chunks.push(chunk)
  })
  try {
    stream.push(raw, true)
  } catch (err) {
    if (err instanceof OverCap) throw tooLarge(`the zstd body decompresses to more than ${maxBytes} bytes`)
    throw malformed((err as Error).message)
  }
  return Buffer.concat(chunks, total)
}

/** Walks the frames and their block headers; throws on anything fzstd must not be given. */
function checkFrames(raw: Uint8Array, maxBytes: number): void {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength)
  const maxWindow = Math.max(maxBytes, MIN_WINDOW_BYTES)
  let declared = 0
  let pos = 0
  while (pos < raw.length) {
    if (pos + 4 > raw.length) throw malformed(`${raw.length - pos} bytes after the last frame`)
    const magic = view.getUint32(pos, true)
    if ((magic & 0xfffffff0) === SKIPPABLE_MAGIC) {
      if (pos + 8 > raw.length) throw malformed(`skippable frame at byte ${pos} is cut short`)
      pos += 8 + view.getUint32(pos + 4, true)
      if (pos > raw.length) throw malformed('a skippable frame runs past the end of the body')
      continue
    }
    if (magic !== ZSTD_MAGIC) throw malformed(`no zstd frame at byte ${pos}`)
    const frame = frameHeader(raw, view, pos + 4)
    if (frame.dictionary)
      throw new GovernorError(
        'GOV_ERR_OTLP_CONTENT_ENCODING',
        'the zstd body needs a dictionary: compress it without one',
      )
    if (frame.window > maxWindow)
      throw tooLarge(`a zstd frame needs a window of ${frame.window} bytes, more than the ${maxWindow} taken`)
    declared += frame.contentSize ?? 0
    if (declared > maxBytes) throw tooLarge(`the zstd body declares more than ${maxBytes} bytes`)
    pos = blocksEnd(raw, frame.end, Math.min(frame.window, MAX_BLOCK_BYTES)) + (frame.checksum ? 4 : 0)
    if (pos > raw.length) throw malformed('the zstd checksum is cut short')
  }
}

interface FrameHeader {
  /** Offset of the first block. */
  end: number
  window: number
  /** The declared decompressed size, when the frame has one. */
  contentSize: number | undefined
  checksum: boolean
  dictionary: boolean
}

function frameHeader(raw: Uint8Array, view: DataView, at: number): FrameHeader {
  const descriptor = raw[at]
  if (descriptor === undefined) throw malformed('the zstd frame header is cut short')
  if ((descriptor & 0x08) !== 0) throw malformed('the reserved bit of a zstd frame header is set')
  const singleSegment = (descriptor & 0x20) !== 0
  const sizeFlag = descriptor >> 6
  const sizeBytes = sizeFlag === 0 ? (singleSegment ? 1 : 0) : 1 << sizeFlag
  const dictionaryBytes = [0, 1, 2, 4][descriptor & 3]!
  let pos = at + 1
  let window = 0
  if (!singleSegment) {
    const w = raw[pos++]
    if (w === undefined) throw malformed('the zstd frame header is cut short')
    const base = 2 ** (10 + (w >> 3))
    window = base + (base / 8) * (w & 7)
  }
  let dictionary = false
  for (let i = 0; i < dictionaryBytes; i++) dictionary ||= raw[pos + i] !== 0
  pos += dictionaryBytes
  if (pos + sizeBytes > raw.length) throw malformed('the zstd frame header is cut short')
  let contentSize: number | undefined
  if (sizeBytes === 1) contentSize = raw[pos]!
  else if (sizeBytes === 2) contentSize = view.getUint16(pos, true) + 256
  else if (sizeBytes === 4) contentSize = view.getUint32(pos, true)
  else if (sizeBytes === 8) contentSize = view.getUint32(pos + 4, true) * 2 ** 32 + view.getUint32(pos, true)
  pos += sizeBytes
  if (singleSegment) window = contentSize!
  return { end: pos, window, contentSize, checksum: (descriptor & 0x04) !== 0, dictionary }
}

/** Offset just past the last block of a frame whose blocks start at `pos`. */
function blocksEnd(raw: Uint8Array, pos: number, maxBlock: number): number {
  for (;;) {
    if (pos + 3 > raw.length) throw malformed('a zstd block header is cut short')
    const header = raw[pos]! | (raw[pos + 1]! << 8) | (raw[pos + 2]! << 16)
    const type = (header >> 1) & 3
    const size = header >>> 3
    if (type === 3) throw malformed(`reserved zstd block type at byte ${pos}`)
    if (size > maxBlock)
      throw malformed(`a zstd block of ${size} bytes at byte ${pos}, over the ${maxBlock} a block may hold`)
    pos += 3 + (type === 1 ? 1 : size)
    if (pos > raw.length) throw malformed('a zstd block runs past the end of the body')
    if ((header & 1) === 1) return pos
  }
}

function malformed(why: string): GovernorError {
  return new GovernorError('GOV_ERR_OTLP_MALFORMED', `the zstd body could not be decompressed: ${why}`)
}

function tooLarge(why: string): GovernorError {
  return new GovernorError('GOV_ERR_BODY_TOO_LARGE', `${why} (GOVERNOR_MAX_BODY_BYTES)`)
}
