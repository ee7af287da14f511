import { createClient, type ClickHouseClient } from '@clickhouse/client'
import { GovernorError, isGovernorError } from '../errors.ts'
import { checkReadOnlySelect, FORBIDDEN_FUNCTIONS, SAFE_TABLE_FUNCTIONS } from './sql-guard.ts'

/** The limits every query of `POST /api/v1/sql` runs under. */
export interface SqlLimits {
  /** Longest a query may run (ClickHouse `max_execution_time`). */
  maxExecutionMillis: number
  /** Most rows an answer may hold (`max_result_rows`, `result_overflow_mode = 'throw'`). */
  maxResultRows: number
  /** Most memory a query may use (`max_memory_usage`). */
  maxMemoryBytes: number
  /** Most bytes an answer may hold, uncompressed as the store counts them (`max_result_bytes`). */
  maxResultBytes: number
}

export interface SqlResult {
  columns: { name: string; type: string }[]
  rows: unknown[][]
}

export interface ReadOnlySqlOptions {
  limits: SqlLimits
  /**
   * The embedded engine (chDB) leaks the output a query wrote before it failed into the next
   * answer of the same session. With this set, queries run one at a time and a failed one is
   * followed by a throw-away query that takes the leftovers.
   */
  drainAfterError: boolean
  /** Queries that may wait for their turn (drainAfterError only); more are refused with 503. */
  maxWaiting?: number
}

/** ClickHouse error codes of a query stopped by one of its limits. */
const TIME_CODES = new Set(['159', '160']) // TIMEOUT_EXCEEDED, TOO_SLOW
const SIZE_CODES = new Set(['158', '307', '396']) // TOO_MANY_ROWS, TOO_MANY_BYTES, TOO_MANY_ROWS_OR_BYTES
const MEMORY_CODES = new Set(['241']) // MEMORY_LIMIT_EXCEEDED
const READONLY_CODE = '164' // READONLY

/**
 * Runs developers' SELECTs against the store, read-only and bounded:
 *
 *   text ──checkReadOnlySelect──▶ one SELECT, no forbidden function, no SETTINGS/FORMAT/INTO
 *        ──wrap──▶ SELECT * FROM (<query>) SETTINGS <limits>, readonly = 1
 *
 * The limits go into the query's own SETTINGS clause, not the client's settings: chDB turns
 * those into `SET` statements that would stay on its session (one `SET readonly = 1` there
 * and the store could never write again). `readonly` comes last, after the settings it would
 * otherwise forbid changing. The wrapping subquery makes anything but a single SELECT a
 * syntax error even if the check missed it.
 */
export class ReadOnlySql {
  readonly #client: ClickHouseClient
  readonly #limits: SqlLimits
  readonly #serial: boolean
  readonly #maxWaiting: number
  #tail: Promise<unknown> = Promise.resolve()
  /** Queries running or waiting for their turn. */
  #pending = 0
  #forbidden: Promise<ReadonlySet<string>> | undefined

  constructor(client: ClickHouseClient, options: ReadOnlySqlOptions) {
    this.#client = client
    this.#limits = options.limits
    this.#serial = options.drainAfterError
    this.#maxWaiting = options.maxWaiting ?? 16
  }

