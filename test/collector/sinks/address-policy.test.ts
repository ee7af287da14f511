import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { LookupAddress } from 'node:dns'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../../collector/src/app.ts'
import { forbiddenAddressReason } from '../../../collector/src/sinks/address-policy.ts'
import { createGuardedFetch, guardedLookup, type Resolve } from '../../../collector/src/sinks/guarded-fetch.ts'
import { loadSinks } from '../../../collector/src/sinks/sink-config.ts'
import { testSettings } from '../../helpers/settings.ts'

// Webhooks may not reach private, loopback, link-local or metadata addresses unless
// GOVERNOR_WEBHOOK_ALLOW_PRIVATE=1: literal addresses are refused at start, names at each
// connection, on the addresses the socket is given.

const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`

describe('forbiddenAddressReason', () => {
  it.each([
    ['127.0.0.1', /loopback/],
    ['127.255.0.9', /loopback/],
    ['10.1.2.3', /private/],
    ['172.16.0.1', /private/],
    ['172.31.255.255', /private/],
    ['192.168.1.1', /private/],
    ['169.254.169.254', /link-local.*metadata/],
    ['100.100.100.200', /carrier-grade NAT/],
    ['0.0.0.0', /this network/],
    ['224.0.0.1', /multicast/],
    ['255.255.255.255', /reserved or broadcast/],
    ['198.18.0.1', /benchmarking/],
    ['::1', /loopback/],
    ['0:0:0:0:0:0:0:1', /loopback/],
    ['::', /unspecified/],
    ['fe80::1', /link-local/],
    ['fe80::1%eth0', /link-local/],
    ['fc00::1', /unique local/],
    ['fd00:ec2::254', /unique local.*AWS/],
    ['ff02::1', /multicast/],
    ['::ffff:127.0.0.1', /loopback.*inside the IPv6/],
    ['::ffff:7f00:1', /loopback/],
    ['[::ffff:169.254.169.254]', /link-local/],
    ['::ffff:10.0.0.1', /private/],
    ['::ffff:0a00:0001', /private/],
    ['::127.0.0.1', /loopback/],
    ['64:ff9b::a00:1', /private/],
    ['2002:7f00:1::', /loopback/],
    ['2001:db8::1', /documentation/],
    // translated (SIIT), local-use NAT64, Teredo (client address inverted), and spellings of them
    ['::ffff:0:7f00:1', /loopback.*inside the IPv6/],
    ['[::ffff:0:7f00:1]', /loopback/],
    ['::ffff:0:10.0.0.1', /private/],
    ['64:ff9b:1::a00:1', /local-use NAT64/],
    ['64:ff9b:1:ffff::', /local-use NAT64/],
    ['2001:0:4136:e378:8000:63bf:80ff:fffe', /loopback/],
    ['0::ffff:127.0.0.1', /loopback/],
    ['::FFFF:7F00:0001', /loopback/],
    ['example.com', /not an IP address/],
    ['', /not an IP address/],
  ])('refuses %s', (address, why) => {
    expect(forbiddenAddressReason(address)).toMatch(why)
  })

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '172.32.0.1',
    '100.128.0.1',
    '93.184.216.34',
    '2001:4860:4860::8888',
    '2606:4700:4700::1111',
    '::ffff:8.8.8.8',
    '2002:808:808::',
    '::ffff:0:808:808',
    '64:ff9b::808:808',
    '2001:0:4136:e378:8000:63bf:f7f7:f7f7',
  ])('lets %s through', (address) => {
    expect(forbiddenAddressReason(address)).toBeUndefined()
  })
})

describe('at start: sinks that name a private address literally', () => {
  const sink = (url: string) => JSON.stringify([{ name: 'audit', type: 'webhook', url, secret: SECRET }])
  const refusal = (url: string, allow?: number) => {
    try {
      loadSinks({ sinks: sink(url), sinksFile: '', webhookAllowPrivate: allow })
      return undefined
    } catch (err) {
      return (err as Error).message
    }
  }

  it.each([
    ['http://127.0.0.1:9/hook', '127.0.0.1 is a loopback address'],
    ['http://0x7f.1/hook', '127.0.0.1 is a loopback address'], // the URL parser spells it out
    ['http://2130706433/hook', '127.0.0.1 is a loopback address'],
    ['http://[::1]:9/hook', '[::1] is a loopback address'],
    ['http://[::ffff:127.0.0.1]/hook', '[::ffff:7f00:1] is a loopback address'],
    ['http://169.254.169.254/latest/meta-data/', '169.254.169.254 is a link-local address'],
    ['http://10.0.0.8/hook', '10.0.0.8 is a private address'],
    ['http://localhost:9/hook', 'localhost is a loopback name'],
    [
      'http://metadata.google.internal/computeMetadata/v1/',
      'metadata.google.internal is a cloud metadata service name',
    ],
  ])('refuses %s', (url, why) => {
    const message = refusal(url)
    expect(message).toContain(`sink "audit": url`)
    expect(message).toContain(why)
    expect(message).toContain('set GOVERNOR_WEBHOOK_ALLOW_PRIVATE=1 to allow them')
  })

  it('accepts them with GOVERNOR_WEBHOOK_ALLOW_PRIVATE=1, and public names and addresses always', () => {
    expect(refusal('http://127.0.0.1:9/hook', 1)).toBeUndefined()
    expect(refusal('https://hooks.example.com/governor')).toBeUndefined()
    expect(refusal('https://93.184.216.34/governor')).toBeUndefined()
  })

  it('stops the collector from starting, naming the sink', async () => {
    await expect(buildApp(testSettings({ sinks: sink('http://127.0.0.1:9/hook') }), { logger: false })).rejects.toThrow(
      'sink "audit": url http://127.0.0.1:9/hook: 127.0.0.1 is a loopback address',
    )
  })
})

describe('at each connection: the addresses a name resolves to', () => {
  let receiver: Server
  let port: number
  let hits = 0
  beforeAll(async () => {
    receiver = createServer((_req, res) => {
      hits++
      res.end('ok')
    }).listen(0, '127.0.0.1')
    await once(receiver, 'listening')
    port = (receiver.address() as { port: number }).port
  })
  afterAll(() => {
    receiver?.close()
  })

  /** A resolver that answers from a table, as a DNS server under someone else's control would. */
  const answers =
    (table: Record<string, LookupAddress[]>): Resolve =>
    (host, _o, cb) => {
      const a = table[host]
      if (a === undefined) cb(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }), [])
      else cb(null, a)
    }
  const lookup = (resolve: Resolve, host: string, all: boolean) =>
    new Promise<{ err: Error | null; address: unknown }>((done) => {
      guardedLookup(host, { all }, (err, address) => done({ err, address }), resolve)
    })

  it('hands the socket a public answer as it came, one address or all', async () => {
    const resolve = answers({
      'hooks.example.test': [
        { address: '93.184.216.34', family: 4 },
        { address: '2606:2800:220:1::1', family: 6 },
      ],
    })
    expect(await lookup(resolve, 'hooks.example.test', true)).toEqual({
      err: null,
      address: [
        { address: '93.184.216.34', family: 4 },
        { address: '2606:2800:220:1::1', family: 6 },
      ],
    })
    expect(await lookup(resolve, 'hooks.example.test', false)).toEqual({ err: null, address: '93.184.216.34' })
  })

  it('refuses a name when any of its addresses is private, IPv4-mapped ones included', async () => {
    const resolve = answers({
      mixed: [
        { address: '93.184.216.34', family: 4 },
        { address: '10.0.0.5', family: 4 },
      ],
      mapped: [{ address: '::ffff:169.254.169.254', family: 6 }],
    })
    expect((await lookup(resolve, 'mixed', true)).err?.message).toBe(
      'webhook host mixed resolves to 10.0.0.5, a private address (10.0.0.0/8): refused (set GOVERNOR_WEBHOOK_ALLOW_PRIVATE=1 to allow it)',
    )
    expect((await lookup(resolve, 'mapped', false)).err?.message).toMatch(
      /resolves to ::ffff:169.254.169.254, a link-local address/,
    )
  })

  it("never connects to a name rebound to loopback, and says why in the attempt's error", async () => {
    const { fetch, close } = createGuardedFetch(
      answers({ 'rebind.example.test': [{ address: '127.0.0.1', family: 4 }] }),
    )
    try {
      const err = await fetch(`http://rebind.example.test:${port}/hook`, { method: 'POST', body: '{}' }).then(
        () => undefined,
        (e: Error) => e,
      )
      expect(err).toBeInstanceOf(TypeError)
      expect(String((err as Error & { cause?: Error }).cause?.message)).toContain(
        'resolves to 127.0.0.1, a loopback address',
      )
      const literal = await fetch(`http://127.0.0.1:${port}/hook`, { method: 'POST', body: '{}' }).then(
        () => undefined,
        (e: Error) => e,
      )
      expect(String((literal as Error & { cause?: Error }).cause?.message)).toContain('127.0.0.1 is a loopback address')
      expect(hits).toBe(0)
    } finally {
      await close()
    }
  })

  it("leaves the receiver reachable without the guard: the refusals above are the guard's", async () => {
    const res = await fetch(`http://127.0.0.1:${port}/hook`, { method: 'POST', body: '{}' })
    expect(res.status).toBe(200)
    expect(hits).toBe(1)
  })
})
