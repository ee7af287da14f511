import { readFileSync } from 'node:fs'
import type { ChangeEvent } from '../changelog/types.ts'
import { GovernorError } from '../errors.ts'
import type { Settings } from '../settings.ts'
import { forbiddenLiteralHost } from './guarded-fetch.ts'
import { parseWebhookSecret } from './signature.ts'

/** Where change-log events go: a Slack-compatible chat webhook or a signed JSON webhook. */
export type SinkType = 'slack' | 'webhook'

/** One configured sink, validated. */
export interface SinkConfig {
  /** Unique name; part of every delivery's key, so renaming a sink starts it afresh. */
  name: string
  type: SinkType
  url: string
  /** HMAC key of a `webhook` sink: the base64-decoded part of its `whsec_` secret. */
  key: Buffer | undefined
  /** Kinds this sink receives; undefined: every kind. */
  kinds: readonly string[] | undefined
  /** Services this sink receives; undefined: every service. */
  services: readonly string[] | undefined
}

const FIELDS = new Set(['name', 'type', 'url', 'secret', 'kinds', 'services'])
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/

/**
 * Reads the sinks of GOVERNOR_SINKS and GOVERNOR_SINKS_FILE (both may be set). Throws
 * GOV_ERR_SETTINGS_INVALID naming the setting, the sink and every problem found, and, unless
 * `webhookAllowPrivate` is 1, every sink whose URL names a private, loopback, link-local or
 * metadata address (or localhost) literally.
 */
export function loadSinks(
  settings: Pick<Settings, 'sinks' | 'sinksFile'> & Partial<Pick<Settings, 'webhookAllowPrivate'>>,
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): SinkConfig[] {
  const sinks: SinkConfig[] = []
  if (settings.sinks.trim() !== '') sinks.push(...parseSinks(settings.sinks, 'GOVERNOR_SINKS'))
  if (settings.sinksFile !== '') {
    const source = `GOVERNOR_SINKS_FILE=${JSON.stringify(settings.sinksFile)}`
    let text: string
    try {
      text = readFile(settings.sinksFile)
    } catch (err) {
      throw new GovernorError('GOV_ERR_SETTINGS_INVALID', `${source}: cannot read the file: ${(err as Error).message}`)
    }
    sinks.push(...parseSinks(text, source))
  }
  const seen = new Set<string>()
  for (const s of sinks) {
    if (seen.has(s.name))
      throw new GovernorError(
        'GOV_ERR_SETTINGS_INVALID',
        `sink "${s.name}" is configured twice (GOVERNOR_SINKS and GOVERNOR_SINKS_FILE): names must be unique`,
      )
    seen.add(s.name)
  }
  if (settings.webhookAllowPrivate !== 1) {
    // Names are checked again at each send, against what they resolve to (guarded-fetch).
    const refused = sinks.flatMap((s) => {
      const why = forbiddenLiteralHost(s.url)
      return why === undefined ? [] : [`sink "${s.name}": url ${redactUrl(s.url)}: ${why}`]
    })
    if (refused.length > 0) {
      throw new GovernorError(
        'GOV_ERR_SETTINGS_INVALID',
        `${refused.join('; ')}: sinks may not reach private, loopback, link-local or metadata addresses (set GOVERNOR_WEBHOOK_ALLOW_PRIVATE=1 to allow them)`,
      )
    }
  }
  return sinks
}

/** Parses a JSON array of sinks; `source` names where it came from in every error. */
export function parseSinks(text: string, source: string): SinkConfig[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new GovernorError('GOV_ERR_SETTINGS_INVALID', `${source}: not valid JSON: ${(err as Error).message}`)
  }
  if (!Array.isArray(parsed))
    throw new GovernorError(
      'GOV_ERR_SETTINGS_INVALID',
      `${source}: expected a JSON array of sinks ({ name, type, url, secret?, kinds?, services? })`,
    )
  const problems: string[] = []
  const sinks: SinkConfig[] = []
  const names = new Set<string>()
  parsed.forEach((raw: unknown, i) => {
    const label =
      typeof (raw as { name?: unknown } | null)?.name === 'string'
        ? `sink "${(raw as { name: string }).name}"`
        : `sink #${i + 1}`
    const own: string[] = []
    const sink = parseSink(raw, own)
    if (sink !== undefined && names.has(sink.name)) own.push('name is used by an earlier sink')
    if (own.length > 0) problems.push(`${label}: ${own.join(', ')}`)
    else if (sink !== undefined) {
      sinks.push(sink)
      names.add(sink.name)
    }
  })
  if (problems.length > 0) throw new GovernorError('GOV_ERR_SETTINGS_INVALID', `${source}: ${problems.join('; ')}`)
  return sinks
}

