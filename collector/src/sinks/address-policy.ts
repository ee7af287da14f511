import { BlockList, isIP } from 'node:net'

/**
 * Which addresses a webhook may not reach unless GOVERNOR_WEBHOOK_ALLOW_PRIVATE=1: anything
 * that is not a public unicast address. A webhook URL comes from configuration, but the
 * names in it resolve wherever their DNS says, and a sink pointed (or rebound) at the
 * metadata service or an internal admin port would make Governor a proxy into the network.
 *
 * The ranges live in Node's own `net.BlockList` (which parses every spelling of an address
 * and judges IPv4-mapped `::ffff:a.b.c.d` by its IPv4 rules). The other IPv6 forms that
 * carry an IPv4 address are unwrapped first and judged by that address:
 *
 *   ::a.b.c.d           compatible (deprecated)      ::ffff:0:a.b.c.d   translated (SIIT)
 *   64:ff9b::/96        NAT64, well-known prefix     2002:AABB:CCDD::/48 6to4
 *   2001:0::/32         Teredo (the client address, bits inverted, in the last 32 bits)
 *
 * and the NAT64 local-use prefix 64:ff9b:1::/48, whose embedded address sits at a place its
 * operator chooses, is refused whole: it is never a public destination.
 */
type Range = [network: string, bits: number, what: string]

const V4: Range[] = [
  ['0.0.0.0', 8, 'a "this network" address (0.0.0.0/8)'],
  ['10.0.0.0', 8, 'a private address (10.0.0.0/8)'],
  ['100.64.0.0', 10, 'a carrier-grade NAT address (100.64.0.0/10, where some clouds keep their metadata service)'],
  ['127.0.0.0', 8, 'a loopback address (127.0.0.0/8)'],
  ['169.254.0.0', 16, 'a link-local address (169.254.0.0/16, the cloud metadata service among them)'],
  ['172.16.0.0', 12, 'a private address (172.16.0.0/12)'],
  ['192.0.0.0', 24, 'an IETF protocol address (192.0.0.0/24)'],
  ['192.0.2.0', 24, 'a documentation address (192.0.2.0/24)'],
  ['192.88.99.0', 24, 'a 6to4 relay address (192.88.99.0/24)'],
  ['192.168.0.0', 16, 'a private address (192.168.0.0/16)'],
  ['198.18.0.0', 15, 'a benchmarking address (198.18.0.0/15)'],
  ['198.51.100.0', 24, 'a documentation address (198.51.100.0/24)'],
  ['203.0.113.0', 24, 'a documentation address (203.0.113.0/24)'],
  ['224.0.0.0', 4, 'a multicast address (224.0.0.0/4)'],
  ['240.0.0.0', 4, 'a reserved or broadcast address (240.0.0.0/4)'],
]

const V6: Range[] = [
  ['::', 128, 'the unspecified address (::)'],
  ['::1', 128, 'a loopback address (::1)'],
  ['fe80::', 10, 'a link-local address (fe80::/10)'],
  ['fec0::', 10, 'a site-local address (fec0::/10)'],
  ['fc00::', 7, 'a unique local (private) address (fc00::/7, the AWS metadata service among them)'],
  ['ff00::', 8, 'a multicast address (ff00::/8)'],
  ['100::', 64, 'a discard-only address (100::/64)'],
  ['2001:db8::', 32, 'a documentation address (2001:db8::/32)'],
  ['64:ff9b:1::', 48, 'a local-use NAT64 address (64:ff9b:1::/48)'],
]

/** One BlockList per range, so a hit can say which range it was. */
const V4_RULES = V4.map(([net, bits, what]) => ({ list: blockOf(net, bits, 'ipv4'), what }))
const V6_RULES = V6.map(([net, bits, what]) => ({ list: blockOf(net, bits, 'ipv6'), what }))

function blockOf(net: string, bits: number, family: 'ipv4' | 'ipv6'): BlockList {
  const list = new BlockList()
  list.addSubnet(net, bits, family)
  return list
}

function ruleFor(address: string, family: 'ipv4' | 'ipv6'): string | undefined {
  for (const r of family === 'ipv4' ? V4_RULES : V6_RULES) if (r.list.check(address, family)) return r.what
  return undefined
}

/**
 * Why `address` (an IPv4 or IPv6 address, any spelling) may not be reached, or undefined
 * when it is a public unicast address. Anything that is not an address at all is refused.
 */
export function forbiddenAddressReason(address: string): string | undefined {
  const a = address
    .trim()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/%.*$/, '') // zone ids: fe80::1%eth0
  const family = isIP(a)
  if (family === 4) return ruleFor(a, 'ipv4')
  if (family !== 6) return 'not an IP address'
  const own = ruleFor(a, 'ipv6')
  if (own !== undefined) return own
  const b = ipv6Bytes(a)
  if (b === undefined) return 'not an IP address'
  const embedded = embeddedIpv4(b)
  if (embedded === undefined) return undefined
  const why = ruleFor(embedded, 'ipv4')
  return why === undefined ? undefined : `${why}, inside the IPv6 address ${address}`
}

/** The IPv4 address an IPv6 address stands for, if it is one of the forms that carry one. */
function embeddedIpv4(b: number[]): string | undefined {
  const zeros = (from: number, to: number) => b.slice(from, to).every((x) => x === 0)
  const v4 = (bytes: number[]) => bytes.join('.')
  if (zeros(0, 10) && b[10] === 0xff && b[11] === 0xff) return v4(b.slice(12)) // ::ffff:a.b.c.d
  if (zeros(0, 8) && b[8] === 0xff && b[9] === 0xff && zeros(10, 12)) return v4(b.slice(12)) // ::ffff:0:a.b.c.d
  if (zeros(0, 12)) return v4(b.slice(12)) // ::a.b.c.d
  if (b[0] === 0 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zeros(4, 12)) return v4(b.slice(12)) // 64:ff9b::/96
  if (b[0] === 0x20 && b[1] === 0x02) return v4(b.slice(2, 6)) // 2002:AABB:CCDD::/48
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0 && b[3] === 0) return v4(b.slice(12).map((x) => x ^ 0xff)) // Teredo
  return undefined
}

/** The 16 bytes of an IPv6 address (validated by isIP first), `::` and a dotted tail expanded. */
function ipv6Bytes(a: string): number[] | undefined {
  let text = a.toLowerCase()
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text)
  if (dotted !== null) {
    const [o0, o1, o2, o3] = dotted.slice(1).map(Number) as [number, number, number, number]
    text = `${text.slice(0, -dotted[0].length)}${((o0 << 8) | o1).toString(16)}:${((o2 << 8) | o3).toString(16)}`
  }
  const [head, tail] = text.split('::') as [string, string | undefined]
  const groups = (s: string | undefined) => (s === undefined || s === '' ? [] : s.split(':'))
  const h = groups(head),
    t = groups(tail)
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
  if (h === 'metadata.google.internal' || h === 'metadata.goog' || h === 'metadata')
    return 'a cloud metadata service name'
  return undefined
}
