import { existsSync, readFileSync, statSync } from 'node:fs'
import { isAbsolute, join } from 'node:path'
import { parse } from 'yaml'

/**
 * Static checks of a docker compose file, for machines where Docker does not run: every
 * image pinned, every mounted host file present, every `depends_on` a service, and every
 * address one service uses to reach another (in its environment, command, or the text files
 * mounted into it) naming that service and a port it exposes. `checkCompose` runs them all;
 * each check is exported for files that need only some.
 */

/** The parts of a compose file the checks read. */
export interface ComposeFile {
  services: Record<string, ComposeService>
  volumes?: Record<string, unknown> | null
}

/** The parts of a compose service the checks read. */
export interface ComposeService {
  image?: string
  build?: string | { context?: string; dockerfile?: string }
  environment?: Record<string, string | number | boolean | null> | string[]
  command?: string | string[]
  entrypoint?: string | string[]
  volumes?: (string | { type?: string; source?: string; target?: string })[]
  depends_on?: string[] | Record<string, { condition?: string }>
  ports?: (string | number | { target?: number })[]
  expose?: (string | number)[]
  healthcheck?: unknown
}

/** Parses a compose file's text; throws when it is not YAML or has no `services` map. */
export function parseCompose(text: string): ComposeFile {
  const doc = parse(text) as unknown
  if (
    typeof doc !== 'object' ||
    doc === null ||
    typeof (doc as ComposeFile).services !== 'object' ||
    (doc as ComposeFile).services === null
  ) {
    throw new Error('not a compose file: no services map')
  }
  return doc as ComposeFile
}

/** Every problem of the compose file `compose`, whose relative paths start at `root`. */
export function checkCompose(compose: ComposeFile, root: string): string[] {
  return [
    ...checkImagesPinned(compose),
    ...checkBuilds(compose, root),
    ...checkMounts(compose, root),
    ...checkDependsOn(compose),
    ...checkAddresses(compose, root),
  ]
}

/**
 * Why an image reference is not pinned to a version, or undefined when it is: a digest, or a
 * tag other than `latest` (or a moving name such as `stable`, `lts`, `main`) that holds a digit.
 */
export function imageProblem(image: string): string | undefined {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return undefined
  const slash = image.lastIndexOf('/')
  const colon = image.lastIndexOf(':')
  if (colon <= slash) return `image ${image} has no tag: pin a version`
  const tag = image.slice(colon + 1)
  if (/^(latest|stable|lts|main|master|edge|nightly|current)$/i.test(tag))
    return `image ${image} uses the moving tag ${tag}: pin a version`
  if (!/\d/.test(tag)) return `image ${image}: tag ${tag} names no version`
  return undefined
}

/** Every service has an image pinned to a version, or is built here (`build`). */
export function checkImagesPinned(compose: ComposeFile): string[] {
  return Object.entries(compose.services).flatMap(([name, s]) => {
    if (s.build !== undefined) return []
    if (s.image === undefined) return [`${name}: neither image nor build`]
    const problem = imageProblem(s.image)
    return problem === undefined ? [] : [`${name}: ${problem}`]
  })
}

/** The build context (and its Dockerfile) of every built service exists. */
export function checkBuilds(compose: ComposeFile, root: string): string[] {
  return Object.entries(compose.services).flatMap(([name, s]) => {
    if (s.build === undefined) return []
    const context = join(root, typeof s.build === 'string' ? s.build : (s.build.context ?? '.'))
    const dockerfile = join(context, typeof s.build === 'string' ? 'Dockerfile' : (s.build.dockerfile ?? 'Dockerfile'))
    if (!existsSync(context)) return [`${name}: build context ${context} does not exist`]
    return existsSync(dockerfile) ? [] : [`${name}: ${dockerfile} does not exist`]
  })
}

/** A mount of a service: a host path (bind) or a named volume, and where it goes. */
export interface Mount {
  kind: 'bind' | 'volume'
  source: string
  target: string
}

