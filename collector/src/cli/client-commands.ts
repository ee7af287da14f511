import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

/**
 * The commands CI pipelines and people run against a running Governor. Exit codes a script
 * can rely on: 0 done, 1 the server refused (its message is printed), 2 the command line is
 * wrong, 3 the server could not be reached, 4 the deploy gate denied the deploy (`gate`).
 */
export const EXIT = { OK: 0, REFUSED: 1, USAGE: 2, UNREACHABLE: 3, DENIED: 4 } as const

export const CLIENT_USAGE = `  deploy          Record a deploy:
                    governor deploy --service api --version 1.4.2 --actor alice
                      (--actor is optional with a token: the token's name is recorded)
                      [--environment production] [--commit SHA] [--repo-url URL] [--description TEXT]
                      [--deploy-url URL] [--started-at TIME] [--finished-at TIME] [--status TEXT]
                      [--id KEY] [--plan FILE.json]
  deploys last    The last deploy of every service [--service NAME] [--environment NAME]
  events search   Search the change log: governor events search "redis timeout" [--service NAME] [--kind KIND] [--limit N]
  gate            May a deploy go out? governor gate --service api [--version 1.4.2] [--actor alice]
                      [--environment production] [--require-slo] [--override "why it must go out"]
                    exits 0 when allowed, 4 when denied: an SLO has its error budget spent (a
                    rollback to an earlier --version passes), an SLO cannot be evaluated, the
                    service is unknown (a typo?), or with --require-slo no SLO with data guards it.
                    --override (a deploy or operate token, or --actor) lets it out and records who and why.

Options of every client command:
  --url URL       Governor's address (default $GOVERNOR_URL or http://127.0.0.1:4318)
  --token TOKEN   Bearer token (default $GOVERNOR_TOKEN)
  --json          Print the server's JSON answer instead of lines`

