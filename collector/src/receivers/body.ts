import { gunzip } from 'node:zlib'
import { promisify } from 'node:util'
import { GovernorError } from '../errors.ts'

const gunzipAsync = promisify(gunzip)

/**
 * The request body as bytes, decompressed when `Content-Encoding: gzip`. Decompression is
 * capped at `maxBytes` of output, so a small gzip bomb fails fast with 413 instead of
 * filling memory.
 */
export async function decodedBody(raw: Buffer, contentEncoding: string | undefined, maxBytes: number): Promise<Buffer> {
  const encoding = (contentEncoding ?? 'identity').trim().toLowerCase()
  if (encoding === 'identity' || encoding === '') return raw
  if (encoding !== 'gzip' && encoding !== 'x-gzip') {
    throw new GovernorError('GOV_ERR_OTLP_CONTENT_ENCODING', `unsupported Content-Encoding ${JSON.stringify(contentEncoding)}: send gzip or none`)
  }
  try {
    return await gunzipAsync(raw, { maxOutputLength: maxBytes })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new GovernorError('GOV_ERR_BODY_TOO_LARGE', `the body decompresses to more than ${maxBytes} bytes (GOVERNOR_MAX_BODY_BYTES)`)
    }
    throw new GovernorError('GOV_ERR_OTLP_MALFORMED', `the gzip body could not be decompressed: ${(err as Error).message}`)
  }
}
