import type { Fetch } from '../../collector/src/cli/client-commands.ts'

/**
 * The part of `fetch` the commands use (method, headers, a string body, a signal; `ok`,
 * `status`, `text()`), on node:http and node:https. Node loads its own fetch (undici) on the
 * first call, which costs more than the rest of the command's start, and keeps the connection
 * alive after the answer, which holds the process up to seconds before it exits; here each
 * request has a connection of its own, closed with it.
 */
export const httpFetch: Fetch = async (input, init = {}) => {
  const url = new URL(String(input))
  const { request } = url.protocol === 'https:' ? await import('node:https') : await import('node:http')
  const body = init.body === undefined || init.body === null ? undefined : String(init.body)
  const headers: Record<string, string | number> = { ...(init.headers as Record<string, string> | undefined) }
  if (body !== undefined) headers['content-length'] = Buffer.byteLength(body)
  return new Promise<Response>((resolve, reject) => {
    const req = request(
      url,
      { method: init.method ?? 'GET', headers, signal: init.signal ?? undefined, agent: false },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('error', reject)
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          const status = res.statusCode ?? 0
          resolve({ ok: status >= 200 && status < 300, status, text: async () => text } as Response)
        })
      },
    )
    // As fetch does: a TypeError whose cause is the socket's error (ECONNREFUSED…).
    req.on('error', (err) => reject(new TypeError('fetch failed', { cause: err })))
    req.end(body)
  })
}
