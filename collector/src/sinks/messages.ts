import { eventJson, iso } from '../changelog/change-log.ts'
import type { ChangeEvent } from '../changelog/types.ts'
import { DEPLOY_KIND } from '../changelog/types.ts'
import type { SinkConfig } from './sink-config.ts'
import { signWebhook, webhookId } from './signature.ts'

/** One HTTP request of a delivery attempt. */
export interface SinkRequest {
  headers: Record<string, string>
  body: string
}

const USER_AGENT = 'Governor-Webhooks/0.1'
/** Longest description or text quoted in a chat line. */
const MAX_QUOTE_CHARS = 200

const EMOJI: Record<string, string> = {
  incident: ':rotating_light:',
  alert: ':warning:',
  note: ':memo:',
  config: ':gear:',
  knob: ':control_knobs:',
  analysis: ':mag:',
  slo: ':dart:',
  controller: ':robot_face:',
}

/**
 * The request of one attempt to deliver `event` to `sink`: Slack-compatible `{"text"}` for a
 * chat sink, a signed Standard Webhooks message for a webhook sink. `nowMillis` stamps the
 * attempt (`webhook-timestamp` changes on every retry; `webhook-id` does not).
 */
export function buildRequest(sink: SinkConfig, event: ChangeEvent, nowMillis: number): SinkRequest {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': USER_AGENT }
  if (sink.type === 'slack') return { headers, body: JSON.stringify({ text: slackText(event) }) }
  const id = webhookId(sink.name, event.id)
  const timestamp = Math.floor(nowMillis / 1000)
  const body = webhookBody(event)
  headers['webhook-id'] = id
  headers['webhook-timestamp'] = String(timestamp)
  if (sink.key !== undefined) headers['webhook-signature'] = signWebhook(sink.key, id, timestamp, body)
  return { headers, body }
}

/** The JSON body of a webhook: `{type: "governor.<kind>", timestamp, data: <the event as the API shows it>}`. */
export function webhookBody(event: ChangeEvent): string {
  // Event types are dot-delimited identifiers of [A-Za-z0-9_] (Standard Webhooks); kinds are free text.
  const kind = event.kind.replace(/[^A-Za-z0-9_]/g, '_')
  return JSON.stringify({ type: `governor.${kind}`, timestamp: iso(event.time), data: eventJson(event) })
}

/**
 * One readable chat line. A deploy says who deployed what where, with its commit, the
 * first line of its description and a link:
 * `:rocket: alice deployed checkout 1.4.2 to production (9f2c1e0) — faster cart totals <url|details>`.
 * Other kinds give the kind, the service, the title and the text.
 */
export function slackText(event: ChangeEvent): string {
  if (event.kind === DEPLOY_KIND) return deployLine(event)
  return event.kind === 'analysis' && isImpactReport(event.data) ? impactLine(event, event.data) : eventLine(event)
}

/** What an `analysis` event's data holds when it is a deploy's impact report (see impact/types.ts). */
interface ImpactData {
  deploy_id: string
  service: string
  version: string
  environment: string
  summary: string
  verdict?: string
  metrics: { verdict: string }[]
  hints?: unknown
}

function isImpactReport(d: Record<string, unknown>): d is Record<string, unknown> & ImpactData {
  return typeof d.deploy_id === 'string' && typeof d.summary === 'string' && Array.isArray(d.metrics)
}

const VERDICT_EMOJI: Record<string, string> = {
  worse: ':red_circle:',
  better: ':large_green_circle:',
  unchanged: ':white_circle:',
  not_enough_data: ':grey_question:',
}
const VERDICT_ORDER = ['worse', 'better', 'unchanged']

/**
 * A deploy's impact, verdict first, so that a channel reads what a deploy did:
 * `:red_circle: impact of checkout 1.4.2 in production: worse — p99 latency worse by 52 %.
 * Hint: … consider turning off cart_cache`. The verdict is one of worse, better, unchanged,
 * not enough data.
 */
