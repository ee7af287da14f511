import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { READ } from '../auth/roles.ts'
import { isGovernorError } from '../errors.ts'
import { PromqlEngine } from '../promql/engine.ts'
import { isPromqlError, PromqlError, type PromqlErrorType } from '../promql/errors.ts'
import type { LabelMatcher, Querier } from '../promql/querier.ts'
import { parsePromql } from '../promql/parse.ts'
import { vectorSelectors } from '../promql/vector-selectors.ts'
import { ClickHouseQuerier } from '../store/clickhouse-querier.ts'
import { readExemplars } from '../store/exemplar-reads.ts'
import {
  MAX_TIME,
  MIN_TIME,
  param,
  paramList,
  parseDuration,
  parseLimit,
  parseSelector,
  parseTime,
} from './prometheus-params.ts'

/** What the evaluator answers: Prometheus' `data` of a query, and any warnings. */
export interface QueryData {
  readonly resultType: string
  readonly result: unknown
  readonly warnings?: readonly string[]
}

/** The PromQL evaluator as the API calls it (see promql/engine.ts). */
export interface QueryEngine {
  instantQuery(query: string, timeMillis: number, signal?: AbortSignal): Promise<QueryData>
  rangeQuery(
    query: string,
    startMillis: number,
    endMillis: number,
    stepMillis: number,
    signal?: AbortSignal,
  ): Promise<QueryData>
}

export interface PrometheusApiOptions {
  /** The evaluator of `query` and `query_range`; by default a PromqlEngine over `querier`, limits from the settings. */
  engine?: QueryEngine
  /** Series, label names and values; by default the store's (ClickHouseQuerier). */
  querier?: Querier
  /** The clock of default times (`time`, `end`): Date.now unless a test drives it. */
  now?: () => number
}

/** Prometheus' limit on the points of one series in a range query. */
export const MAX_POINTS_PER_SERIES = 11_000

/** The version Grafana reads to know what the data source speaks. */
const BUILD_INFO = {
  version: '3.0.0',
  revision: 'governor',
  branch: 'main',
  buildUser: 'governor',
  buildDate: '',
  goVersion: '',
}

const STATUS: Readonly<Record<PromqlErrorType | 'unavailable' | 'not_found', number>> = {
  bad_data: 400,
  execution: 422,
  timeout: 503,
  canceled: 499,
  internal: 500,
  unavailable: 503,
  not_found: 404,
}

type Params = Record<string, unknown>

/**
 * The Prometheus HTTP API (register under `/prometheus/api/v1`): what Grafana's Prometheus data
 * source, alerting and autoscaling tools call. Answers `{status: "success", data, warnings?}`
 * or `{status: "error", errorType, error}` with Prometheus' status codes. Every route takes GET
 * and, as Grafana sends them by default, form-encoded POST.
 */
