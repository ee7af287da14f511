import { gunzip } from 'node:zlib'
import { promisify } from 'node:util'
import { GovernorError } from '../errors.ts'
import { zstdDecompress } from './zstd.ts'

const gunzipAsync = promisify(gunzip)

/**
 * The request body as bytes, decompressed per `Content-Encoding` (gzip, zstd or none), once
 * `turn` (the request's event-loop turn to decode in, see `Turns`) is taken: gzip inflates on
 * libuv's thread pool, before the turn; zstd inflates in JavaScript, so in the turn, like the
 * decoding that follows. Decode right after, with no await between. Decompression is capped
 * at `maxBytes` of output, so a small bomb fails fast with 413 instead of filling memory.
 */
export async function decodedBody(
  raw: Buffer,
  contentEncoding: string | undefined,
  maxBytes: number,
  turn: () => Promise<void>,
): Promise<Buffer> {
  const encoding = (contentEncoding ?? 'identity').trim().toLowerCase()
  if (encoding === 'identity' || encoding === '') {
    await turn()
    return raw
  }
  if (encoding === 'zstd') {
    await turn()
    return zstdDecompress(raw, maxBytes)
  }
  if (encoding !== 'gzip' && encoding !== 'x-gzip') {
    throw new GovernorError(
      'GOV_ERR_OTLP_CONTENT_ENCODING',
      `unsupported Content-Encoding ${JSON.stringify(contentEncoding)}: send gzip, zstd or none`,
    )
  }
  let body: Buffer
  try {
    body = await gunzipAsync(raw, { maxOutputLength: maxBytes })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new GovernorError(
        'GOV_ERR_BODY_TOO_LARGE',
        `the body decompresses to more than ${maxBytes} bytes (GOVERNOR_MAX_BODY_BYTES)`,
      )
    }
    throw new GovernorError(
      'GOV_ERR_OTLP_MALFORMED',
      `the gzip body could not be decompressed: ${(err as Error).message}`,
    )
  }
  await turn()
  return body
}
