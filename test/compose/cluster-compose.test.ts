import { readFileSync } from 'node:fs'
import { isAbsolute, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { loadTokens } from '../../collector/src/auth/tokens.ts'
import { loadSettings, SETTINGS } from '../../collector/src/settings.ts'
import {
  checkCompose,
  containerPorts,
  environmentOf,
  imageProblem,
  mountsOf,
  parseCompose,
  type ComposeFile,
  type ComposeService,
} from '../helpers/compose-check.ts'

// docker-compose.cluster.yml, checked without Docker: the checks of docker-compose.yml
// (pinned, mounts present, depends_on valid, addresses on exposed ports), and the cluster's
// own wiring read from the configuration files it mounts: the cluster Governor is told to use
// is the one the servers define, two shards of two replicas, each server's macros, the keeper
// every server and keeper names, the users and passwords on both sides, the proxy's upstreams
// and streams, the start order. Each check is then shown to catch its fault on a mutated copy.

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const FILE = 'docker-compose.cluster.yml'

// ---------------------------------------------------------------------------------------------
// Parsing, kept small: the XML and nginx configuration this stack mounts, nothing more general.

/** An XML element: its attributes, child elements and the text directly in it (trimmed). */
interface XmlNode {
  name: string
  attrs: Record<string, string>
  children: XmlNode[]
  text: string
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }
const decode = (s: string) => s.replace(/&(amp|lt|gt|quot|apos);/g, (_, e: string) => ENTITIES[e]!)

/** Parses an XML document without DTDs, CDATA or processing instructions but the declaration. */
function parseXml(text: string): XmlNode {
  const src = text.replace(/<!--[\s\S]*?-->/g, '').replace(/^\s*<\?xml[\s\S]*?\?>/, '')
  const doc: XmlNode = { name: '#document', attrs: {}, children: [], text: '' }
  const stack = [doc]
  const token = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|([^<]+)/y
  let pos = 0
  while (pos < src.length) {
    token.lastIndex = pos
    const m = token.exec(src)
    if (m === null) throw new Error(`XML: cannot read ${JSON.stringify(src.slice(pos, pos + 40))}`)
    pos = token.lastIndex
    const [, close, name = '', attrText = '', selfClose, chars] = m
    const top = stack.at(-1)!
    if (chars !== undefined) {
      if (chars.trim() !== '') top.text += decode(chars.trim())
      continue
    }
    if (close === '/') {
      if (top.name !== name) throw new Error(`XML: </${name}> closes <${top.name}>`)
      stack.pop()
      continue
    }
    const attrs = Object.fromEntries(
      [...attrText.matchAll(/([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)].map((a) => [
        a[1]!,
        decode(a[2] ?? a[3] ?? ''),
      ]),
    )
    const node: XmlNode = { name, attrs, children: [], text: '' }
    top.children.push(node)
    if (selfClose !== '/') stack.push(node)
  }
  if (stack.length !== 1) throw new Error(`XML: <${stack.at(-1)!.name}> is not closed`)
  if (doc.children.length !== 1) throw new Error('XML: expected one root element')
  return doc.children[0]!
}

const kids = (n: XmlNode | undefined, name: string) => (n?.children ?? []).filter((c) => c.name === name)
const kid = (n: XmlNode | undefined, name: string) => kids(n, name)[0]
/** The element at a path of names below `n`, the first of each name. */
const at = (n: XmlNode | undefined, ...path: string[]) =>
  path.reduce<XmlNode | undefined>((node, name) => kid(node, name), n)

/** An nginx directive: `name args;` or `name args { block }`. */
interface NginxDirective {
  name: string
  args: string[]
  block?: NginxDirective[]
}

/** Parses an nginx configuration: directives, blocks, quoted arguments and `#` comments. */
function parseNginx(text: string): NginxDirective[] {
  const tokens = [...text.matchAll(/#[^\n]*|"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([{};])|([^\s{};"'#][^\s{};]*)/g)]
    .filter((t) => !t[0].startsWith('#'))
    .map((t) => ({ special: t[3], word: t[1] ?? t[2] ?? t[4] ?? '' }))
  let i = 0
  const block = (nested: boolean): NginxDirective[] => {
    const out: NginxDirective[] = []
    let words: string[] = []
    while (i < tokens.length) {
      const t = tokens[i++]!
      if (t.special === ';') {
        if (words.length === 0) throw new Error('nginx: empty directive')
        out.push({ name: words[0]!, args: words.slice(1) })
        words = []
        continue
      }
      if (t.special === '{') {
        if (words.length === 0) throw new Error('nginx: block without a name')
        const inner = block(true)
        out.push({ name: words[0]!, args: words.slice(1), block: inner })
        words = []
        continue
      }
      if (t.special === '}') {
        if (!nested || words.length > 0) throw new Error('nginx: unexpected }')
        return out
      }
      words.push(t.word)
    }
    if (nested || words.length > 0) throw new Error('nginx: unexpected end of file')
    return out
  }
  return block(false)
}

/** Every directive named `name` in `ds` and the blocks within, depth first. */
function nginxAll(ds: NginxDirective[], name: string): NginxDirective[] {
  return ds.flatMap((d) => [...(d.name === name ? [d] : []), ...nginxAll(d.block ?? [], name)])
}
const nginxOwn = (ds: NginxDirective[] | undefined, name: string) => (ds ?? []).find((d) => d.name === name)

/** An nginx time (`90`, `120s`, `5m`, `1h`) in seconds. */
function nginxSeconds(v: string): number {
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(v)
  if (m === null) throw new Error(`nginx time ${v}`)
  const unit: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 }
  return Number(m[1]) * unit[m[2] ?? 's']!
}

/** An nginx size (`512`, `64k`, `20m`, `1g`) in bytes. */
function nginxBytes(v: string): number {
  const m = /^(\d+)([kKmMgG])?$/.exec(v)
  if (m === null) throw new Error(`nginx size ${v}`)
  const unit: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 }
  return Number(m[1]) * (unit[(m[2] ?? '').toLowerCase()] ?? 1)
}

// ---------------------------------------------------------------------------------------------
// The stack: the compose file and every configuration file it mounts, parsed.

interface Stack {
  compose: ComposeFile
  /** Mounted XML files by their source as the compose file writes it. */
  xml: Record<string, XmlNode>
  /** Mounted nginx configurations by their source. */
  nginx: Record<string, NginxDirective[]>
  /** Mounted YAML files by their source. */
  yaml: Record<string, unknown>
}

function loadStack(compose: ComposeFile, root: string): Stack {
  const stack: Stack = { compose, xml: {}, nginx: {}, yaml: {} }
  for (const s of Object.values(compose.services)) {
    for (const m of mountsOf(s)) {
      if (m.kind !== 'bind') continue
      const read = () => readFileSync(isAbsolute(m.source) ? m.source : join(root, m.source), 'utf8')
      if (m.source.endsWith('.xml')) stack.xml[m.source] ??= parseXml(read())
      else if (m.target.startsWith('/etc/nginx/')) stack.nginx[m.source] ??= parseNginx(read())
      else if (/\.ya?ml$/.test(m.source)) stack.yaml[m.source] ??= parse(read()) as unknown
    }
  }
  return stack
}

/** A copy of the stack to break. Compose aliases stay shared in the copy: replace objects, do not edit them. */
const broken = (stack: Stack, fault: (s: Stack) => void): Stack => {
  const copy = structuredClone(stack)
  fault(copy)
  return copy
}

const svc = (stack: Stack, name: string): ComposeService => stack.compose.services[name]!
const named = (stack: Stack, test: (s: ComposeService) => boolean) =>
  Object.entries(stack.compose.services)
    .filter(([, s]) => test(s))
    .map(([n]) => n)
const servers = (stack: Stack) => named(stack, (s) => s.image?.startsWith('clickhouse/clickhouse-server:') === true)
const keepers = (stack: Stack) => named(stack, (s) => s.image?.startsWith('clickhouse/clickhouse-keeper:') === true)
const collectors = (stack: Stack) => named(stack, (s) => environmentOf(s).GOVERNOR_CLICKHOUSE_URL !== undefined)
const proxies = (stack: Stack) => named(stack, (s) => s.image?.startsWith('nginx:') === true)

/** The parsed XML files a service mounts below a directory of the container. */
function mountedXml(stack: Stack, service: string, dir: string): { source: string; root: XmlNode }[] {
  return mountsOf(svc(stack, service))
    .filter((m) => m.kind === 'bind' && m.target.startsWith(dir) && stack.xml[m.source] !== undefined)
    .map((m) => ({ source: m.source, root: stack.xml[m.source]! }))
}

/** The element at `path` of a ClickHouse server's configuration (config.d); throws unless exactly one file has it. */
function serverSetting(stack: Stack, server: string, ...path: string[]): XmlNode {
  const found = mountedXml(stack, server, '/etc/clickhouse-server/config.d/').flatMap(({ source, root }) => {
    const n = at(root, ...path)
    return n === undefined ? [] : [{ source, n }]
  })
  if (found.length === 0) throw new Error(`${server}: no ${path.join('.')} in its configuration`)
  if (found.length > 1)
    throw new Error(`${server}: ${path.join('.')} is set in ${found.map((f) => f.source).join(' and ')}`)
  return found[0]!.n
}

/** The cluster the collectors are told to use; throws when they disagree or name none. */
function clusterName(stack: Stack): string {
  const names = new Set(collectors(stack).map((c) => environmentOf(svc(stack, c)).GOVERNOR_CLICKHOUSE_CLUSTER ?? ''))
  if (names.size !== 1 || names.has(''))
    throw new Error(`the collectors name the clusters ${JSON.stringify([...names])}`)
  return [...names][0]!
}

/** `fn` over each item, a thrown error becoming a problem. */
const each = <T>(items: T[], fn: (item: T) => string[]): string[] =>
  items.flatMap((item) => {
    try {
      return fn(item)
    } catch (err) {
      return [(err as Error).message]
    }
  })
const guard = (fn: () => string[]): string[] => each([0], fn)

/** A service's environment variable, as compose fills it in. */
const envOf = (stack: Stack, service: string, name: string, env: Record<string, string> = {}) =>
  environmentOf(svc(stack, service), env)[name]

/** An address in a URL: host and port (80 by default for http). */
function urlHostPort(url: string): { host: string; port: number } {
  const u = new URL(url)
  return { host: u.hostname, port: u.port === '' ? (u.protocol === 'https:' ? 443 : 80) : Number(u.port) }
}

// ---------------------------------------------------------------------------------------------
// The cluster's checks: each returns its problems, [] when there is none.

/** The cluster in GOVERNOR_CLICKHOUSE_CLUSTER of every collector is defined, the same, on every server. */
function checkClusterName(stack: Stack): string[] {
  return guard(() => {
    const name = clusterName(stack)
    const definitions = servers(stack).map((server) => {
      const remote = serverSetting(stack, server, 'remote_servers')
      const cluster = kid(remote, name)
      return {
        server,
        defined: cluster === undefined ? undefined : JSON.stringify(cluster),
        known: remote.children.map((c) => c.name),
      }
    })
    const problems = definitions
      .filter((d) => d.defined === undefined)
      .map(
        (d) =>
          `${d.server}: remote_servers defines no cluster ${name} (only ${d.known.join(', ') || 'none'}), which GOVERNOR_CLICKHOUSE_CLUSTER of the collectors names`,
      )
    const distinct = new Set(definitions.filter((d) => d.defined !== undefined).map((d) => d.defined))
    if (distinct.size > 1) problems.push(`the servers define cluster ${name} in ${distinct.size} different ways`)
    return problems
  })
}

/** The cluster has `shards` shards of `replicas` replicas, each a server of the stack on its native port, each server once. */
function checkShards(stack: Stack, shards = 2, replicas = 2): string[] {
  return guard(() => {
    const name = clusterName(stack)
    const all = servers(stack)
    const problems: string[] = []
    const listed: string[] = []
    const cluster = at(serverSetting(stack, all[0]!, 'remote_servers'), name)
    const shardNodes = kids(cluster, 'shard')
    if (shardNodes.length !== shards) problems.push(`cluster ${name} has ${shardNodes.length} shards, not ${shards}`)
    shardNodes.forEach((shard, i) => {
      const rs = kids(shard, 'replica')
      if (rs.length !== replicas) problems.push(`shard ${i + 1} of ${name} has ${rs.length} replicas, not ${replicas}`)
      if (kid(shard, 'internal_replication')?.text !== 'true')
        problems.push(
          `shard ${i + 1} of ${name}: internal_replication is not true, so a Distributed insert would write every replica itself`,
        )
      for (const r of rs) {
        const host = kid(r, 'host')?.text ?? ''
        const port = Number(kid(r, 'port')?.text ?? 9000)
        listed.push(host)
        if (!all.includes(host)) {
          problems.push(`shard ${i + 1} of ${name}: replica ${host} is no ClickHouse server of the stack`)
          continue
        }
        if (!containerPorts(svc(stack, host)).has(port))
          problems.push(`shard ${i + 1} of ${name}: replica ${host}:${port}, a port ${host} does not expose`)
      }
    })
    for (const s of all) {
      const n = listed.filter((h) => h === s).length
      if (n !== 1) problems.push(`${s} is listed ${n} times in cluster ${name}`)
    }
    return problems
  })
}

/**
 * Each server's macros: a {shard} shared by exactly the servers of its shard in remote_servers,
 * a {replica} unique across the cluster (the tables every server holds whole form one
 * replication group), and the host name the other replicas fetch parts from is its own.
 */
function checkMacros(stack: Stack): string[] {
  return guard(() => {
    const name = clusterName(stack)
    const all = servers(stack)
    const shardOf = new Map<string, number>()
    kids(at(serverSetting(stack, all[0]!, 'remote_servers'), name), 'shard').forEach((shard, i) => {
      for (const r of kids(shard, 'replica')) shardOf.set(kid(r, 'host')?.text ?? '', i)
    })
    const macros = all.map((server) => {
      const m = serverSetting(stack, server, 'macros')
      return { server, shard: kid(m, 'shard')?.text ?? '', replica: kid(m, 'replica')?.text ?? '' }
    })
    const problems: string[] = []
    for (const m of macros) {
      if (m.shard === '' || m.replica === '') problems.push(`${m.server}: macros need both {shard} and {replica}`)
      const interserver = guard(() => [serverSetting(stack, m.server, 'interserver_http_host').text])[0]
      if (interserver !== m.server)
        problems.push(`${m.server}: interserver_http_host is ${interserver}, not its own name`)
    }
    const pairs = new Map<string, string>()
    const replicaNames = new Map<string, string>()
    for (const m of macros) {
      const pair = `${m.shard}/${m.replica}`
      if (pairs.has(pair))
        problems.push(
          `${m.server} and ${pairs.get(pair)} have the same macros (shard ${m.shard}, replica ${m.replica})`,
        )
      pairs.set(pair, m.server)
      if (replicaNames.has(m.replica))
        problems.push(
          `${m.server} and ${replicaNames.get(m.replica)} share the replica name ${m.replica}: it must be unique across the cluster`,
        )
      replicaNames.set(m.replica, m.server)
    }
    for (const a of macros) {
      for (const b of macros) {
        if (a.server >= b.server) continue
        const sameShard = shardOf.get(a.server) === shardOf.get(b.server)
        if (sameShard && a.shard !== b.shard)
          problems.push(
            `${a.server} and ${b.server} are one shard in remote_servers but their {shard} macros differ (${a.shard}, ${b.shard})`,
          )
        if (!sameShard && a.shard === b.shard)
          problems.push(
            `${a.server} and ${b.server} are different shards in remote_servers but share the {shard} macro ${a.shard}`,
          )
      }
    }
    return problems
  })
}

/** The keeper configuration of a keeper service (its keeper_config.xml). */
function keeperConfig(stack: Stack, keeper: string): XmlNode {
  const files = mountedXml(stack, keeper, '/etc/clickhouse-keeper/')
  if (files.length !== 1) throw new Error(`${keeper}: mounts ${files.length} keeper configurations, not 1`)
  const server = at(files[0]!.root, 'keeper_server')
  if (server === undefined) throw new Error(`${keeper}: ${files[0]!.source} has no keeper_server`)
  return server
}

/** Every server's zookeeper section names every keeper service, on the port it serves clients on and exposes. */
function checkKeeperSection(stack: Stack): string[] {
  const ks = keepers(stack)
  return each(servers(stack), (server) => {
    const nodes = kids(serverSetting(stack, server, 'zookeeper'), 'node')
    const problems: string[] = []
    const hosts = nodes.map((n) => kid(n, 'host')?.text ?? '')
    for (const n of nodes) {
      const host = kid(n, 'host')?.text ?? ''
      const port = Number(kid(n, 'port')?.text ?? 2181)
      if (!ks.includes(host)) {
        problems.push(`${server}: zookeeper node ${host} is no keeper service of the stack`)
        continue
      }
      const served = Number(kid(keeperConfig(stack, host), 'tcp_port')?.text)
      if (port !== served)
        problems.push(`${server}: zookeeper node ${host}:${port}, but ${host} serves clients on ${served}`)
      if (!containerPorts(svc(stack, host)).has(port))
        problems.push(`${server}: zookeeper node ${host}:${port}, a port ${host} does not expose`)
    }
    for (const k of ks) if (!hosts.includes(k)) problems.push(`${server}: its zookeeper section leaves out ${k}`)
    return problems
  })
}

/** The keepers form one ensemble: an odd number, distinct ids, the same raft members everywhere, each itself among them. */
function checkKeeperEnsemble(stack: Stack): string[] {
  return guard(() => {
    const ks = keepers(stack)
    const problems: string[] = []
    if (ks.length % 2 === 0) problems.push(`${ks.length} keepers: an ensemble needs an odd number (1, 3, 5)`)
    const configs = ks.map((k) => ({ k, c: keeperConfig(stack, k) }))
    const raft = configs.map(({ k, c }) => ({
      k,
      members: kids(at(c, 'raft_configuration'), 'server').map((s) => ({
        id: kid(s, 'id')?.text ?? '',
        host: kid(s, 'hostname')?.text ?? '',
        port: Number(kid(s, 'port')?.text),
      })),
    }))
    if (new Set(raft.map((r) => JSON.stringify(r.members))).size > 1)
      problems.push('the keepers list different raft_configuration members')
    const ids = new Map<string, string>()
    for (const { k, c } of configs) {
      const id = kid(c, 'server_id')?.text ?? ''
      if (ids.has(id)) problems.push(`${k} and ${ids.get(id)} have the same server_id ${id}`)
      ids.set(id, k)
      const me = raft.find((r) => r.k === k)!.members.find((m) => m.id === id)
      if (me === undefined) problems.push(`${k}: its server_id ${id} is not in its raft_configuration`)
      else if (me.host !== k) problems.push(`${k}: raft_configuration names its server_id ${id} ${me.host}`)
      for (const m of raft.find((r) => r.k === k)!.members) {
        if (!ks.includes(m.host)) problems.push(`${k}: raft member ${m.host} is no keeper service of the stack`)
        else if (!containerPorts(svc(stack, m.host)).has(m.port))
          problems.push(`${k}: raft member ${m.host}:${m.port}, a port ${m.host} does not expose`)
      }
    }
    if (raft[0]?.members.length !== ks.length)
      problems.push(`${ks.length} keeper services but ${raft[0]?.members.length ?? 0} raft members`)
    return problems
  })
}

/** The password a user of a server's users.d has, from the variable its `from_env` names in the server's environment. */
function userPassword(stack: Stack, server: string, user: string, env: Record<string, string>): string | undefined {
  const defs = mountedXml(stack, server, '/etc/clickhouse-server/users.d/').flatMap(({ root }) =>
    kids(at(root, 'users'), user),
  )
  if (defs.length !== 1) throw new Error(`${server}: user ${user} is defined ${defs.length} times in users.d`)
  const pw = kid(defs[0], 'password')
  if (pw === undefined) throw new Error(`${server}: user ${user} has no password in users.d`)
  if (pw.attrs.from_env === undefined) return pw.text
  const value = envOf(stack, server, pw.attrs.from_env, env)
  if (value === undefined)
    throw new Error(
      `${server}: user ${user}'s password comes from ${pw.attrs.from_env}, which its environment does not set`,
    )
  return value
}

/**
 * Who signs in where: each collector's server is in the cluster, on its HTTP port, with a user
 * that server defines and the same password; Grafana's data source likewise; the cluster
 * secret and interserver password are the same on every server.
 */
function checkCredentials(stack: Stack, env: Record<string, string> = {}): string[] {
  const all = servers(stack)
  const fromCollectors = each(collectors(stack), (c) => {
    const e = environmentOf(svc(stack, c), env)
    const { host, port } = urlHostPort(e.GOVERNOR_CLICKHOUSE_URL!)
    if (!all.includes(host)) return [`${c}: GOVERNOR_CLICKHOUSE_URL names ${host}, no ClickHouse server of the cluster`]
    const settings = loadSettings({}, e)
    const problems = containerPorts(svc(stack, host)).has(port)
      ? []
      : [`${c}: GOVERNOR_CLICKHOUSE_URL uses port ${port}, which ${host} does not expose`]
    if (userPassword(stack, host, settings.clickhouseUser, env) !== settings.clickhousePassword)
      problems.push(`${c}: the password of ClickHouse user ${settings.clickhouseUser} differs from the one ${host} has`)
    return problems
  })
  const fromGrafana = each(Object.entries(stack.yaml), ([source, doc]) => {
    const grafana = named(stack, (s) => mountsOf(s).some((m) => m.source === source))
    const sources =
      (
        doc as {
          datasources?: { jsonData?: { host?: string; username?: string }; secureJsonData?: { password?: string } }[]
        } | null
      )?.datasources ?? []
    return sources.flatMap((d) => {
      const host = d.jsonData?.host ?? ''
      if (!all.includes(host)) return [`${source}: data source host ${host} is no ClickHouse server of the cluster`]
      const variable = /^\$\{?(\w+)\}?$/.exec(d.secureJsonData?.password ?? '')?.[1]
      const password = variable === undefined ? d.secureJsonData?.password : envOf(stack, grafana[0]!, variable, env)
      return userPassword(stack, host, d.jsonData?.username ?? 'default', env) === password
        ? []
        : [`${source}: the password of ClickHouse user ${d.jsonData?.username} differs from the one ${host} has`]
    })
  })
  const secrets = guard(() => {
    const problems: string[] = []
    for (const path of [
      ['remote_servers', clusterName(stack), 'secret'],
      ['interserver_http_credentials', 'password'],
    ]) {
      const values = new Set(
        all.map((s) => {
          const n = serverSetting(stack, s, ...path)
          return n.attrs.from_env === undefined ? n.text : (envOf(stack, s, n.attrs.from_env, env) ?? '')
        }),
      )
      if (values.size !== 1 || values.has('')) problems.push(`${path.join('.')} is not one value set on every server`)
    }
    return problems
  })
  return [...fromCollectors, ...fromGrafana, ...secrets]
}

/** The upstream servers of the proxy are the collectors, each on its port; every location passes to them; it listens on a port it exposes. */
function checkProxyUpstreams(stack: Stack): string[] {
  const wanted = collectors(stack)
    .map((c) => `${c}:${loadSettings({}, environmentOf(svc(stack, c))).port}`)
    .sort()
  return each(proxies(stack), (p) => {
    const source = mountsOf(svc(stack, p)).find((m) => stack.nginx[m.source] !== undefined)?.source
    if (source === undefined) return [`${p}: mounts no nginx configuration`]
    const conf = stack.nginx[source]!
    const problems: string[] = []
    const upstreams = new Map(
      nginxAll(conf, 'upstream').map((u) => [
        u.args[0]!,
        nginxAll(u.block ?? [], 'server')
          .map((s) => s.args[0]!)
          .sort(),
      ]),
    )
    for (const [name, members] of upstreams) {
      if (JSON.stringify(members) !== JSON.stringify(wanted))
        problems.push(
          `${p}: upstream ${name} is ${members.join(', ') || 'empty'}, not the collectors ${wanted.join(', ')}`,
        )
    }
    for (const c of collectors(stack)) {
      const port = loadSettings({}, environmentOf(svc(stack, c))).port
      if (!containerPorts(svc(stack, c)).has(port)) problems.push(`${c}: listens on ${port} but does not expose it`)
    }
    const locations = nginxAll(conf, 'location')
    if (locations.length === 0) problems.push(`${p}: no location`)
    for (const l of locations) {
      const pass = nginxOwn(l.block, 'proxy_pass')?.args[0] ?? ''
      const target = /^http:\/\/([^/:]+)/.exec(pass)?.[1]
      if (target === undefined || !upstreams.has(target))
        problems.push(
          `${p}: location ${l.args.join(' ')} passes to ${pass || 'nothing'}, not an upstream of the collectors`,
        )
    }
    for (const listen of nginxAll(conf, 'listen')) {
      const port = Number(listen.args[0]!.split(':').at(-1))
      if (!containerPorts(svc(stack, p)).has(port)) problems.push(`${p}: listens on ${port} but does not expose it`)
    }
    return problems
  })
}

const STREAM_PATH = '/api/v1/knobs/stream'
/** Shortest read timeout of the knob stream: several heartbeats (15 s) may be late before a stream is cut. */
const STREAM_MIN_READ_SECONDS = 300

/** The proxy passes knob streams unbuffered with long timeouts, and bodies as large as the collectors take. */
function checkProxyStreams(stack: Stack): string[] {
  const maxBody = Math.max(...collectors(stack).map((c) => loadSettings({}, environmentOf(svc(stack, c))).maxBodyBytes))
  return each(proxies(stack), (p) => {
    const source = mountsOf(svc(stack, p)).find((m) => stack.nginx[m.source] !== undefined)!.source
    const conf = stack.nginx[source]!
    const problems: string[] = []
    const server = nginxAll(conf, 'server').find((s) => s.block !== undefined)
    const http = nginxAll(conf, 'http')[0]
    // The location nginx picks for the stream: an exact match, else the longest prefix.
    const locations = nginxAll(conf, 'location')
    const exact = locations.find((l) => l.args[0] === '=' && l.args[1] === STREAM_PATH)
    const stream =
      exact ??
      locations
        .filter((l) => l.args.length === 1 && STREAM_PATH.startsWith(l.args[0]!))
        .sort((a, b) => b.args[0]!.length - a.args[0]!.length)[0]
    const setting = (name: string, fallback: string) =>
      (nginxOwn(stream?.block, name) ?? nginxOwn(server?.block, name) ?? nginxOwn(http?.block, name))?.args[0] ??
      fallback
    if (stream === undefined) problems.push(`${p}: no location serves ${STREAM_PATH}`)
    if (setting('proxy_buffering', 'on') !== 'off')
      problems.push(`${p}: ${STREAM_PATH} is buffered (proxy_buffering off is needed for server-sent events)`)
    for (const timeout of ['proxy_read_timeout', 'proxy_send_timeout']) {
      const seconds = nginxSeconds(setting(timeout, '60s'))
      if (seconds < STREAM_MIN_READ_SECONDS)
        problems.push(`${p}: ${timeout} of ${STREAM_PATH} is ${seconds} s, under ${STREAM_MIN_READ_SECONDS} s`)
    }
    const body = nginxBytes(setting('client_max_body_size', '1m'))
    if (body < maxBody)
      problems.push(
        `${p}: client_max_body_size is ${body} bytes, under the ${maxBody} the collectors take (GOVERNOR_MAX_BODY_BYTES)`,
      )
    return problems
  })
}

/** Every collector's environment passes Governor's own settings, names only known settings, and runs in cluster mode. */
function checkCollectorSettings(stack: Stack, env: Record<string, string> = {}): string[] {
  const known = new Set<string>(Object.values(SETTINGS).map((s) => s.env))
  return each(collectors(stack), (c) => {
    const e = environmentOf(svc(stack, c), env)
    const problems = Object.keys(e)
      .filter((k) => !known.has(k))
      .map((k) => `${c}: ${k} is no setting of Governor`)
    const settings = loadSettings({}, e)
    loadTokens(settings)
    if (settings.clickhouseCluster === '')
      problems.push(`${c}: not in cluster mode (GOVERNOR_CLICKHOUSE_CLUSTER unset)`)
    return problems
  })
}

/** Start order: keepers before servers, every server before any collector, collectors before the proxy. */
function checkStartOrder(stack: Stack): string[] {
  const waitsFor = (name: string, dep: string) => {
    const deps = svc(stack, name).depends_on
    return !Array.isArray(deps) && deps?.[dep]?.condition === 'service_healthy'
  }
  const rules: [string[], string[], string][] = [
    [servers(stack), keepers(stack), 'the keeper, which it needs to start its replicated tables'],
    [collectors(stack), servers(stack), 'every server, since migrations run ON CLUSTER'],
    [proxies(stack), collectors(stack), 'the collectors it sends requests to'],
  ]
  return rules.flatMap(([who, on, why]) =>
    who.flatMap((w) =>
      on.filter((o) => !waitsFor(w, o)).map((o) => `${w} does not wait for ${o} to be healthy (${why})`),
    ),
  )
}

// ---------------------------------------------------------------------------------------------

const compose = parseCompose(readFileSync(join(ROOT, FILE), 'utf8'))
const stack = loadStack(compose, ROOT)
const main = parseCompose(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'))
const DOT_ENV = {
  GOVERNOR_CLICKHOUSE_PASSWORD: 'a'.repeat(32),
  GRAFANA_CLICKHOUSE_PASSWORD: 'b'.repeat(32),
  CLICKHOUSE_CLUSTER_SECRET: 'c'.repeat(32),
  DEMO_APP_TOKEN: 'd'.repeat(24),
  PROMETHEUS_TOKEN: 'e'.repeat(24),
  OPS_TOKEN: 'f'.repeat(24),
}

describe(FILE, () => {
  it('has no problem the checks of docker-compose.yml find', () => {
    expect(checkCompose(compose, ROOT)).toEqual([])
  })

  it('runs four ClickHouse servers, three keepers, two collectors, the proxy and Grafana', () => {
    expect(servers(stack)).toEqual(['clickhouse-s1-r1', 'clickhouse-s1-r2', 'clickhouse-s2-r1', 'clickhouse-s2-r2'])
    expect(keepers(stack)).toEqual(['keeper-1', 'keeper-2', 'keeper-3'])
    expect(collectors(stack)).toEqual(['governor-1', 'governor-2'])
    expect(proxies(stack)).toEqual(['proxy'])
    expect(Object.keys(compose.services).sort()).toEqual(
      [...servers(stack), ...keepers(stack), ...collectors(stack), 'grafana', 'proxy'].sort(),
    )
  })

  it("pins the servers to docker-compose.yml's ClickHouse image and the keepers to the same release", () => {
    const image = main.services.clickhouse!.image!
    for (const s of servers(stack)) expect(svc(stack, s).image, s).toBe(image)
    for (const k of keepers(stack)) {
      expect(imageProblem(svc(stack, k).image!)).toBeUndefined()
      expect(svc(stack, k).image!.split(':')[1], k).toBe(image.split(':')[1])
    }
    expect(imageProblem(svc(stack, 'proxy').image!)).toBeUndefined()
  })

  it('builds the collectors from the root Dockerfile, with the tokens of docker-compose.yml', () => {
    const tokensOf = (s: ComposeService, env: Record<string, string> = {}) =>
      loadTokens(loadSettings({}, environmentOf(s, env))).map(
        (t) => `${t.name} ${[...t.roles].sort().join('+')} ${t.hash.toString('hex')}`,
      )
    for (const c of collectors(stack)) {
      expect(svc(stack, c).build).toBe('.')
      expect(tokensOf(svc(stack, c))).toEqual(tokensOf(main.services.governor!))
      expect(tokensOf(svc(stack, c), DOT_ENV)).toEqual(tokensOf(main.services.governor!, DOT_ENV))
    }
  })

  it("gives Grafana docker-compose.yml's data source, pointed at a server of the cluster", () => {
    const mainSource = parse(
      readFileSync(join(ROOT, 'dashboards/provisioning/datasources/clickhouse.yaml'), 'utf8'),
    ) as { datasources: { jsonData: { host: string } }[] }
    const clusterSource = structuredClone(stack.yaml['./deploy/cluster/grafana-datasource.yaml']) as typeof mainSource
    expect(servers(stack)).toContain(clusterSource.datasources[0]!.jsonData.host)
    clusterSource.datasources[0]!.jsonData.host = mainSource.datasources[0]!.jsonData.host
    expect(clusterSource).toEqual(mainSource)
  })

  const checks: [string, (s: Stack) => string[]][] = [
    ['the cluster the collectors name is the one every server defines', checkClusterName],
    ['the cluster has 2 shards of 2 replicas, every server once, internal replication on', (s) => checkShards(s)],
    ["each server's macros are its shard's and a replica name unique in the cluster", checkMacros],
    ["every server's keeper section names the keeper services on their client port", checkKeeperSection],
    ['the keepers form one ensemble', checkKeeperEnsemble],
    [
      'collectors and Grafana sign in with users and passwords the servers have (placeholders)',
      (s) => checkCredentials(s),
    ],
    [
      'collectors and Grafana sign in with users and passwords the servers have (an .env)',
      (s) => checkCredentials(s, DOT_ENV),
    ],
    ['the proxy sends every request to the two collectors on their port', checkProxyUpstreams],
    ['the proxy streams knob events unbuffered with long timeouts, and takes full-size bodies', checkProxyStreams],
    ["the collectors' environment passes Governor's settings (placeholders)", (s) => checkCollectorSettings(s)],
    ["the collectors' environment passes Governor's settings (an .env)", (s) => checkCollectorSettings(s, DOT_ENV)],
    ['starts keepers, then servers, then collectors, then the proxy', checkStartOrder],
  ]
  for (const [what, check] of checks) {
    it(what, () => {
      expect(check(stack)).toEqual([])
    })
  }
})

describe('the cluster checks catch', () => {
  const xmlOf = (s: Stack, source: string) => s.xml[source]!
  const CLUSTER_XML = './deploy/cluster/clickhouse/cluster.xml'
  const NGINX = './deploy/cluster/nginx.conf'
  const setEnv = (s: Stack, service: string, vars: Record<string, string | undefined>) => {
    const e = Object.entries({ ...(svc(s, service).environment as Record<string, string>), ...vars }).filter(
      (kv): kv is [string, string] => kv[1] !== undefined,
    )
    s.compose.services[service] = { ...svc(s, service), environment: Object.fromEntries(e) }
  }
  /** Mounts a copy of a file of `service` under another name, so that one server differs. */
  const forkXml = (s: Stack, service: string, source: string): XmlNode => {
    const fork = `${source}.fork`
    s.xml[fork] = structuredClone(s.xml[source]!)
    s.compose.services[service] = {
      ...svc(s, service),
      volumes: svc(s, service).volumes!.map((v) =>
        typeof v === 'string' && v.startsWith(`${source}:`) ? v.replace(source, fork) : v,
      ),
    }
    return s.xml[fork]!
  }
  const nginxConf = (s: Stack) => s.nginx[NGINX]!
  const location = (s: Stack, path: string) => nginxAll(nginxConf(s), 'location').find((l) => l.args.includes(path))!

  it('a collector naming a cluster the servers do not define', () => {
    const s = broken(stack, (x) => {
      setEnv(x, 'governor-1', { GOVERNOR_CLICKHOUSE_CLUSTER: 'other' })
      setEnv(x, 'governor-2', { GOVERNOR_CLICKHOUSE_CLUSTER: 'other' })
    })
    expect(checkClusterName(s)).toContain(
      'clickhouse-s1-r1: remote_servers defines no cluster other (only governor_cluster), which GOVERNOR_CLICKHOUSE_CLUSTER of the collectors names',
    )
    const split = broken(stack, (x) => setEnv(x, 'governor-2', { GOVERNOR_CLICKHOUSE_CLUSTER: 'other' }))
    expect(checkClusterName(split)).toEqual(['the collectors name the clusters ["governor_cluster","other"]'])
  })

  it('the cluster renamed in remote_servers, or defined differently on one server', () => {
    const renamed = broken(stack, (x) => {
      at(xmlOf(x, CLUSTER_XML), 'remote_servers')!.children[0]!.name = 'governor'
    })
    expect(checkClusterName(renamed)).toHaveLength(4)
    const differs = broken(stack, (x) => {
      const c = at(forkXml(x, 'clickhouse-s2-r2', CLUSTER_XML), 'remote_servers', 'governor_cluster')!
      c.children.splice(
        c.children.findLastIndex((n) => n.name === 'shard'),
        1,
      )
    })
    expect(checkClusterName(differs)).toEqual(['the servers define cluster governor_cluster in 2 different ways'])
  })

  it('a missing replica, a third shard, internal replication off, a replica twice or on a wrong port', () => {
    const shards = () => kids(at(xmlOf(stack, CLUSTER_XML), 'remote_servers', 'governor_cluster'), 'shard')
    expect(
      checkShards(
        broken(stack, (x) => {
          kids(at(xmlOf(x, CLUSTER_XML), 'remote_servers', 'governor_cluster'), 'shard')[1]!.children.pop()
        }),
      ),
    ).toEqual([
      'shard 2 of governor_cluster has 1 replicas, not 2',
      'clickhouse-s2-r2 is listed 0 times in cluster governor_cluster',
    ])
    expect(
      checkShards(
        broken(stack, (x) => {
          at(xmlOf(x, CLUSTER_XML), 'remote_servers', 'governor_cluster')!.children.push(structuredClone(shards()[1]!))
        }),
      ),
    ).toEqual([
      'cluster governor_cluster has 3 shards, not 2',
      'clickhouse-s2-r1 is listed 2 times in cluster governor_cluster',
      'clickhouse-s2-r2 is listed 2 times in cluster governor_cluster',
    ])
    expect(
      checkShards(
        broken(stack, (x) => {
          kid(
            kids(at(xmlOf(x, CLUSTER_XML), 'remote_servers', 'governor_cluster'), 'shard')[0],
            'internal_replication',
          )!.text = 'false'
        }),
      ),
    ).toEqual([
      'shard 1 of governor_cluster: internal_replication is not true, so a Distributed insert would write every replica itself',
    ])
    expect(
      checkShards(
        broken(stack, (x) => {
          at(
            kids(at(xmlOf(x, CLUSTER_XML), 'remote_servers', 'governor_cluster'), 'shard')[0],
            'replica',
            'port',
          )!.text = '9440'
        }),
      ),
    ).toEqual(['shard 1 of governor_cluster: replica clickhouse-s1-r1:9440, a port clickhouse-s1-r1 does not expose'])
    expect(
      checkShards(
        broken(stack, (x) => {
          at(
            kids(at(xmlOf(x, CLUSTER_XML), 'remote_servers', 'governor_cluster'), 'shard')[0],
            'replica',
            'host',
          )!.text = 'clickhouse'
        }),
      ),
    ).toEqual([
      'shard 1 of governor_cluster: replica clickhouse is no ClickHouse server of the stack',
      'clickhouse-s1-r1 is listed 0 times in cluster governor_cluster',
    ])
  })

  it("two servers with one replica name, a server with the other shard's macro, a wrong interserver host, macros set twice", () => {
    const node = (x: Stack, server: string) =>
      xmlOf(x, `./deploy/cluster/clickhouse/node-${server.slice('clickhouse-'.length)}.xml`)
    expect(
      checkMacros(
        broken(stack, (x) => {
          at(node(x, 'clickhouse-s2-r1'), 'macros', 'replica')!.text = 'clickhouse-s1-r1'
        }),
      ),
    ).toEqual([
      'clickhouse-s2-r1 and clickhouse-s1-r1 share the replica name clickhouse-s1-r1: it must be unique across the cluster',
    ])
    expect(
      checkMacros(
        broken(stack, (x) => {
          at(node(x, 'clickhouse-s1-r2'), 'macros', 'replica')!.text = 'clickhouse-s1-r1'
        }),
      ),
    ).toEqual([
      'clickhouse-s1-r2 and clickhouse-s1-r1 have the same macros (shard 1, replica clickhouse-s1-r1)',
      'clickhouse-s1-r2 and clickhouse-s1-r1 share the replica name clickhouse-s1-r1: it must be unique across the cluster',
    ])
    expect(
      checkMacros(
        broken(stack, (x) => {
          at(node(x, 'clickhouse-s1-r2'), 'macros', 'shard')!.text = '2'
        }),
      ),
    ).toEqual([
      'clickhouse-s1-r1 and clickhouse-s1-r2 are one shard in remote_servers but their {shard} macros differ (1, 2)',
      'clickhouse-s1-r2 and clickhouse-s2-r1 are different shards in remote_servers but share the {shard} macro 2',
      'clickhouse-s1-r2 and clickhouse-s2-r2 are different shards in remote_servers but share the {shard} macro 2',
    ])
    expect(
      checkMacros(
        broken(stack, (x) => {
          at(node(x, 'clickhouse-s2-r2'), 'interserver_http_host')!.text = 'localhost'
        }),
      ),
    ).toEqual(['clickhouse-s2-r2: interserver_http_host is localhost, not its own name'])
    expect(
      checkMacros(
        broken(stack, (x) => {
          xmlOf(x, CLUSTER_XML).children.push(structuredClone(at(node(x, 'clickhouse-s1-r1'), 'macros')!))
        }),
      ),
    ).toEqual([
      'clickhouse-s1-r1: macros is set in ./deploy/cluster/clickhouse/cluster.xml and ./deploy/cluster/clickhouse/node-s1-r1.xml',
    ])
  })

  it('a keeper section on a wrong port, naming an unknown host, or leaving a keeper out', () => {
    const zk = (x: Stack) => kids(at(xmlOf(x, CLUSTER_XML), 'zookeeper'), 'node')
    const wrongPort = checkKeeperSection(
      broken(stack, (x) => {
        kid(zk(x)[0], 'port')!.text = '2181'
      }),
    )
    expect(wrongPort).toHaveLength(8)
    expect(wrongPort.slice(0, 2)).toEqual([
      'clickhouse-s1-r1: zookeeper node keeper-1:2181, but keeper-1 serves clients on 9181',
      'clickhouse-s1-r1: zookeeper node keeper-1:2181, a port keeper-1 does not expose',
    ])
    const unknown = checkKeeperSection(
      broken(stack, (x) => {
        kid(zk(x)[2], 'host')!.text = 'zookeeper'
      }),
    )
    expect(unknown.slice(0, 2)).toEqual([
      'clickhouse-s1-r1: zookeeper node zookeeper is no keeper service of the stack',
      'clickhouse-s1-r1: its zookeeper section leaves out keeper-3',
    ])
    const servedElsewhere = checkKeeperSection(
      broken(stack, (x) => {
        kid(at(xmlOf(x, './deploy/cluster/keeper/keeper-2.xml'), 'keeper_server'), 'tcp_port')!.text = '2181'
      }),
    )
    expect(servedElsewhere[0]).toBe(
      'clickhouse-s1-r1: zookeeper node keeper-2:9181, but keeper-2 serves clients on 2181',
    )
  })

  it('keepers with one server_id, different members, a member on a wrong port, an even ensemble', () => {
    const keeperXml = (x: Stack, n: number) => at(xmlOf(x, `./deploy/cluster/keeper/keeper-${n}.xml`), 'keeper_server')!
    expect(
      checkKeeperEnsemble(
        broken(stack, (x) => {
          kid(keeperXml(x, 3), 'server_id')!.text = '1'
        }),
      ),
    ).toEqual([
      'keeper-3 and keeper-1 have the same server_id 1',
      'keeper-3: raft_configuration names its server_id 1 keeper-1',
    ])
    expect(
      checkKeeperEnsemble(
        broken(stack, (x) => {
          at(keeperXml(x, 2), 'raft_configuration', 'server', 'port')!.text = '9444'
        }),
      ),
    ).toEqual([
      'the keepers list different raft_configuration members',
      'keeper-2: raft member keeper-1:9444, a port keeper-1 does not expose',
    ])
    expect(
      checkKeeperEnsemble(
        broken(stack, (x) => {
          delete x.compose.services['keeper-3']
        }),
      ),
    ).toEqual([
      '2 keepers: an ensemble needs an odd number (1, 3, 5)',
      'keeper-1: raft member keeper-3 is no keeper service of the stack',
      'keeper-2: raft member keeper-3 is no keeper service of the stack',
      '2 keeper services but 3 raft members',
    ])
  })

  it('a collector or Grafana with a password the servers do not have, a collector on no server of the cluster, secrets that differ', () => {
    expect(
      checkCredentials(broken(stack, (x) => setEnv(x, 'governor-2', { GOVERNOR_CLICKHOUSE_PASSWORD: 'typo' }))),
    ).toEqual(['governor-2: the password of ClickHouse user governor differs from the one clickhouse-s2-r1 has'])
    expect(
      checkCredentials(broken(stack, (x) => setEnv(x, 'grafana', { GRAFANA_CLICKHOUSE_PASSWORD: 'typo' }))),
    ).toEqual([
      './deploy/cluster/grafana-datasource.yaml: the password of ClickHouse user grafana differs from the one clickhouse-s1-r2 has',
    ])
    expect(
      checkCredentials(
        broken(stack, (x) => setEnv(x, 'clickhouse-s1-r1', { GOVERNOR_CLICKHOUSE_PASSWORD: undefined })),
      ),
    ).toEqual([
      "clickhouse-s1-r1: user governor's password comes from GOVERNOR_CLICKHOUSE_PASSWORD, which its environment does not set",
    ])
    expect(
      checkCredentials(broken(stack, (x) => setEnv(x, 'governor-1', { GOVERNOR_CLICKHOUSE_USER: 'default' }))),
    ).toEqual(['clickhouse-s1-r1: user default has no password in users.d'])
    expect(
      checkCredentials(broken(stack, (x) => setEnv(x, 'governor-1', { GOVERNOR_CLICKHOUSE_USER: 'admin' }))),
    ).toEqual(['clickhouse-s1-r1: user admin is defined 0 times in users.d'])
    expect(
      checkCredentials(
        broken(stack, (x) => setEnv(x, 'governor-1', { GOVERNOR_CLICKHOUSE_URL: 'http://clickhouse:8123' })),
      ),
    ).toEqual(['governor-1: GOVERNOR_CLICKHOUSE_URL names clickhouse, no ClickHouse server of the cluster'])
    expect(
      checkCredentials(broken(stack, (x) => setEnv(x, 'clickhouse-s2-r2', { CLICKHOUSE_CLUSTER_SECRET: 'other' }))),
    ).toEqual([
      'remote_servers.governor_cluster.secret is not one value set on every server',
      'interserver_http_credentials.password is not one value set on every server',
    ])
  })

  it('a proxy upstream that is not the two collectors on their port, a location passing elsewhere, a listen port not exposed', () => {
    const upstream = (x: Stack) => nginxAll(nginxConf(x), 'upstream')[0]!.block!
    expect(
      checkProxyUpstreams(
        broken(stack, (x) => {
          upstream(x).find((d) => d.name === 'server')!.args[0] = 'governor-1:8080'
        }),
      ),
    ).toEqual([
      'proxy: upstream governor is governor-1:8080, governor-2:4318, not the collectors governor-1:4318, governor-2:4318',
    ])
    expect(
      checkProxyUpstreams(
        broken(stack, (x) => {
          const b = upstream(x)
          b.splice(
            b.findIndex((d) => d.name === 'server'),
            1,
          )
        }),
      ),
    ).toEqual(['proxy: upstream governor is governor-2:4318, not the collectors governor-1:4318, governor-2:4318'])
    expect(checkProxyUpstreams(broken(stack, (x) => setEnv(x, 'governor-2', { GOVERNOR_PORT: '4319' })))).toEqual([
      'proxy: upstream governor is governor-1:4318, governor-2:4318, not the collectors governor-1:4318, governor-2:4319',
      'governor-2: listens on 4319 but does not expose it',
    ])
    expect(
      checkProxyUpstreams(
        broken(stack, (x) => {
          nginxOwn(location(x, '/').block, 'proxy_pass')!.args[0] = 'http://governor-1:4318'
        }),
      ),
    ).toEqual(['proxy: location / passes to http://governor-1:4318, not an upstream of the collectors'])
    expect(
      checkProxyUpstreams(
        broken(stack, (x) => {
          nginxAll(nginxConf(x), 'listen')[0]!.args[0] = '80'
        }),
      ),
    ).toEqual(['proxy: listens on 80 but does not expose it'])
  })

  it("a buffered knob stream, short stream timeouts, no stream location, a body limit under the collectors'", () => {
    const drop = (x: Stack, name: string) => {
      const b = location(x, STREAM_PATH).block!
      b.splice(
        b.findIndex((d) => d.name === name),
        1,
      )
    }
    expect(checkProxyStreams(broken(stack, (x) => drop(x, 'proxy_buffering')))).toEqual([
      `proxy: ${STREAM_PATH} is buffered (proxy_buffering off is needed for server-sent events)`,
    ])
    expect(
      checkProxyStreams(
        broken(stack, (x) => {
          nginxOwn(location(x, STREAM_PATH).block, 'proxy_read_timeout')!.args[0] = '60s'
        }),
      ),
    ).toEqual([`proxy: proxy_read_timeout of ${STREAM_PATH} is 60 s, under 300 s`])
    expect(checkProxyStreams(broken(stack, (x) => drop(x, 'proxy_send_timeout')))).toEqual([
      `proxy: proxy_send_timeout of ${STREAM_PATH} is 60 s, under 300 s`,
    ])
    // Without its own location the stream falls to `location /`: buffered, 120 s.
    expect(
      checkProxyStreams(
        broken(stack, (x) => {
          const server = nginxAll(nginxConf(x), 'server').find((d) => d.block !== undefined)!
          server.block = server.block!.filter((d) => !d.args.includes(STREAM_PATH))
        }),
      ),
    ).toEqual([
      `proxy: ${STREAM_PATH} is buffered (proxy_buffering off is needed for server-sent events)`,
      `proxy: proxy_read_timeout of ${STREAM_PATH} is 120 s, under 300 s`,
      `proxy: proxy_send_timeout of ${STREAM_PATH} is 60 s, under 300 s`,
    ])
    expect(
      checkProxyStreams(
        broken(stack, (x) => {
          nginxAll(nginxConf(x), 'client_max_body_size')[0]!.args[0] = '1m'
        }),
      ),
    ).toEqual([
      'proxy: client_max_body_size is 1048576 bytes, under the 20971520 the collectors take (GOVERNOR_MAX_BODY_BYTES)',
    ])
    expect(
      checkProxyStreams(
        broken(stack, (x) => setEnv(x, 'governor-1', { GOVERNOR_MAX_BODY_BYTES: String(64 * 1024 * 1024) })),
      ),
    ).toEqual([
      'proxy: client_max_body_size is 20971520 bytes, under the 67108864 the collectors take (GOVERNOR_MAX_BODY_BYTES)',
    ])
  })

  it("a collector environment Governor's settings refuse, or one not in cluster mode", () => {
    expect(
      checkCollectorSettings(broken(stack, (x) => setEnv(x, 'governor-1', { GOVERNOR_CLICKHOUSE_URL: '' }))),
    ).toEqual([
      expect.stringContaining(
        'GOVERNOR_CLICKHOUSE_CLUSTER="governor_cluster": a cluster needs a ClickHouse server: set GOVERNOR_CLICKHOUSE_URL',
      ),
    ])
    expect(
      checkCollectorSettings(
        broken(stack, (x) => setEnv(x, 'governor-2', { GOVERNOR_CLICKHOUSE_CLUSTER: 'governor-cluster' })),
      ),
    ).toEqual([
      expect.stringContaining(
        'GOVERNOR_CLICKHOUSE_CLUSTER="governor-cluster": expected letters, digits and underscores',
      ),
    ])
    expect(
      checkCollectorSettings(broken(stack, (x) => setEnv(x, 'governor-2', { GOVERNOR_TOKENS: 'ops=operate:short' }))),
    ).toEqual([expect.stringContaining('GOVERNOR_TOKENS entry 1 ("ops")')])
    expect(
      checkCollectorSettings(
        broken(stack, (x) =>
          setEnv(x, 'governor-1', { GOVERNOR_CLICKHOUSE_CLUSTER: undefined, GOVERNOR_CLUSTER: 'governor_cluster' }),
        ),
      ),
    ).toEqual([
      'governor-1: GOVERNOR_CLUSTER is no setting of Governor',
      'governor-1: not in cluster mode (GOVERNOR_CLICKHOUSE_CLUSTER unset)',
    ])
  })

  it('a collector that starts before a server, a server before the keepers, the proxy before a collector', () => {
    const withoutDep = (x: Stack, service: string, dep: string) => {
      const deps = { ...(svc(x, service).depends_on as Record<string, { condition?: string }>) }
      delete deps[dep]
      x.compose.services[service] = { ...svc(x, service), depends_on: deps }
    }
    expect(checkStartOrder(broken(stack, (x) => withoutDep(x, 'governor-2', 'clickhouse-s2-r2')))).toEqual([
      'governor-2 does not wait for clickhouse-s2-r2 to be healthy (every server, since migrations run ON CLUSTER)',
    ])
    expect(checkStartOrder(broken(stack, (x) => withoutDep(x, 'clickhouse-s1-r2', 'keeper-3')))).toEqual([
      'clickhouse-s1-r2 does not wait for keeper-3 to be healthy (the keeper, which it needs to start its replicated tables)',
    ])
    expect(checkStartOrder(broken(stack, (x) => withoutDep(x, 'proxy', 'governor-1')))).toEqual([
      'proxy does not wait for governor-1 to be healthy (the collectors it sends requests to)',
    ])
  })
})

describe('the small parsers of this test', () => {
  it('read XML elements, attributes, entities and comments, and refuse broken XML', () => {
    const doc = parseXml(
      '<?xml version="1.0"?>\n<!-- c <x> -->\n<a k="v &amp; w"><b>one</b><b/><c x=\'1\'>t &lt; u</c></a>',
    )
    expect(doc.attrs).toEqual({ k: 'v & w' })
    expect(kids(doc, 'b').map((b) => b.text)).toEqual(['one', ''])
    expect(at(doc, 'c')!.text).toBe('t < u')
    expect(() => parseXml('<a><b></a>')).toThrow('</a> closes <b>')
    expect(() => parseXml('<a>')).toThrow('<a> is not closed')
    expect(() => parseXml('<a></a><b></b>')).toThrow('one root element')
  })

  it('read nginx directives, blocks, quotes and comments, and refuse unbalanced braces', () => {
    const conf = parseNginx('# top\nhttp { server { listen 80; # port\n location = /x { add_header X "a;b"; } } }')
    expect(nginxAll(conf, 'listen')[0]!.args).toEqual(['80'])
    expect(nginxAll(conf, 'location')[0]!.args).toEqual(['=', '/x'])
    expect(nginxAll(conf, 'add_header')[0]!.args).toEqual(['X', 'a;b'])
    expect(() => parseNginx('http { listen 80;')).toThrow('unexpected end of file')
    expect(() => parseNginx('listen 80; }')).toThrow('unexpected }')
    expect([
      nginxSeconds('1h'),
      nginxSeconds('120s'),
      nginxSeconds('90'),
      nginxBytes('20m'),
      nginxBytes('64k'),
    ]).toEqual([3600, 120, 90, 20 * 1024 * 1024, 65536])
  })
})
