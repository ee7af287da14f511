import type { ChangeEvent } from '../changelog/types.ts'
import type { Clock } from './clock.ts'
import { buildRequest } from './messages.ts'
import { classifyResponse, type AttemptOutcome } from './retry-policy.ts'
import type { SinkConfig } from './sink-config.ts'

/** The `fetch` the sender calls: global fetch in production, a fake in tests. */
export type FetchFn = (url: string, init: RequestInit) => Promise<Response>

/** Longest excerpt of an error answer kept as the delivery's last error. */
const MAX_ERROR_BODY_CHARS = 300

/**
 * One HTTP attempt of a delivery. Redirects are not followed (a 3xx is a failure, as
 * Standard Webhooks recommends). Resolves to the outcome, or undefined when `stop` aborted
 * the request before an answer came (shutdown): the delivery then simply stays pending.
 */
export async function sendAttempt(
  fetchFn: FetchFn,
  sink: SinkConfig,
  event: ChangeEvent,
  clock: Clock,
  timeoutMillis: number,
  stop: AbortSignal,
): Promise<AttemptOutcome | undefined> {
  try {
    const request = buildRequest(sink, event, clock.now())
    const res = await fetchFn(sink.url, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      redirect: 'manual',
      signal: AbortSignal.any([AbortSignal.timeout(timeoutMillis), stop]),
    })
    const ok = res.status >= 200 && res.status < 300
    const detail = ok ? '' : await excerpt(res)
    // The body is not needed; cancelling frees the connection.
    await res.body?.cancel().catch(() => undefined)
    return classifyResponse(res.status, res.headers.get('retry-after'), clock.now(), detail)
  } catch (err) {
    if (stop.aborted) return undefined
    return { result: 'retry', statusCode: 0, error: describeFailure(err, timeoutMillis) }
  }
}

/** The start of an error answer's body (Slack says why in it), read no further than needed. */
async function excerpt(res: Response): Promise<string> {
  if (res.body === null) return ''
  const reader = res.body.getReader()
  const decoder = new TextDecoder()
  let text = ''
  try {
    while (text.length <= MAX_ERROR_BODY_CHARS) {
      const { done, value } = await reader.read()
      if (done) break
      text += decoder.decode(value, { stream: true })
    }
  } catch {
    // A body cut short still tells the status; keep what came.
  } finally {
    await reader.cancel().catch(() => undefined)
  }
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length > MAX_ERROR_BODY_CHARS ? `${flat.slice(0, MAX_ERROR_BODY_CHARS)}…` : flat
}

function describeFailure(err: unknown, timeoutMillis: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } } | undefined
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError')
    return `no answer within ${timeoutMillis} ms (GOVERNOR_WEBHOOK_TIMEOUT_MILLIS)`
  const cause = e?.cause?.code ?? e?.cause?.message
  return `${e?.message ?? String(err)}${cause !== undefined ? ` (${cause})` : ''}`
}