/** The mounts of a service, short and long syntax. */
export function mountsOf(s: ComposeService): Mount[] {
  return (s.volumes ?? []).map((v): Mount => {
    if (typeof v !== 'string')
      return { kind: v.type === 'bind' ? 'bind' : 'volume', source: v.source ?? '', target: v.target ?? '' }
    const [source = '', target = ''] = v.split(':')
    const bind = source.startsWith('.') || source.startsWith('/') || source.startsWith('~')
    return { kind: bind ? 'bind' : 'volume', source, target }
  })
}

/** Every bind-mounted host path exists; every named volume is declared at the top level. */
export function checkMounts(compose: ComposeFile, root: string): string[] {
  const declared = new Set(Object.keys(compose.volumes ?? {}))
  return Object.entries(compose.services).flatMap(([name, s]) =>
    mountsOf(s).flatMap((m) => {
      if (m.kind === 'volume')
        return declared.has(m.source) ? [] : [`${name}: volume ${m.source} is not declared under volumes`]
      const path = isAbsolute(m.source) ? m.source : join(root, m.source)
      return existsSync(path) ? [] : [`${name}: mounted ${m.source} does not exist`]
    }),
  )
}

const CONDITIONS = new Set(['service_started', 'service_healthy', 'service_completed_successfully'])

/** Every `depends_on` names another service, with a known condition; `service_healthy` needs a healthcheck. */
export function checkDependsOn(compose: ComposeFile): string[] {
  return Object.entries(compose.services).flatMap(([name, s]) => {
    const deps = Array.isArray(s.depends_on)
      ? s.depends_on.map((d) => [d, {}] as const)
      : Object.entries(s.depends_on ?? {})
    return deps.flatMap(([dep, opts]) => {
      const target = compose.services[dep]
      if (target === undefined) return [`${name}: depends_on ${dep}, which is no service`]
      if (dep === name) return [`${name}: depends on itself`]
      const condition = (opts as { condition?: string }).condition
      if (condition !== undefined && !CONDITIONS.has(condition))
        return [`${name}: depends_on ${dep} with unknown condition ${condition}`]
      if (condition === 'service_healthy' && target.healthcheck === undefined)
        return [`${name}: waits for ${dep} to be healthy, but ${dep} has no healthcheck`]
      return []
    })
  })
}

/** The container ports a service listens on, from `expose` and the container side of `ports`. */
export function containerPorts(s: ComposeService): Set<number> {
  const out = new Set<number>()
  for (const e of s.expose ?? []) out.add(Number(String(e).split('/')[0]))
  for (const p of s.ports ?? []) {
    if (typeof p === 'object') {
      if (p.target !== undefined) out.add(p.target)
      continue
    }
    const last = String(p).split(':').at(-1) ?? ''
    out.add(Number(last.split('/')[0]))
  }
  return out
}

/** An address of one service in another's configuration: `host:port`, port from the scheme when absent. */
export interface Address {
  host: string
  port: number
  text: string
}

const DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443, tcp: 0 }

