import { describe, expect, it } from 'vitest'
import { isGovernorError } from '../../../collector/src/errors.ts'
import { zstdDecompress } from '../../../collector/src/receivers/zstd.ts'
import {
  blockHeader,
  FIXTURE_FILE,
  FIXTURE_STREAM,
  fixturePlaintext,
  frameHeader,
  skippableFrame,
  zstdRawFrame,
  zstdRleFrame,
} from '../../helpers/zstd-frames.ts'

// zstd bodies are decompressed in JavaScript, capped at the body limit: frames that would make
// the decoder allocate past it are refused before it runs, and output is cut at the cap.

const MAX = 64 * 1024

function refusal(body: Buffer, max = MAX): { code: string; message: string } {
  try {
    zstdDecompress(body, max)
  } catch (err) {
    if (isGovernorError(err)) return { code: err.code, message: err.message }
    throw err
  }
  throw new Error('not refused')
}

describe('zstdDecompress', () => {
  it('decompresses what the zstd command wrote: compressed blocks, with and without a declared size, checksummed', () => {
    // Buffer.equals: a deep equality of every byte is slow in vitest.
    expect(zstdDecompress(FIXTURE_FILE, MAX).equals(fixturePlaintext())).toBe(true)
    expect(zstdDecompress(FIXTURE_STREAM, MAX).equals(fixturePlaintext())).toBe(true)
  })

  it('reads raw and RLE blocks, several frames, and passes over skippable frames', () => {
    const text = Buffer.from('hello, zstd')
    const body = Buffer.concat([
      zstdRawFrame(text),
      skippableFrame(5),
      zstdRleFrame(0x21, 3),
      zstdRawFrame(text, { declareSize: false }),
    ])
    expect(zstdDecompress(body, MAX).toString()).toBe('hello, zstd!!!hello, zstd')
    const big = Buffer.alloc(300_000, 7) // three raw blocks
    expect(zstdDecompress(zstdRawFrame(big), big.length).equals(big)).toBe(true)
    expect(zstdDecompress(Buffer.alloc(0), MAX)).toEqual(Buffer.alloc(0))
  })

  it('refuses with 413 a body that declares more than the cap, before decompressing', () => {
    const header = frameHeader(MAX + 1)
    const r = refusal(Buffer.concat([header, blockHeader(1, 0, true), Buffer.from([1])]))
    expect(r).toEqual({
      code: 'GOV_ERR_BODY_TOO_LARGE',
      message: `the zstd body declares more than ${MAX} bytes (GOVERNOR_MAX_BODY_BYTES)`,
    })
    // Declared sizes add up across frames.
    const half = Buffer.alloc(MAX / 2 + 1, 1)
    expect(refusal(Buffer.concat([zstdRawFrame(half), zstdRawFrame(half)])).code).toBe('GOV_ERR_BODY_TOO_LARGE')
  })

  it('cuts a bomb that declares nothing at the cap: RLE blocks that expand 4 bytes into 128 KiB', () => {
    const bomb = zstdRleFrame(0, 1024 * 1024 * 1024) // 1 GiB from 32 KiB
    expect(bomb.length).toBeLessThan(40_000)
    expect(refusal(bomb)).toEqual({
      code: 'GOV_ERR_BODY_TOO_LARGE',
      message: `the zstd body decompresses to more than ${MAX} bytes (GOVERNOR_MAX_BODY_BYTES)`,
    })
    expect(zstdDecompress(zstdRleFrame(0, MAX), MAX).length).toBe(MAX) // the cap itself is taken
  })

  it('refuses a window the decoder would have to allocate past the cap (and 8 MiB)', () => {
    // Window descriptor 0xF8: 2^(10 + 31) bytes, 2 TiB.
    const body = Buffer.concat([
      Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xf8]),
      blockHeader(1, 0, true),
      Buffer.from([1]),
    ])
    expect(refusal(body)).toEqual({
      code: 'GOV_ERR_BODY_TOO_LARGE',
      message: `a zstd frame needs a window of ${2 ** 41} bytes, more than the ${8 * 1024 * 1024} taken (GOVERNOR_MAX_BODY_BYTES)`,
    })
  })

  it('refuses what is not zstd, or cut short, as malformed (400), and a dictionary as an unsupported encoding (415)', () => {
    const cases: [string, Buffer][] = [
      ['gzip bytes', Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0])],
      ['a frame cut in its block', zstdRawFrame(Buffer.from('hello')).subarray(0, 14)],
      ['a frame without its last block', Buffer.concat([frameHeader(), blockHeader(2, 0, false), Buffer.from('hi')])],
      ['a reserved block type', Buffer.concat([frameHeader(), blockHeader(2, 3, true), Buffer.from('hi')])],
      ['a block over 128 KiB', Buffer.concat([frameHeader(), blockHeader(200_000, 1, true), Buffer.from([1])])],
      ['trailing bytes', Buffer.concat([zstdRawFrame(Buffer.from('hi')), Buffer.from([1, 2])])],
      [
        'corrupt compressed data',
        Buffer.concat([FIXTURE_FILE.subarray(0, 40), Buffer.alloc(FIXTURE_FILE.length - 40, 0xff)]),
      ],
    ]
    for (const [what, body] of cases) {
      const r = refusal(body)
      expect(r.code, what).toBe('GOV_ERR_OTLP_MALFORMED')
      expect(r.message, what).toMatch(/^the zstd body could not be decompressed: /)
    }
    const withDictionary = Buffer.concat([
      Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x01, 0x38, 0x07]),
      blockHeader(1, 0, true),
      Buffer.from([1]),
    ])
    expect(refusal(withDictionary)).toEqual({
      code: 'GOV_ERR_OTLP_CONTENT_ENCODING',
      message: 'the zstd body needs a dictionary: compress it without one',
    })
  })
})
