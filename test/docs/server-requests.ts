import { setTimeout as sleep } from 'node:timers/promises'

/**
 * What Governor answered, read from its own log (`GOVERNOR_LOG_LEVEL=debug` logs every request
 * and its status). A `curl` without `--fail` exits 0 whatever the answer, and an OTel SDK
 * drops a refused export quietly: the log is where a refusal shows.
 */

export interface ServedRequest {
  readonly method: string
  readonly url: string
  /** The answer's status; null while the request is still open (a stream). */
  readonly status: number | null
}

interface LogLine {
  reqId?: string
  msg?: string
  req?: { method?: string; url?: string }
  res?: { statusCode?: number }
}

/** The requests logged in `log` (pino's JSON lines), in the order they came. */
export function requestsIn(log: string): ServedRequest[] {
  const byId = new Map<string, { method: string; url: string; status: number | null }>()
  for (const line of log.split('\n')) {
    if (!line.startsWith('{')) continue
    let entry: LogLine
    try {
      entry = JSON.parse(line) as LogLine
    } catch {
      continue
    }
    if (entry.reqId === undefined) continue
    if (entry.msg === 'incoming request')
      byId.set(entry.reqId, { method: entry.req?.method ?? '?', url: entry.req?.url ?? '?', status: null })
    else if (entry.res?.statusCode !== undefined) {
      const seen = byId.get(entry.reqId)
      if (seen !== undefined) seen.status = entry.res.statusCode
    }
  }
  return [...byId.values()]
}

const BARRIER = '/readyz?docs-barrier='

/**
 * Resolves once Governor has logged the answer of every request made before this call: it
 * sends one more, tagged, and waits for that one's answer in the log (requests are logged in
 * the order they are answered, so every earlier line is in). `deadline` only guards a hang.
 */
export async function settle(
  url: string,
  output: () => string,
  tag: string,
  headers: Record<string, string>,
): Promise<void> {
  await (await fetch(`${url}${BARRIER}${tag}`, { headers })).arrayBuffer()
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if (requestsIn(output()).some((r) => r.url === `${BARRIER}${tag}` && r.status !== null)) return
    await sleep(20)
  }
  throw new Error(`Governor did not log its answer to ${BARRIER}${tag} within 30 s`)
}

/** The requests of `log` but the harness's own barriers. */
export function readerRequests(log: string): ServedRequest[] {
  return requestsIn(log).filter((r) => !r.url.startsWith(BARRIER))
}