/** The addresses in `text` that name one of `hosts`: `scheme://host[:port]` and bare `host:port`. */
export function addressesIn(text: string, hosts: ReadonlySet<string>): Address[] {
  const out: Address[] = []
  for (const m of text.matchAll(/(?:([a-z][a-z0-9+.-]*):\/\/)?(?:[^\s/@'"]+@)?([A-Za-z0-9_.-]+)(?::(\d{1,5}))?/g)) {
    const [whole, scheme, host = '', port] = m
    if (!hosts.has(host)) continue
    if (port !== undefined) out.push({ host, port: Number(port), text: whole })
    else if (scheme !== undefined && DEFAULT_PORTS[scheme] !== undefined)
      out.push({ host, port: DEFAULT_PORTS[scheme]!, text: whole })
  }
  return out
}

/** The text a service is configured with: environment, command, entrypoint and mounted text files. */
export function configTexts(s: ComposeService, root: string): { where: string; text: string }[] {
  const env = Array.isArray(s.environment)
    ? s.environment
    : Object.entries(s.environment ?? {}).map(([k, v]) => `${k}=${v ?? ''}`)
  const out = env.map((e) => ({ where: `environment ${e.split('=')[0]}`, text: e.slice(e.indexOf('=') + 1) }))
  for (const key of ['command', 'entrypoint'] as const) {
    const v = s[key]
    if (v !== undefined) out.push({ where: key, text: Array.isArray(v) ? v.join(' ') : v })
  }
  for (const m of mountsOf(s)) {
    if (m.kind !== 'bind' || !/\.(ya?ml|json|xml|conf|ini|toml|env)$/.test(m.source)) continue
    const path = isAbsolute(m.source) ? m.source : join(root, m.source)
    if (existsSync(path) && statSync(path).isFile()) out.push({ where: m.source, text: readFileSync(path, 'utf8') })
  }
  return out
}

/**
 * Every address that names a service uses a port that service exposes; a Grafana data
 * source's `jsonData.host`/`port` pair counts as one (the ClickHouse plugin's form).
 */
export function checkAddresses(compose: ComposeFile, root: string): string[] {
  const hosts = new Set(Object.keys(compose.services))
  return Object.entries(compose.services).flatMap(([name, s]) =>
    configTexts(s, root).flatMap(({ where, text }) => {
      const found = addressesIn(text, hosts)
      for (const ds of grafanaDatasourceHosts(where, text)) if (hosts.has(ds.host)) found.push(ds)
      return found.flatMap((a) => {
        if (a.host === name) return []
        const ports = containerPorts(compose.services[a.host]!)
        return ports.has(a.port)
          ? []
          : [
              `${name}: ${where} reaches ${a.text} but ${a.host} exposes ${ports.size === 0 ? 'no port' : [...ports].join(', ')}`,
            ]
      })
    }),
  )
}

/** `jsonData.host` and `jsonData.port` of the data sources in a Grafana provisioning file. */
export function grafanaDatasourceHosts(where: string, text: string): Address[] {
  if (!/\.ya?ml$/.test(where)) return []
  let doc: { datasources?: { jsonData?: { host?: unknown; port?: unknown } }[] } | undefined
  try {
    doc = parse(text) as typeof doc
  } catch {
    return []
  }
  return (doc?.datasources ?? []).flatMap((d) => {
    const { host, port } = d.jsonData ?? {}
    return typeof host === 'string' && port !== undefined ? [{ host, port: Number(port), text: `${host}:${port}` }] : []
  })
}

/**
 * A value as compose interpolates it: `${VAR}`, `${VAR:-default}` and `${VAR-default}` from
 * `env`, `$$` a literal `$`. `${VAR:?message}` throws when VAR is unset or empty.
 */
export function interpolate(value: string, env: Record<string, string | undefined> = {}): string {
  return value.replace(
    /\$\$|\$\{(\w+)(?:(:?)([-?])([^}]*))?\}|\$(\w+)/g,
    (m, name?: string, colon?: string, op?: string, arg?: string, bare?: string) => {
      if (m === '$$') return '$'
      const key = (name ?? bare) as string
      const v = env[key]
      const missing = v === undefined || (colon === ':' && v === '')
      if (op === '?' && missing) throw new Error(`${key}: ${arg || 'required'}`)
      if (op === '-' && missing) return arg ?? ''
      return v ?? ''
    },
  )
}

/** A service's environment as a map, interpolated with `env`. */
export function environmentOf(s: ComposeService, env: Record<string, string | undefined> = {}): Record<string, string> {
  const entries = Array.isArray(s.environment)
    ? s.environment.map(
        (e) =>
          [
            e.slice(0, e.indexOf('=') < 0 ? e.length : e.indexOf('=')),
            e.includes('=') ? e.slice(e.indexOf('=') + 1) : '',
          ] as const,
      )
    : Object.entries(s.environment ?? {}).map(([k, v]) => [k, v === null ? '' : String(v)] as const)
  return Object.fromEntries(entries.map(([k, v]) => [k, interpolate(v, env)]))
}