  /** Checks and runs one query; throws a GovernorError naming the problem. */
  async run(sql: string): Promise<SqlResult> {
    const inner = checkReadOnlySelect(sql, await this.#forbiddenFunctions())
    if (!this.#serial) return this.#execute(inner)
    // One runs, up to maxWaiting wait behind it.
    if (this.#pending > this.#maxWaiting) {
      throw new GovernorError(
        'GOV_ERR_SQL_BUSY',
        `${this.#pending - 1} SQL queries are already waiting for the store: retry later`,
      )
    }
    this.#pending++
    const run = async () => {
      try {
        return await this.#execute(inner)
      } catch (err) {
        await this.#drain()
        throw err
      } finally {
        this.#pending--
      }
    }
    const result = this.#tail.then(run, run)
    this.#tail = result.catch(() => undefined)
    return result
  }

  async #execute(inner: string): Promise<SqlResult> {
    const query = wrapReadOnly(inner, this.#limits)
    try {
      const rs = await this.#client.query({ query, format: 'JSONCompact' })
      const body = await rs.json<unknown[]>()
      return { columns: (body.meta ?? []).map((m) => ({ name: m.name, type: m.type })), rows: body.data }
    } catch (err) {
      throw this.#explain(err)
    }
  }

  /** Reads and drops whatever a failed query left in the session's output. */
  async #drain(): Promise<void> {
    try {
      await (await this.#client.query({ query: 'SELECT 1', format: 'JSONCompact' })).text()
    } catch {
      // Nothing to drain, or the store is down: the next query says so.
    }
  }

  /** Every table function of the engine but the safe ones, and the functions refused by name. */
  #forbiddenFunctions(): Promise<ReadonlySet<string>> {
    this.#forbidden ??= (async () => {
      const rs = await this.#client.query({
        query: 'SELECT name FROM system.table_functions',
        format: 'JSONCompactEachRow',
      })
      const names = (await rs.json<[string]>())
        .map(([n]) => n.toLowerCase())
        .filter((n) => !SAFE_TABLE_FUNCTIONS.has(n))
      return new Set([...FORBIDDEN_FUNCTIONS, ...names])
    })().catch(() => {
      this.#forbidden = undefined // try again next time; the fixed list holds meanwhile
      return FORBIDDEN_FUNCTIONS
    })
    return this.#forbidden
  }

  #explain(err: unknown): GovernorError {
    if (isGovernorError(err)) return err
    const code = (err as { code?: unknown } | null)?.code
    const message = err instanceof Error ? err.message.trim() : String(err)
    if (!(typeof code === 'string' && /^\d+$/.test(code))) {
      return new GovernorError('GOV_ERR_STORE_UNAVAILABLE', `the store did not answer the query: ${message}`, {
        cause: err,
      })
    }
    const { maxExecutionMillis, maxResultRows, maxMemoryBytes, maxResultBytes } = this.#limits
    if (TIME_CODES.has(code))
      return new GovernorError(
        'GOV_ERR_SQL_LIMIT',
        `the query ran longer than ${maxExecutionMillis} ms (GOVERNOR_SQL_MAX_EXECUTION_MILLIS): ${message}`,
      )
    if (SIZE_CODES.has(code)) {
      const what = /max bytes/i.test(message)
        ? `more than ${maxResultBytes} bytes (GOVERNOR_SQL_MAX_RESULT_BYTES)`
        : `more than ${maxResultRows} rows (GOVERNOR_SQL_MAX_RESULT_ROWS)`
      return new GovernorError(
        'GOV_ERR_SQL_LIMIT',
        `the answer has ${what}: add a LIMIT, select fewer columns or aggregate; ${message}`,
      )
    }
    if (MEMORY_CODES.has(code))
      return new GovernorError(
        'GOV_ERR_SQL_LIMIT',
        `the query needs more than ${maxMemoryBytes} bytes of memory (GOVERNOR_SQL_MAX_MEMORY_BYTES): ${message}`,
      )
    if (code === READONLY_CODE)
      return new GovernorError('GOV_ERR_SQL_INVALID', `the store refused it in read-only mode: ${message}`)
    return new GovernorError('GOV_ERR_SQL_FAILED', `the store could not run the query: ${message}`)
  }
}

/**
 * The query as sent to the store: the checked SELECT as a subquery, with the limits and
 * `readonly = 1` in its own SETTINGS clause (last, so that the others may still be set).
 */
export function wrapReadOnly(inner: string, limits: SqlLimits): string {
  return (
    `SELECT * FROM (\n${inner}\n) SETTINGS max_execution_time = ${limits.maxExecutionMillis / 1000}, max_result_rows = ${limits.maxResultRows}, ` +
    `max_result_bytes = ${limits.maxResultBytes}, result_overflow_mode = 'throw', max_memory_usage = ${limits.maxMemoryBytes}, output_format_json_quote_64bit_integers = 1, ` +
    'output_format_json_quote_denormals = 1, readonly = 1'
  )
}

/**
 * The read-only SQL of a store. With the embedded engine the queries run on a chDB session of
 * their own, beside the store's: a failed query cannot leave output in an answer of the
 * store's session, and a long one does not hold up commits (chDB runs one query at a time per
 * session). `close` ends that session.
 */
export async function openReadOnlySql(
  store: { client: ClickHouseClient; embedded: boolean; location: string },
  limits: SqlLimits,
): Promise<{ sql: ReadOnlySql; close(): Promise<void> }> {
  if (!store.embedded)
    return { sql: new ReadOnlySql(store.client, { limits, drainAfterError: false }), close: async () => {} }
  const { createChdbConnection } = await import('chdb/connection')
  const client = createClient({ connection: createChdbConnection({ path: store.location }) } as Parameters<
    typeof createClient
  >[0])
  return { sql: new ReadOnlySql(client, { limits, drainAfterError: true }), close: () => client.close() }
}