function parseSink(raw: unknown, problems: string[]): SinkConfig | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problems.push('expected an object { name, type, url, secret?, kinds?, services? }')
    return undefined
  }
  const o = raw as Record<string, unknown>
  for (const k of Object.keys(o)) if (!FIELDS.has(k)) problems.push(`unknown field "${k}"`)
  const name = typeof o.name === 'string' ? o.name : ''
  if (!NAME.test(name)) problems.push('name is required: 1 to 64 letters, digits, ".", "_" or "-"')
  const type = o.type
  if (type !== 'slack' && type !== 'webhook')
    problems.push(`type must be "slack" or "webhook", got ${JSON.stringify(type)}`)
  const url = typeof o.url === 'string' ? o.url : ''
  let parsedUrl: URL | undefined
  try {
    parsedUrl = new URL(url)
  } catch {
    /* reported below */
  }
  if (parsedUrl === undefined || (parsedUrl.protocol !== 'http:' && parsedUrl.protocol !== 'https:')) {
    problems.push(
      o.url === undefined
        ? 'url is required'
        : `url ${JSON.stringify(redactUrl(url))} is not an absolute http or https URL`,
    )
  }
  let key: Buffer | undefined
  if (o.secret !== undefined) {
    if (type === 'slack') problems.push('secret applies to webhook sinks only (a Slack URL carries its own token)')
    else if (typeof o.secret !== 'string') problems.push('secret must be a string "whsec_<base64>"')
    else {
      try {
        key = parseWebhookSecret(o.secret)
      } catch (err) {
        problems.push((err as Error).message)
      }
    }
  } else if (type === 'webhook') {
    problems.push(
      'secret is required for a webhook sink: "whsec_" and at least 24 random bytes in base64 (e.g. `echo whsec_$(openssl rand -base64 32)`)',
    )
  }
  const kinds = names(o.kinds, 'kinds', problems)
  const services = names(o.services, 'services', problems)
  if (problems.length > 0) return undefined
  return { name, type: type as SinkType, url, key, kinds, services }
}

function names(v: unknown, field: string, problems: string[]): string[] | undefined {
  if (v === undefined) return undefined
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && x !== '')) {
    problems.push(`${field} must be an array of non-empty strings`)
    return undefined
  }
  if (v.length === 0) {
    problems.push(`${field} is empty, so nothing would be sent: leave it out to receive every one`)
    return undefined
  }
  return v as string[]
}

/** True when the sink takes this event: its kind and its service pass the sink's filters. */
export function sinkAccepts(
  sink: Pick<SinkConfig, 'kinds' | 'services'>,
  event: Pick<ChangeEvent, 'kind' | 'service'>,
): boolean {
  return (
    (sink.kinds === undefined || sink.kinds.includes(event.kind)) &&
    (sink.services === undefined || sink.services.includes(event.service))
  )
}

// Path segments shown as they are: the fixed words of common webhook URLs. Any other
// segment is hidden, however short or plain it looks: a path secret can be a word too.
const SHOWN_SEGMENTS = new Set([
  'api',
  'hooks',
  'hook',
  'services',
  'webhook',
  'webhooks',
  'incoming',
  'v1',
  'v2',
  'v3',
  'workflows',
  'triggers',
  'chat',
  'notify',
  'events',
])

/**
 * A URL safe to show and log: user info, query values and every path segment but the
 * fixed words of webhook URLs are replaced by `***`, since chat webhook URLs carry their token in the path.
 */
export function redactUrl(url: string): string {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return '***'
  }
  const auth = u.username !== '' || u.password !== '' ? '***@' : ''
  const path = u.pathname
    .split('/')
    .map((s) => (s === '' || SHOWN_SEGMENTS.has(s.toLowerCase()) ? s : '***'))
    .join('/')
  const query = [...u.searchParams.keys()].map((k) => `${encodeURIComponent(k)}=***`).join('&')
  return `${u.protocol}//${auth}${u.host}${path}${query !== '' ? `?${query}` : ''}`
}
