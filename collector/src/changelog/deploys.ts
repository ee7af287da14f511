import { actorWithToken } from '../auth/actor.ts'
import type { ChangeLog, NewEvent } from './change-log.ts'
import { iso } from './change-log.ts'
import type { ChangeEvent, Deploy, DeployPlan } from './types.ts'
import { DEPLOY_KIND } from './types.ts'
import { BodyReader, MAX_TEXT_CHARS } from './validate.ts'

/**
 * Reads a `POST /api/v1/deploys` body into a change event; throws a 400 naming every problem.
 * With a token (`tokenName`), `actor` is optional and the token's name is part of the actor.
 */
export function deployFromBody(body: unknown, now: number, tokenName?: string): NewEvent {
  const r = new BodyReader(body, now)
  const service = r.required('service')
  const version = r.required('version')
  const actor = actorOf(r, tokenName)
  const environment = r.optional('environment', 'production')
  // Only a start given: a point in time (a backfilled deploy must not reach until now and
  // cut the impact windows of the deploys after it). Neither: now.
  const given = (body as Record<string, unknown>).started_at
  const startedRaw = r.time('started_at', now)
  const finished = r.time('finished_at', given === undefined || given === null || given === '' ? now : startedRaw)
  const started = given === undefined || given === null || given === '' ? finished : startedRaw
  const description = r.optional('description', '', MAX_TEXT_CHARS)
  const data = {
    commit: r.optional('commit'),
    repo_url: r.optional('repo_url'),
    url: r.optional('url'),
    status: r.optional('status', 'succeeded'),
    rollback: false,
    plan: r.plan('plan'),
  }
  const id = r.optional('id')
  r.done()
  return {
    id: id === '' ? undefined : id,
    kind: DEPLOY_KIND,
    time: Math.min(started, finished),
    timeEnd: finished,
    service,
    environment,
    actor,
    title: `${actor} deployed ${service} ${version} to ${environment}`,
    text: description,
    tags: [],
    version,
    data,
  }
}

/**
 * Stores a deploy. A deploy whose version equals an earlier one of the same service and
 * environment, other than the version it replaces, is a rollback (redeploying the live
 * version is not).
 */
export async function recordDeploy(
  log: ChangeLog,
  deploy: NewEvent,
): Promise<{ event: ChangeEvent; created: boolean }> {
  return log.append(deploy, async (e) => {
    const earlier = (await log.deploysUntil([e.service], e.time + 1)).filter(
      (d) => d.environment === e.environment && d.id !== e.id,
    )
    const previous = earlier.at(-1)
    const rollback =
      previous !== undefined && previous.version !== e.version && earlier.some((d) => d.version === e.version)
    if (rollback) {
      e.data.rollback = true
      e.tags = ['rollback']
      e.title = `${e.actor} rolled ${e.service} back to ${e.version} in ${e.environment}`
    }
  })
}

/** A deploy event as the deploys API shows it. */
export function deployJson(e: ChangeEvent): Deploy {
  const d = e.data as {
    commit?: string
    repo_url?: string
    url?: string
    status?: string
    rollback?: boolean
    plan?: DeployPlan | null
  }
  return {
    id: e.id,
    service: e.service,
    version: e.version,
    actor: e.actor,
    environment: e.environment,
    commit: d.commit ?? '',
    repo_url: d.repo_url ?? '',
    description: e.text,
    url: d.url ?? '',
    started_at: iso(e.time),
    finished_at: iso(e.timeEnd),
    status: d.status ?? '',
    rollback: d.rollback === true,
    plan: d.plan ?? null,
    recorded_at: iso(e.recordedAt),
  }
}

/** Reads a `POST /api/v1/events` body; `tokenName` as for deploys. */
export function eventFromBody(body: unknown, now: number, tokenName?: string): NewEvent {
  const r = new BodyReader(body, now)
  const kind = r.required('kind')
  const title = r.required('title')
  const actor = actorOf(r, tokenName)
  const service = r.optional('service')
  const environment = r.optional('environment')
  const text = r.optional('text', '', MAX_TEXT_CHARS)
  const tags = r.tags('tags')
  const time = r.time('time', now)
  const timeEnd = r.time('time_end', time)
  const id = r.optional('id')
  r.done()
  return {
    id: id === '' ? undefined : id,
    kind,
    time,
    timeEnd: Math.max(time, timeEnd),
    service,
    environment,
    actor,
    title,
    text,
    tags,
    version: '',
    data: {},
  }
}

/** The body's actor, required in open mode; with a token, see `actorWithToken`. */
function actorOf(r: BodyReader, tokenName: string | undefined): string {
  return tokenName === undefined ? r.required('actor') : actorWithToken(r.optional('actor'), tokenName)
}
