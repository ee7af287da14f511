import type { FastifyInstance } from 'fastify'
import type { Dashboard, Panel } from '@grafana/grafana-foundation-sdk/dashboard'
import { expandPromMacros, type PromMacroContext, type VariableValue } from './promql-macros.ts'

/** One PromQL query of a panel of a generated dashboard. */
export interface PanelTarget {
  dashboard: string
  panel: string
  type: string
  refId: string
  expr: string
  legend: string
  instant: boolean
}

/** Every query of every panel (rows left out) of `d`. */
export function panelTargets(d: Dashboard): PanelTarget[] {
  return (d.panels ?? [])
    .filter((p): p is Panel => p.type !== 'row')
    .flatMap((p) =>
      (p.targets ?? []).map((t) => {
        const q = t as { expr?: string; refId?: string; legendFormat?: string; instant?: boolean }
        if (q.expr === undefined) throw new Error(`${d.title} / ${p.title}: a target without expr`)
        return {
          dashboard: d.title ?? '',
          panel: p.title ?? '',
          type: p.type,
          refId: q.refId ?? '',
          expr: q.expr,
          legend: q.legendFormat ?? '',
          instant: q.instant === true,
        }
      }),
    )
}

/** The queries of the panel titled `title` in `d`, in refId order. */
export function targetsOf(d: Dashboard, title: string): PanelTarget[] {
  const found = panelTargets(d).filter((t) => t.panel === title)
  if (found.length === 0) throw new Error(`${d.title}: no panel ${title}`)
  return found
}

/** A Prometheus API answer. */
export interface PromAnswer<T = unknown> {
  status: string
  data: T
  errorType?: string
  error?: string
  warnings?: string[]
}

/** A series of a range query: its labels and `[seconds, "value"]` points. */
export interface MatrixSeries {
  metric: Record<string, string>
  values: [number, string][]
}

/** A series of an instant query. */
export interface VectorSample {
  metric: Record<string, string>
  value: [number, string]
}

/** Sends `params` form-encoded by POST, as the data source does with `httpMethod: POST`; expects 200. */
export async function promPost<T>(
  app: FastifyInstance,
  path: string,
  params: Record<string, string>,
): Promise<PromAnswer<T>> {
  const res = await app.inject({
    method: 'POST',
    url: `/prometheus/api/v1/${path}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(params).toString(),
  })
  if (res.statusCode !== 200) throw new Error(`${path} ${JSON.stringify(params)}: ${res.statusCode} ${res.body}`)
  return res.json() as PromAnswer<T>
}

/**
 * The step Grafana sends for a range query (the interval, whole seconds) and the range it
 * sends, both ends aligned down to a multiple of the step (`alignTimeRange`).
 */
export function alignedRange(ctx: PromMacroContext): { start: number; end: number; step: number } {
  const step = Math.max(Math.floor(ctx.intervalMillis / 1000), 1)
  const align = (ms: number) => Math.floor(ms / 1000 / step) * step
  return { start: align(ctx.fromMillis), end: align(ctx.toMillis), step }
}

/** Runs a range query as the data source sends it, macros and variables expanded. */
export async function runRange(
  app: FastifyInstance,
  expr: string,
  ctx: PromMacroContext,
): Promise<PromAnswer<{ resultType: string; result: MatrixSeries[] }>> {
  const { start, end, step } = alignedRange(ctx)
  return promPost(app, 'query_range', {
    query: expandPromMacros(expr, ctx),
    start: String(start),
    end: String(end),
    step: String(step),
  })
}

/** Runs an instant query at the end of the range, as a table panel's instant query is sent. */
export async function runInstant(
  app: FastifyInstance,
  expr: string,
  ctx: PromMacroContext,
): Promise<PromAnswer<{ resultType: string; result: VectorSample[] }>> {
  return promPost(app, 'query', { query: expandPromMacros(expr, ctx), time: String(ctx.toMillis / 1000) })
}

/**
 * A query variable's options as the data source finds them: `label_values(label)` and
 * `label_values(selector, label)` ask `label/<label>/values` (with `match[]`) over the range,
 * then the variable's regex keeps the values it matches (its first group when it has one).
 */
export async function variableOptions(
  app: FastifyInstance,
  query: string,
  regex: string | undefined,
  ctx: PromMacroContext,
): Promise<string[]> {
  const m = /^label_values\((?:(.+),\s*)?(\w+)\)$/.exec(query)
  if (m === null) throw new Error(`not a label_values query: ${query}`)
  const [, selector, label] = m
  const params = new URLSearchParams({
    start: String(Math.floor(ctx.fromMillis / 1000)),
    end: String(Math.floor(ctx.toMillis / 1000)),
  })
  if (selector !== undefined) params.append('match[]', expandPromMacros(selector, ctx))
  const res = await app.inject({ method: 'GET', url: `/prometheus/api/v1/label/${label}/values?${params}` })
  if (res.statusCode !== 200) throw new Error(`label values ${query}: ${res.statusCode} ${res.body}`)
  const values = (res.json() as PromAnswer<string[]>).data
  if (regex === undefined || regex === '') return values
  const re = new RegExp(regex.slice(1, regex.lastIndexOf('/')), regex.slice(regex.lastIndexOf('/') + 1))
  return values.flatMap((v) => {
    const found = re.exec(v)
    return found === null ? [] : [found[1] ?? found[0]]
  })
}

/** `{{label}}` of a legend, title or text format filled from `labels` (a missing label gives nothing). */
export function renderFormat(format: string, labels: Record<string, string>): string {
  return format.replace(/\{\{\s*(\w+)\s*\}\}/g, (_m, name: string) => labels[name] ?? '')
}

/** An annotation as the data source makes it from a series: its time, title, text and tags. */
export interface AnnotationEvent {
  time: number
  title: string
  text: string
  tags: string[]
}

/**
 * The annotations of a Prometheus annotation query, as the data source's `processEvents` makes
 * them (value-as-time off): each step of a series with a non-zero value marks the event, with
 * title and text formatted from the series' labels and tags from the values of `tagKeys`.
 */
export function annotationEvents(
  series: MatrixSeries[],
  anno: { titleFormat?: string; textFormat?: string; tagKeys?: string },
): AnnotationEvent[] {
  const tagKeys = (anno.tagKeys ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '')
  return series.flatMap((s) =>
    s.values
      .filter(([, v]) => Number(v) !== 0)
      .map(([t]) => ({
        time: t * 1000,
        title: renderFormat(anno.titleFormat ?? '', s.metric),
        text: renderFormat(anno.textFormat ?? '', s.metric),
        tags: tagKeys.map((k) => s.metric[k]).filter((v): v is string => v !== undefined && v !== ''),
      })),
  )
}

/** The macro context of a dashboard: its variables with `values`, interpolated as its templating says (multi, include-all, allValue). */
export function dashboardContext(
  d: Dashboard,
  values: Record<string, string[] | 'All'>,
  over: Omit<PromMacroContext, 'variables'>,
): PromMacroContext {
  const variables: Record<string, VariableValue> = {}
  for (const v of d.templating?.list ?? []) {
    const chosen = values[v.name]
    if (chosen === undefined) continue
    const regex = v.multi === true || v.includeAll === true
    variables[v.name] = chosen === 'All' ? { values: [], regex, all: v.allValue ?? '.*' } : { values: chosen, regex }
  }
  return { ...over, variables }
}
