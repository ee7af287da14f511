import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns'
import { isIP } from 'node:net'
import { Agent, fetch as undiciFetch } from 'undici'
import { forbiddenAddressReason, forbiddenHostName } from './address-policy.ts'
import type { FetchFn } from './send-attempt.ts'

const ALLOW = 'set GOVERNOR_WEBHOOK_ALLOW_PRIVATE=1 to allow it'

/** Why a webhook URL's host may not be reached, judged without DNS: a literal address or a local name. */
export function forbiddenLiteralHost(url: string): string | undefined {
  let host: string
  try {
    host = new URL(url).hostname
  } catch {
    return undefined
  } // the URL check reports it
  const bare = host.replace(/^\[(.*)\]$/, '$1')
  if (isIP(bare) !== 0) {
    const why = forbiddenAddressReason(bare)
    return why === undefined ? undefined : `${host} is ${why}`
  }
  const why = forbiddenHostName(bare)
  return why === undefined ? undefined : `${host} is ${why}`
}

/** How names are resolved: `dns.lookup` with `all: true` (tests pass their own answers). */
export type Resolve = (
  hostname: string,
  options: LookupOptions & { all: true },
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void

/**
 * A `lookup` for sockets that resolves the name, checks every address it resolves to and
 * hands the socket only those: the check and the connection use the same answer, so a name
 * that resolves to a public address when checked and a private one when connecting (DNS
 * rebinding) is not possible. One forbidden address refuses the name.
 */
export function guardedLookup(
  hostname: string,
  options: LookupOptions,
  callback: LookupCallback,
  resolve: Resolve = dnsLookup,
): void {
  resolve(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, [])
    for (const a of addresses) {
      const why = forbiddenAddressReason(a.address)
      if (why !== undefined) {
        const refused = Object.assign(
          new Error(`webhook host ${hostname} resolves to ${a.address}, ${why}: refused (${ALLOW})`),
          { code: 'GOVERNOR_FORBIDDEN_ADDRESS' },
        )
        return callback(refused, [])
      }
    }
    if (options.all === true) return callback(null, addresses)
    const first = addresses[0]
    if (first === undefined)
      return callback(
        Object.assign(new Error(`webhook host ${hostname} resolves to no address`), { code: 'ENOTFOUND' }),
        [],
      )
    callback(null, first.address, first.family)
  })
}

/**
 * The `fetch` of webhook senders when private targets are not allowed: literal addresses
 * are checked before anything is sent (sockets skip `lookup` for them), names through
 * `guardedLookup` as each connection is made. Redirects stay unfollowed (send-attempt).
 */
export function createGuardedFetch(resolve: Resolve = dnsLookup): { fetch: FetchFn; close: () => Promise<void> } {
  const lookup = (hostname: string, options: LookupOptions, callback: LookupCallback) =>
    guardedLookup(hostname, options, callback, resolve)
  const agent = new Agent({ connect: { lookup } })
  const fetch: FetchFn = async (url, init) => {
    const why = forbiddenLiteralHost(url)
    if (why !== undefined)
      throw new TypeError('fetch failed', { cause: new Error(`webhook target ${why}: refused (${ALLOW})`) })
    return (await undiciFetch(url, {
      ...(init as Parameters<typeof undiciFetch>[1]),
      dispatcher: agent,
    })) as unknown as Response
  }
  return { fetch, close: () => agent.close() }
}