function impactLine(e: ChangeEvent, r: ImpactData): string {
  const verdict =
    typeof r.verdict === 'string'
      ? r.verdict
      : (VERDICT_ORDER.find((v) => r.metrics.some((m) => m.verdict === v)) ?? 'not_enough_data')
  const head = `${r.service} ${r.version}`
  const what = r.summary.startsWith(`${head}: `) ? r.summary.slice(head.length + 2) : r.summary
  const where = r.environment !== '' ? ` in ${escape(r.environment)}` : ''
  let line = `${VERDICT_EMOJI[verdict] ?? EMOJI.analysis} impact of ${escape(head)}${where}: *${escape(verdict.replace(/_/g, ' '))}* — ${quote(what)}`
  const hint = Array.isArray(r.hints) && typeof r.hints[0] === 'string' ? r.hints[0] : ''
  if (hint !== '') line += `. Hint: ${quote(hint)}`
  const url = httpUrl((e.data as { url?: unknown }).url)
  if (url !== undefined) line += ` ${link(url, 'details')}`
  return line
}

function deployLine(e: ChangeEvent): string {
  const d = e.data as { commit?: unknown; repo_url?: unknown; url?: unknown; status?: unknown; rollback?: unknown }
  const status = typeof d.status === 'string' ? d.status : ''
  const failed = /fail|error|abort|cancel/i.test(status)
  const emoji = failed ? ':x:' : d.rollback === true ? ':rewind:' : ':rocket:'
  let line = `${emoji} ${escape(e.title)}`
  const url = httpUrl(d.url)
  const commit = typeof d.commit === 'string' ? d.commit : ''
  if (commit !== '') {
    const short = /^[0-9a-f]{8,64}$/i.test(commit) ? commit.slice(0, 7) : commit
    const repo = httpUrl(d.repo_url)
    // Without a deploy page the commit itself is the link.
    line +=
      url === undefined && repo !== undefined
        ? ` (${link(`${repo.replace(/\/+$/, '')}/commit/${encodeURIComponent(commit)}`, short)})`
        : ` (${escape(short)})`
  }
  if (status !== '' && status !== 'succeeded') line += ` [${escape(status)}]`
  const description = quote(e.text)
  if (description !== '') line += ` — ${description}`
  if (url !== undefined) line += ` ${link(url, 'details')}`
  return line
}

function eventLine(e: ChangeEvent): string {
  const emoji = EMOJI[e.kind] ?? ':information_source:'
  const where =
    e.service !== ''
      ? ` on ${escape(e.service)}${e.environment !== '' ? ` (${escape(e.environment)})` : ''}`
      : e.environment !== ''
        ? ` in ${escape(e.environment)}`
        : ''
  let line = `${emoji} ${escape(e.kind)}${where}: ${escape(e.title)}`
  const text = quote(e.text)
  if (text !== '') line += ` — ${text}`
  if (e.actor !== '') line += ` (${escape(e.actor)})`
  const url = httpUrl((e.data as { url?: unknown }).url)
  if (url !== undefined) line += ` ${link(url, 'details')}`
  return line
}

/** The first line of a text, shortened, escaped. */
function quote(text: string): string {
  const first = text.trim().split('\n', 1)[0]?.trim() ?? ''
  return escape(first.length > MAX_QUOTE_CHARS ? `${first.slice(0, MAX_QUOTE_CHARS - 1)}…` : first)
}

/** Slack mrkdwn control characters, escaped as Slack asks. */
function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/** Only http(s) links are shown: a `javascript:` URL from a client never reaches a chat. */
function httpUrl(v: unknown): string | undefined {
  return typeof v === 'string' && /^https?:\/\/[^\s]+$/i.test(v) ? v : undefined
}

function link(url: string, label: string): string {
  return `<${url.replace(/\|/g, '%7C').replace(/>/g, '%3E').replace(/</g, '%3C')}|${escape(label)}>`
}