export async function prometheusRoutes(app: FastifyInstance, opts: PrometheusApiOptions): Promise<void> {
  const { store, settings, readGate, queries } = app.governor
  const querier = opts.querier ?? new ClickHouseQuerier(store)
  const now = opts.now ?? Date.now
  const engine =
    opts.engine ??
    new PromqlEngine(querier, {
      lookbackDeltaMillis: settings.promqlLookbackDeltaMillis,
      maxSamples: settings.promqlMaxSamples,
      maxSeries: settings.promqlMaxSeries,
      timeoutMillis: settings.promqlTimeoutMillis,
    })

  // Form bodies in this scope only: `a=1&match[]=x&match[]=y`, repeated keys as arrays.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    const out: Params = {}
    for (const [k, v] of new URLSearchParams(body as string)) {
      const prev = out[k]
      out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v]
    }
    done(null, out)
  })
  app.setErrorHandler((err: FastifyError, req, reply) => sendError(err, req, reply))

  const route = (
    path: string,
    handler: (p: Params, signal: AbortSignal) => Promise<unknown>,
    readsPoints = true,
  ): void => {
    const h = async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
      const p: Params = {
        ...(req.query as Params),
        ...(typeof req.body === 'object' && req.body !== null ? (req.body as Params) : {}),
      }
      const abort = new AbortController()
      const onClose = (): void => {
        if (!reply.sent) abort.abort()
      }
      req.raw.once('close', onClose)
      try {
        const data = await handler(p, abort.signal)
        return success(data)
      } finally {
        req.raw.off('close', onClose)
      }
    }
    const config = { config: { roles: READ, readsPoints } }
    app.get(path, config, h)
    app.post(path, config, h)
  }

  route('/query', async (p, signal) => {
    const query = required(p, 'query')
    const time = parseTime(param(p, 'time'), 'time', now())
    return readGate.run(() =>
      withTimeout(p, settings.promqlTimeoutMillis, signal, (s) => engine.instantQuery(query, time, s)),
    )
  })

  route('/query_range', async (p, signal) => {
    const query = required(p, 'query')
    const start = parseTime(required(p, 'start'), 'start', 0)
    const end = parseTime(required(p, 'end'), 'end', 0)
    if (end < start)
      throw new PromqlError('bad_data', 'invalid parameter "end": end timestamp must not be before start time')
    const step = parseDuration(required(p, 'step'), 'step')
    if (step <= 0)
      throw new PromqlError(
        'bad_data',
        'invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer',
      )
    if ((end - start) / step > MAX_POINTS_PER_SERIES)
      throw new PromqlError(
        'bad_data',
        'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)',
      )
    return readGate.run(() =>
      withTimeout(p, settings.promqlTimeoutMillis, signal, (s) => engine.rangeQuery(query, start, end, step, s)),
    )
  })

  const matcherSets = (p: Params, required: boolean): LabelMatcher[][] => {
    const list = paramList(p, 'match[]')
    if (required && list.length === 0) throw new PromqlError('bad_data', 'no match[] parameter provided')
    return list.map(parseSelector)
  }
  const range = (p: Params): [number, number] => [
    parseTime(param(p, 'start'), 'start', MIN_TIME),
    parseTime(param(p, 'end'), 'end', MAX_TIME),
  ]

  route('/series', async (p) => {
    const sets = matcherSets(p, true)
    const [start, end] = range(p)
    return querier.series(sets, start, end, parseLimit(param(p, 'limit')))
  })
  route('/labels', async (p) => {
    const [start, end] = range(p)
    return querier.labelNames(matcherSets(p, false), start, end, parseLimit(param(p, 'limit')))
  })
  app.get<{ Params: { name: string } }>(
    '/label/:name/values',
    { config: { roles: READ, readsPoints: true } },
    async (req) => {
      const p = req.query as Params
      let name = req.params.name
      // Prometheus 3: a name that is not a valid label name comes as U__ with _XX_ hex escapes.
      if (name.startsWith('U__'))
        name = name.slice(3).replace(/_([0-9a-fA-F]+)_/g, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
      else if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name))
        throw new PromqlError('bad_data', `invalid label name: "${name}"`)
      const [start, end] = range(p)
      return success(await querier.labelValues(name, matcherSets(p, false), start, end, parseLimit(param(p, 'limit'))))
    },
  )
  route('/metadata', async (p) => queries.metadata(param(p, 'metric'), parseLimit(param(p, 'limit'))), false)
  // As Prometheus: the exemplars of every series the query's selectors select, not of the
  // expression's result (`rate(x[5m]) / 2` gives x's exemplars).
  route('/query_exemplars', async (p, signal) => {
    const selectors = vectorSelectors(parsePromql(required(p, 'query')))
    const [start, end] = range(p)
    if (end < start)
      throw new PromqlError('bad_data', 'invalid parameter "end": end timestamp must not be before start time')
    return readGate.run(() =>
      withTimeout(p, settings.promqlTimeoutMillis, signal, (s) =>
        readExemplars(
          store.client,
          store.db,
          selectors.map((v) => v.matchers),
          start,
          end,
          {
            maxSeries: settings.promqlMaxSeries,
            tooMany: () =>
              new PromqlError(
                'execution',
                `the query's selectors match more than ${settings.promqlMaxSeries} series (GOVERNOR_PROMQL_MAX_SERIES)`,
              ),
            signal: s,
          },
        ),
      ),
    )
  })
  route('/status/buildinfo', async () => BUILD_INFO, false)
  route(
    '/status/runtimeinfo',
    async () => ({
      startTime: new Date(now() - process.uptime() * 1000).toISOString(),
      CWD: '',
      reloadConfigSuccess: true,
      lastConfigTime: '',
      corruptionCount: 0,
      goroutineCount: 0,
      GOMAXPROCS: 0,
      GOGC: '',
      GODEBUG: '',
      storageRetention: `${settings.retentionDays}d`,
    }),
    false,
  )
  route(
    '/status/flags',
    async () => ({
      'query.lookback-delta': `${settings.promqlLookbackDeltaMillis / 1000}s`,
      'query.max-samples': String(settings.promqlMaxSamples),
      'query.timeout': `${settings.promqlTimeoutMillis / 1000}s`,
    }),
    false,
  )
  // Grafana asks for rules and alerts in Explore and the alerting views: there are none here.
  route('/rules', async () => ({ groups: [] }), false)
  route('/alerts', async () => ({ alerts: [] }), false)
}