/** The options of every client command (also of `knobs` in @governor/cli). */
export const COMMON = {
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const

/** A wrong command line: printed, exit 2. */
export class UsageError extends Error {}

export interface Out {
  stdout: (s: string) => void
  stderr: (s: string) => void
}
export type Fetch = typeof fetch

/** Runs `deploy`, `deploys last`, `events search` or `gate`; resolves to the exit code. */
export async function runClientCommand(
  argv: string[],
  env: NodeJS.ProcessEnv,
  out: Out,
  fetchFn: Fetch = fetch,
): Promise<number> {
  try {
    const [command, sub] = argv
    if (command === 'deploy') return await deploy(argv.slice(1), env, out, fetchFn)
    if (command === 'deploys' && sub === 'last') return await deploysLast(argv.slice(2), env, out, fetchFn)
    if (command === 'events' && sub === 'search') return await eventsSearch(argv.slice(2), env, out, fetchFn)
    if (command === 'gate') return await gate(argv.slice(1), env, out, fetchFn)
    throw new UsageError(`unknown command ${JSON.stringify(argv.slice(0, 2).join(' '))}`)
  } catch (err) {
    if (err instanceof UsageError || (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      out.stderr(`governor: ${(err as Error).message}\n`)
      return EXIT.USAGE
    }
    throw err
  }
}

async function deploy(args: string[], env: NodeJS.ProcessEnv, out: Out, fetchFn: Fetch): Promise<number> {
  const { values: v } = parseArgs({
    args,
    strict: true,
    options: {
      ...COMMON,
      service: { type: 'string' },
      version: { type: 'string' },
      actor: { type: 'string' },
      environment: { type: 'string' },
      commit: { type: 'string' },
      'repo-url': { type: 'string' },
      description: { type: 'string' },
      'deploy-url': { type: 'string' },
      'started-at': { type: 'string' },
      'finished-at': { type: 'string' },
      status: { type: 'string' },
      id: { type: 'string' },
      plan: { type: 'string' },
    },
  })
  // With a token the server records the token's name as the actor, so --actor may be left out.
  const required =
    (v.token ?? env.GOVERNOR_TOKEN) ? (['service', 'version'] as const) : (['service', 'version', 'actor'] as const)
  const missing = required.filter((k) => !v[k])
  if (missing.length > 0) throw new UsageError(`deploy needs ${missing.map((m) => `--${m}`).join(', ')}`)
  let plan: unknown
  if (v.plan !== undefined) {
    try {
      plan = JSON.parse(readFileSync(v.plan, 'utf8'))
    } catch (err) {
      throw new UsageError(`--plan ${v.plan}: ${(err as Error).message}`)
    }
  }
  const body = {
    service: v.service,
    version: v.version,
    actor: v.actor,
    environment: v.environment,
    commit: v.commit,
    repo_url: v['repo-url'],
    description: v.description,
    url: v['deploy-url'],
    started_at: v['started-at'],
    finished_at: v['finished-at'],
    status: v.status,
    id: v.id,
    plan,
  }
  const res = await call(fetchFn, env, v, 'POST', '/api/v1/deploys', body, out)
  if (res === undefined) return EXIT.UNREACHABLE
  if (!res.ok) return refused(res, out)
  const d = res.body as {
    id: string
    service: string
    version: string
    environment: string
    rollback: boolean
    created?: boolean
  }
  // A retry of a recorded deploy (same --id) records nothing new: 200 and created: false.
  const again = d.created === false || (d.created === undefined && res.status === 200)
  const what = `${d.rollback ? 'rollback' : 'deploy'} ${d.service} ${d.version} to ${d.environment} (id ${d.id})`
  out.stdout(v.json ? `${JSON.stringify(d)}\n` : again ? `already recorded: ${what}\n` : `recorded ${what}\n`)
  return EXIT.OK
}

async function deploysLast(args: string[], env: NodeJS.ProcessEnv, out: Out, fetchFn: Fetch): Promise<number> {
  const { values: v } = parseArgs({
    args,
    strict: true,
    options: { ...COMMON, service: { type: 'string' }, environment: { type: 'string' } },
  })
  const q = new URLSearchParams()
  if (v.service) q.set('service', v.service)
  if (v.environment) q.set('environment', v.environment)
  const res = await call(fetchFn, env, v, 'GET', `/api/v1/deploys/last?${q}`, undefined, out)
  if (res === undefined) return EXIT.UNREACHABLE
  if (!res.ok) return refused(res, out)
  const { deploys } = res.body as {
    deploys: { service: string; environment: string; version: string; actor: string; finished_at: string }[]
  }
  if (v.json) out.stdout(`${JSON.stringify(deploys)}\n`)
  else
    for (const d of deploys) out.stdout(`${d.service}\t${d.environment}\t${d.version}\t${d.actor}\t${d.finished_at}\n`)
  return EXIT.OK
}

async function eventsSearch(args: string[], env: NodeJS.ProcessEnv, out: Out, fetchFn: Fetch): Promise<number> {
  const { values: v, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: { ...COMMON, service: { type: 'string' }, kind: { type: 'string' }, limit: { type: 'string' } },
  })
  const q = new URLSearchParams({ q: positionals.join(' ') })
  for (const k of ['service', 'kind', 'limit'] as const) if (v[k]) q.set(k, v[k])
  const res = await call(fetchFn, env, v, 'GET', `/api/v1/events?${q}`, undefined, out)
  if (res === undefined) return EXIT.UNREACHABLE
  if (!res.ok) return refused(res, out)
  const { events } = res.body as { events: { time: string; kind: string; service: string; title: string }[] }
  if (v.json) out.stdout(`${JSON.stringify(events)}\n`)
  else for (const e of events) out.stdout(`${e.time}\t${e.kind}\t${e.service || '-'}\t${e.title}\n`)
  return EXIT.OK
}

/** `GET /api/v1/gate`: exit 0 when the deploy may go out, 4 (printing why) when not. */
async function gate(args: string[], env: NodeJS.ProcessEnv, out: Out, fetchFn: Fetch): Promise<number> {
  const { values: v } = parseArgs({
    args,
    strict: true,
    options: {
      ...COMMON,
      service: { type: 'string' },
      version: { type: 'string' },
      actor: { type: 'string' },
      environment: { type: 'string' },
      'require-slo': { type: 'boolean', default: false },
      override: { type: 'string' },
    },
  })
  if (!v.service) throw new UsageError('gate needs --service')
  if (v.override !== undefined && v.override.trim() === '') throw new UsageError('--override needs a reason')
  const q = new URLSearchParams({ service: v.service })
  for (const k of ['version', 'actor', 'environment', 'override'] as const) if (v[k]) q.set(k, v[k])
  if (v['require-slo']) q.set('require_slo', '1')
  const res = await call(fetchFn, env, v, 'GET', `/api/v1/gate?${q}`, undefined, out)
  if (res === undefined) return EXIT.UNREACHABLE
  if (!res.ok) return refused(res, out)
  const d = res.body as { allowed: boolean; service: string; outcome: string; reasons: string[]; warnings: string[] }
  const lines = (prefix: string, list: string[]) => list.map((r) => `  ${prefix}${r}\n`).join('')
  if (v.json) out.stdout(`${JSON.stringify(d)}\n`)
  else if (d.allowed)
    out.stdout(
      `deploy of ${d.service} ${d.outcome === 'overridden' ? 'allowed by override' : 'allowed'}\n${lines('warning: ', d.warnings)}`,
    )
  else out.stdout(`deploy of ${d.service} denied:\n${lines('', d.reasons)}${lines('warning: ', d.warnings)}`)
  return d.allowed ? EXIT.OK : EXIT.DENIED
}

export interface Answer {
  ok: boolean
  status: number
  body: unknown
}

/** One request; undefined (after saying why) when the server cannot be reached. */
export async function call(
  fetchFn: Fetch,
  env: NodeJS.ProcessEnv,
  v: { url?: string | undefined; token?: string | undefined },
  method: string,
  path: string,
  body: unknown,
  out: Out,
): Promise<Answer | undefined> {
  const base = (v.url ?? env.GOVERNOR_URL ?? 'http://127.0.0.1:4318').replace(/\/+$/, '')
  const token = v.token ?? env.GOVERNOR_TOKEN
  const headers: Record<string, string> = {}
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (token) headers.authorization = `Bearer ${token}`
  let res: Response
  try {
    res = await fetchFn(`${base}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    })
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause
    out.stderr(
      `governor: cannot reach Governor at ${base}: ${cause?.code ?? cause?.message ?? (err as Error).message}. Is it running? Set --url or GOVERNOR_URL.\n`,
    )
    return undefined
  }
  const text = await res.text()
  let parsed: unknown = text
  try {
    parsed = JSON.parse(text)
  } catch {
    /* not JSON: keep the text */
  }
  return { ok: res.ok, status: res.status, body: parsed }
}

/** Prints the server's error and returns EXIT.REFUSED. */
export function refused(res: Answer, out: Out): number {
  const err = (res.body as { error?: { code?: string; message?: string } }).error
  out.stderr(`governor: the server answered ${res.status}: ${err ? `${err.code}: ${err.message}` : String(res.body)}\n`)
  return EXIT.REFUSED
}
