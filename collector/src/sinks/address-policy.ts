import { isIP } from 'node:net'

/**
 * Which addresses a webhook may not reach unless GOVERNOR_WEBHOOK_ALLOW_PRIVATE=1: anything
 * that is not a public unicast address. A webhook URL comes from configuration, but the
 * names in it resolve wherever their DNS says, and a sink pointed (or rebound) at the
 * metadata service or an internal admin port would make Governor a proxy into the network.
 *
 * Addresses are compared as bytes against prefixes; IPv6 forms that carry an IPv4 address
 * (mapped ::ffff:a.b.c.d, compatible ::a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16) are
 * judged by that IPv4 address.
 */
type Rule = [prefix: number[], bits: number, what: string]

const V4: Rule[] = [
  [[0], 8, 'a "this network" address (0.0.0.0/8)'],
  [[10], 8, 'a private address (10.0.0.0/8)'],
  [[100, 64], 10, 'a carrier-grade NAT address (100.64.0.0/10, where some clouds keep their metadata service)'],
  [[127], 8, 'a loopback address (127.0.0.0/8)'],
  [[169, 254], 16, 'a link-local address (169.254.0.0/16, the cloud metadata service among them)'],
  [[172, 16], 12, 'a private address (172.16.0.0/12)'],
  [[192, 0, 0], 24, 'an IETF protocol address (192.0.0.0/24)'],
  [[192, 0, 2], 24, 'a documentation address (192.0.2.0/24)'],
  [[192, 88, 99], 24, 'a 6to4 relay address (192.88.99.0/24)'],
  [[192, 168], 16, 'a private address (192.168.0.0/16)'],
  [[198, 18], 15, 'a benchmarking address (198.18.0.0/15)'],
  [[198, 51, 100], 24, 'a documentation address (198.51.100.0/24)'],
  [[203, 0, 113], 24, 'a documentation address (203.0.113.0/24)'],
  [[224], 4, 'a multicast address (224.0.0.0/4)'],
  [[240], 4, 'a reserved or broadcast address (240.0.0.0/4)'],
]

const V6: Rule[] = [
  [[0xfe, 0x80], 10, 'a link-local address (fe80::/10)'],
  [[0xfe, 0xc0], 10, 'a site-local address (fec0::/10)'],
  [[0xfc], 7, 'a unique local (private) address (fc00::/7, the AWS metadata service among them)'],
  [[0xff], 8, 'a multicast address (ff00::/8)'],
  [[0x01, 0x00, 0, 0, 0, 0, 0, 0], 64, 'a discard-only address (100::/64)'],
  [[0x20, 0x01, 0x0d, 0xb8], 32, 'a documentation address (2001:db8::/32)'],
  [[0x20, 0x01, 0, 0], 32, 'a Teredo address (2001::/32)'],
]

/**
 * Why `address` (an IPv4 or IPv6 address, any spelling) may not be reached, or undefined
 * when it is a public unicast address. Anything that is not an address at all is refused.
 */
export function forbiddenAddressReason(address: string): string | undefined {
  const a = address.trim().replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '') // zone ids: fe80::1%eth0
  const family = isIP(a)
  if (family === 4) return ruleFor(V4, ipv4Bytes(a)!)
  if (family !== 6) return 'not an IP address'
  const b = ipv6Bytes(a)
  if (b === undefined) return 'not an IP address'
  if (b.every((x) => x === 0)) return 'the unspecified address (::)'
  if (b.slice(0, 15).every((x) => x === 0) && b[15] === 1) return 'a loopback address (::1)'
  const embedded = embeddedIpv4(b)
  if (embedded !== undefined) {
    const why = ruleFor(V4, embedded)
    return why === undefined ? undefined : `${why}, inside the IPv6 address ${address}`
  }
  return ruleFor(V6, b)
}

/** The IPv4 address an IPv6 address stands for, if it is one of the forms that carry one. */
function embeddedIpv4(b: number[]): number[] | undefined {
  const zeros = (from: number, to: number) => b.slice(from, to).every((x) => x === 0)
  if (zeros(0, 10) && b[10] === 0xff && b[11] === 0xff) return b.slice(12) // ::ffff:a.b.c.d
  if (zeros(0, 12)) return b.slice(12) // ::a.b.c.d (deprecated "compatible")
  if (b[0] === 0 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zeros(4, 12)) return b.slice(12) // 64:ff9b::/96
  if (b[0] === 0x20 && b[1] === 0x02) return b.slice(2, 6) // 2002:AABB:CCDD::/48
  return undefined
}

function ruleFor(rules: Rule[], bytes: number[]): string | undefined {
  for (const [prefix, bits, what] of rules) if (matches(bytes, prefix, bits)) return what
  return undefined
}

function matches(bytes: number[], prefix: number[], bits: number): boolean {
  for (let i = 0; i * 8 < bits; i++) {
    const take = Math.min(8, bits - i * 8)
    const mask = (0xff << (8 - take)) & 0xff
    if (((bytes[i] ?? 0) & mask) !== ((prefix[i] ?? 0) & mask)) return false
  }
  return true
}

function ipv4Bytes(a: string): number[] | undefined {
  const parts = a.split('.').map(Number)
  return parts.length === 4 && parts.every((p) => Number.isInteger(p) && p >= 0 && p <= 255) ? parts : undefined
}

/** The 16 bytes of an IPv6 address (validated by isIP first), `::` and a dotted tail expanded. */
function ipv6Bytes(a: string): number[] | undefined {
  let text = a.toLowerCase()
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1]
  if (dotted !== undefined) {
    const v4 = ipv4Bytes(dotted)
    if (v4 === undefined) return undefined
    text = `${text.slice(0, -dotted.length)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`
  }
  const [head, tail] = text.split('::') as [string, string | undefined]
  const groups = (s: string | undefined) => (s === undefined || s === '' ? [] : s.split(':'))
  const h = groups(head), t = groups(tail)
  const fill = tail === undefined ? 0 : 8 - h.length - t.length
  const all = [...h, ...Array<string>(Math.max(0, fill)).fill('0'), ...t]
  if (all.length !== 8) return undefined
  return all.flatMap((g) => {
    const v = parseInt(g, 16)
    return [(v >> 8) & 0xff, v & 0xff]
  })
}

/** Host names that are always local or a metadata service, refused without a DNS lookup. */
export function forbiddenHostName(host: string): string | undefined {
  const h = host.toLowerCase().replace(/\.$/, '')
  if (h === 'localhost' || h.endsWith('.localhost')) return 'a loopback name (localhost)'
  if (h === 'metadata.google.internal' || h === 'metadata.goog' || h === 'metadata') return 'a cloud metadata service name'
  return undefined
}