/** Runs `fn` with a signal that aborts on the client's disconnect or at the timeout (the setting's, or a shorter `timeout` parameter). */
async function withTimeout<T>(
  p: Params,
  maxMillis: number,
  signal: AbortSignal,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const t = param(p, 'timeout')
  const millis = t === undefined ? maxMillis : Math.min(maxMillis, parseDuration(t, 'timeout'))
  const timeout = AbortSignal.timeout(millis)
  const both = AbortSignal.any([signal, timeout])
  try {
    return await fn(both)
  } catch (err) {
    if (timeout.aborted && !isPromqlError(err))
      throw new PromqlError('timeout', `query timed out in expression evaluation (after ${millis} ms)`)
    if (signal.aborted && !isPromqlError(err))
      throw new PromqlError('canceled', 'query was canceled in expression evaluation')
    throw err
  }
}

function required(p: Params, name: string): string {
  const v = param(p, name)
  if (v === undefined || v === '') throw new PromqlError('bad_data', `invalid parameter "${name}": missing`)
  return v
}

/** Prometheus' success envelope; the engine's warnings move up beside `data`. */
function success(data: unknown): unknown {
  if (typeof data === 'object' && data !== null && 'resultType' in data) {
    const { warnings, ...rest } = data as QueryData
    return warnings !== undefined && warnings.length > 0
      ? { status: 'success', data: rest, warnings }
      : { status: 'success', data: rest }
  }
  return { status: 'success', data }
}

function sendError(err: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  let errorType: keyof typeof STATUS
  let status: number
  if (isPromqlError(err)) {
    errorType = err.errorType
    status = STATUS[errorType]
  } else if (isGovernorError(err)) {
    status = err.statusCode
    errorType = status === 503 ? 'unavailable' : status === 404 ? 'not_found' : status >= 500 ? 'internal' : 'bad_data'
    if (status === 503) reply.header('retry-after', '1')
  } else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    status = 413
    errorType = 'bad_data'
    return reply.code(status).send({
      status: 'error',
      errorType,
      error: `the body is over ${req.routeOptions.bodyLimit ?? 'the'} bytes (GOVERNOR_MAX_API_BODY_BYTES)`,
    })
  } else if (err.statusCode !== undefined && err.statusCode < 500) {
    status = err.statusCode
    errorType = 'bad_data'
  } else {
    req.log.error({ err }, 'PromQL request failed')
    const storeError = typeof (err as { type?: unknown }).type === 'string' && /^\d+$/.test(String(err.code))
    status = storeError ? 503 : 500
    errorType = storeError ? 'unavailable' : 'internal'
    return reply.code(status).send({
      status: 'error',
      errorType,
      error: storeError ? 'the store refused the operation; retry later' : 'internal error',
    })
  }
  return reply.code(status).send({ status: 'error', errorType, error: err.message })
}
