import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../../collector/src/app.ts'
import { wrapReadOnly } from '../../../collector/src/store/read-only-sql.ts'
import {
  checkReadOnlySelect,
  FORBIDDEN_FUNCTIONS,
  SAFE_TABLE_FUNCTIONS,
} from '../../../collector/src/store/sql-guard.ts'
import { gaugeRequest } from '../../helpers/otlp.ts'
import { testSettings } from '../../helpers/settings.ts'

// POST /api/v1/sql: one read-only SELECT, bounded in time, rows and memory; everything else
// refused with a message naming the problem, and the store left as it was.

let app: FastifyInstance
const now = Date.now()
const LIMITS = {
  maxExecutionMillis: 1_000,
  maxResultRows: 50,
  maxMemoryBytes: 64 * 1024 * 1024,
  maxResultBytes: 64 * 1024,
}

beforeAll(async () => {
  app = await buildApp(
    testSettings({
      sqlMaxExecutionMillis: LIMITS.maxExecutionMillis,
      sqlMaxResultRows: LIMITS.maxResultRows,
      sqlMaxMemoryBytes: LIMITS.maxMemoryBytes,
      sqlMaxResultBytes: LIMITS.maxResultBytes,
    }),
    { logger: false },
  )
  const res = await app.inject({
    method: 'POST',
    url: '/v1/metrics',
    payload: gaugeRequest('checkout', {
      'cpu.load': [
        { ts: now - 1000, value: 0.5 },
        { ts: now, value: 0.75 },
      ],
    }),
  })
  expect(res.statusCode).toBe(200)
})
afterAll(async () => {
  await app?.close()
})

async function sql(query: unknown) {
  const res = await app.inject({ method: 'POST', url: '/api/v1/sql', payload: { query } })
  return {
    status: res.statusCode,
    body: res.json() as {
      columns?: { name: string; type: string }[]
      rows?: unknown[][]
      error?: { code: string; message: string }
    },
  }
}

async function tableCounts(): Promise<Record<string, number>> {
  const rs = await app.governor.store.client.query({
    query: "SELECT name, total_rows FROM system.tables WHERE database = 'governor' ORDER BY name",
    format: 'JSONEachRow',
  })
  return Object.fromEntries(
    (await rs.json<{ name: string; total_rows: string | null }>()).map((r) => [r.name, Number(r.total_rows ?? 0)]),
  )
}

describe('POST /api/v1/sql answers a SELECT', () => {
  it('with its columns and rows, 64-bit integers as strings', async () => {
    const res = await sql('SELECT metric, service, count() AS n FROM governor.series GROUP BY metric, service')
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      columns: [
        { name: 'metric', type: 'LowCardinality(String)' },
        { name: 'service', type: 'LowCardinality(String)' },
        { name: 'n', type: 'UInt64' },
      ],
      rows: [['cpu.load', 'checkout', '1']],
    })
  })

  it('takes WITH … SELECT, comments, a trailing semicolon, and the system tables of the language', async () => {
    const res = await sql(`-- the last two points
WITH s AS (SELECT series_id FROM governor.series WHERE metric = 'cpu.load')
SELECT value FROM governor.samples WHERE series_id IN (SELECT series_id FROM s) ORDER BY ts /* oldest first */ ; -- done`)
    expect(res.status).toBe(200)
    expect(res.body.rows).toEqual([[0.5], [0.75]])
    expect((await sql("SELECT count() > 0 FROM system.functions WHERE name = 'rate'")).body.rows).toEqual([[0]])
    expect((await sql('SELECT dummy FROM system.one')).body.rows).toEqual([[0]])
  })
})

describe('refuses anything but one SELECT', () => {
  const refused: [string, string, RegExp][] = [
    ['', 'GOV_ERR_SQL_INVALID', /empty/],
    ["INSERT INTO governor.series (metric) VALUES ('x')", 'GOV_ERR_SQL_INVALID', /starts with "INSERT"/],
    ['ALTER TABLE governor.samples DELETE WHERE 1', 'GOV_ERR_SQL_INVALID', /starts with "ALTER"/],
    ['DROP TABLE governor.samples', 'GOV_ERR_SQL_INVALID', /starts with "DROP"/],
    ['SYSTEM SHUTDOWN', 'GOV_ERR_SQL_INVALID', /starts with "SYSTEM"/],
    ['TRUNCATE TABLE governor.samples', 'GOV_ERR_SQL_INVALID', /starts with "TRUNCATE"/],
    ['SELECT 1; DROP TABLE governor.samples', 'GOV_ERR_SQL_INVALID', /more than one statement/],
    ['SELECT 1) ; DROP TABLE governor.samples; SELECT (1', 'GOV_ERR_SQL_INVALID', /more than one statement|closes no/],
    ['SELECT 1) UNION ALL (SELECT 2', 'GOV_ERR_SQL_INVALID', /closes no "\("/],
    ['SELECT (1', 'GOV_ERR_SQL_INVALID', /never closed/],
    ['SELECT * FROM (SELECT * FROM numbers(1) SETTINGS readonly = 0)', 'GOV_ERR_SQL_INVALID', /SETTINGS/],
    ['SELECT 1 SETTINGS max_execution_time = 0', 'GOV_ERR_SQL_INVALID', /SETTINGS/],
    ["SELECT 1 INTO OUTFILE '/tmp/governor-sql-test'", 'GOV_ERR_SQL_INVALID', /INTO OUTFILE/],
    ['SELECT 1 FORMAT CSV', 'GOV_ERR_SQL_INVALID', /FORMAT/],
    ["SELECT $$ ' $$, 1", 'GOV_ERR_SQL_INVALID', /heredoc/],
    ["SELECT 1 /* /* */ , file('/etc/passwd') */", 'GOV_ERR_SQL_INVALID', /nested block comments/],
    ["SELECT 1 AS x\u200b, file('/etc/passwd')", 'GOV_ERR_SQL_INVALID', /U\+200B/],
    ["SELECT 'unterminated", 'GOV_ERR_SQL_INVALID', /never closed/],
    ["SELECT file('/etc/passwd')", 'GOV_ERR_SQL_FORBIDDEN', /file\(\)/],
    ["SELECT * FROM file('/etc/passwd', 'LineAsString')", 'GOV_ERR_SQL_FORBIDDEN', /file\(\)/],
    ["SELECT `file`('/etc/passwd')", 'GOV_ERR_SQL_FORBIDDEN', /file\(\)/],
    ["SELECT `\\x66ile`('/etc/passwd')", 'GOV_ERR_SQL_INVALID', /backslash in the quoted name/],
    ['SELECT "\\x66ile"(\'/etc/passwd\')', 'GOV_ERR_SQL_INVALID', /backslash in the quoted name/],
    ['SELECT "FILE" /* c */ (\'/etc/passwd\')', 'GOV_ERR_SQL_FORBIDDEN', /FILE\(\)/],
    ["SELECT arrayMap(p -> file(p), ['/etc/passwd'])", 'GOV_ERR_SQL_FORBIDDEN', /file\(\)/],
    [
      "SELECT * FROM url('http://169.254.169.254/latest/meta-data/', 'LineAsString')",
      'GOV_ERR_SQL_FORBIDDEN',
      /url\(\)/,
    ],
    ["SELECT * FROM s3('https://bucket.s3.amazonaws.com/x.csv')", 'GOV_ERR_SQL_FORBIDDEN', /s3\(\)/],
    ["SELECT * FROM remote('10.0.0.1:9000', system.one)", 'GOV_ERR_SQL_FORBIDDEN', /remote\(\)/],
    ["SELECT * FROM mysql('db:3306', 'd', 't', 'u', 'p')", 'GOV_ERR_SQL_FORBIDDEN', /mysql\(\)/],
    ["SELECT * FROM postgresql('db:5432', 'd', 't', 'u', 'p')", 'GOV_ERR_SQL_FORBIDDEN', /postgresql\(\)/],
    ["SELECT * FROM executable('id', 'LineAsString', 'x String')", 'GOV_ERR_SQL_FORBIDDEN', /executable\(\)/],
    ["SELECT * FROM icebergS3('https://b/x')", 'GOV_ERR_SQL_FORBIDDEN', /icebergS3\(\)/],
    ["SELECT * FROM mongodb('h:27017', 'd', 'c', 'u', 'p', 'x String')", 'GOV_ERR_SQL_FORBIDDEN', /mongodb\(\)/],
    // The machine, not the data: paths, hosts, other sessions' queries.
    [
      'SELECT query FROM system.processes',
      'GOV_ERR_SQL_FORBIDDEN',
      /system\.processes, which shows the server's paths, hosts or other sessions' queries/,
    ],
    ['SELECT data_paths FROM system.tables', 'GOV_ERR_SQL_FORBIDDEN', /system\.tables/],
    ['SELECT path FROM "system" . `disks`', 'GOV_ERR_SQL_FORBIDDEN', /system\.disks/],
    ['SELECT query FROM SYSTEM.query_log', 'GOV_ERR_SQL_FORBIDDEN', /system\.query_log/],
    [
      'SELECT * FROM governor.series WHERE metric IN (SELECT host_name FROM system.clusters)',
      'GOV_ERR_SQL_FORBIDDEN',
      /system\.clusters/,
    ],
    [
      "SELECT * FROM merge('system', '^proc')",
      'GOV_ERR_SQL_FORBIDDEN',
      /merge\(\), which reaches tables by their database's name/,
    ],
    ['SELECT * FROM loop(system, processes) LIMIT 1', 'GOV_ERR_SQL_FORBIDDEN', /loop\(\)/],
    ['SELECT hostName()', 'GOV_ERR_SQL_FORBIDDEN', /hostName\(\), which tells about the machine/],
    ["SELECT getServerSetting('path')", 'GOV_ERR_SQL_FORBIDDEN', /getServerSetting\(\)/],
    ["SELECT getMacro('replica')", 'GOV_ERR_SQL_FORBIDDEN', /getMacro\(\)/],
    ['SELECT filesystemAvailable()', 'GOV_ERR_SQL_FORBIDDEN', /filesystemAvailable\(\)/],
  ]

  it.each(refused)('%j: %s', async (query, code, message) => {
    const res = await sql(query)
    expect(res.status).toBe(400)
    expect(res.body.error?.code).toBe(code)
    expect(res.body.error?.message).toMatch(message)
  })

  it('refuses a body without a query string', async () => {
    for (const payload of [{}, { query: 42 }, { sql: 'SELECT 1' }]) {
      const res = await app.inject({ method: 'POST', url: '/api/v1/sql', payload })
      expect(res.statusCode).toBe(400)
      expect(res.json().error).toEqual({
        code: 'GOV_ERR_SQL_INVALID',
        message: 'the body must be a JSON object {"query": "SELECT …"}',
      })
    }
  })

  it("answers the store's message for a query it cannot run", async () => {
    const res = await sql('SELECT nope FROM governor.nothing')
    expect(res.status).toBe(400)
    expect(res.body.error?.code).toBe('GOV_ERR_SQL_FAILED')
    expect(res.body.error?.message).toMatch(/governor\.nothing|UNKNOWN_TABLE|does not exist/)
    expect((await sql('SELECT {x:String}')).body.error?.code).toBe('GOV_ERR_SQL_FAILED')
  })

  it('leaves every table as it was, and the store writable (readonly does not stick to its session)', async () => {
    const before = await tableCounts()
    expect(Object.keys(before)).toContain('samples')
    for (const [query] of refused) await sql(query)
    expect(await tableCounts()).toEqual(before)
    const res = await app.inject({
      method: 'POST',
      url: '/v1/metrics',
      payload: gaugeRequest('checkout', { 'cpu.after': [{ ts: now, value: 1 }] }),
    })
    expect(res.statusCode).toBe(200)
    expect((await sql("SELECT count() FROM governor.series WHERE metric = 'cpu.after'")).body.rows).toEqual([['1']])
  })
})

describe('limits', () => {
  it('stops a query past its time', async () => {
    const res = await sql('SELECT count() FROM numbers(1e13)')
    expect(res.status).toBe(422)
    expect(res.body.error?.code).toBe('GOV_ERR_SQL_LIMIT')
    expect(res.body.error?.message).toMatch(/longer than 1000 ms \(GOVERNOR_SQL_MAX_EXECUTION_MILLIS\)/)
  })

  it('refuses an answer of more rows than the limit instead of cutting it', async () => {
    expect((await sql('SELECT number FROM numbers(50)')).body.rows).toHaveLength(50)
    const res = await sql('SELECT number FROM numbers(51)')
    expect(res.status).toBe(422)
    expect(res.body.error?.message).toMatch(/more than 50 rows \(GOVERNOR_SQL_MAX_RESULT_ROWS\)/)
    // Subqueries may read more: only the answer is limited.
    expect((await sql('SELECT count() FROM (SELECT number FROM numbers(100000))')).body.rows).toEqual([['100000']])
  })

  it('refuses an answer of more bytes than the limit instead of cutting it', async () => {
    // The store counts an answer's bytes block by block: two blocks of 50 KB pass 64 KiB.
    const res = await sql("SELECT repeat('x', 50000) UNION ALL SELECT repeat('y', 50000)")
    expect(res.status).toBe(422)
    expect(res.body.error?.code).toBe('GOV_ERR_SQL_LIMIT')
    expect(res.body.error?.message).toMatch(/more than 65536 bytes \(GOVERNOR_SQL_MAX_RESULT_BYTES\)/)
    expect((await sql("SELECT length(repeat('x', 10000)) FROM numbers(20)")).body.rows).toHaveLength(20)
  })

  it('stops a query past its memory', async () => {
    // One row whose one array needs 1.6 GB: the memory limit stops it within its first block,
    // before the time limit could (a scan of many blocks can pass 1 s first on a busy machine).
    const res = await sql('SELECT length(arrayResize([toUInt64(1)], 200000000))')
    expect(res.status).toBe(422)
    expect(res.body.error?.message).toMatch(/GOVERNOR_SQL_MAX_MEMORY_BYTES/)
  })

  it('answers cleanly after a query that failed half-way (chDB leaves its output behind)', async () => {
    const failed = await sql('SELECT throwIf(number = 30) FROM numbers(40)')
    expect(failed.status).toBe(400)
    expect((await sql('SELECT 42 AS answer')).body).toEqual({
      columns: [{ name: 'answer', type: 'UInt8' }],
      rows: [[42]],
    })
    const query = await app.inject({
      method: 'GET',
      url: `/api/v1/query?metric=cpu.load&from=${now - 60_000}&to=${now + 1}`,
    })
    expect(query.statusCode).toBe(200)
  })
})

describe("the engine's own read-only mode, under the check", () => {
  // What `readonly = 1` stops by itself, and what it lets through: why the check refuses by name.
  const engine = async (inner: string) => {
    try {
      await (
        await app.governor.store.client.query({ query: wrapReadOnly(inner, LIMITS), format: 'JSONCompact' })
      ).json()
      return 'ran'
    } catch (err) {
      await (await app.governor.store.client.query({ query: 'SELECT 1', format: 'JSONCompact' })).text() // drain
      return /readonly/i.test((err as Error).message) ? 'readonly' : `failed: ${(err as Error).message.slice(0, 80)}`
    }
  }

  it('stops the table functions that reach files and the network, but not the scalar file()', async () => {
    for (const f of [
      "file('/etc/hostname', 'LineAsString')",
      "url('http://127.0.0.1:9/', 'LineAsString')",
      "remote('127.0.0.1:9', system.one)",
      "mysql('127.0.0.1:9', 'd', 't', 'u', 'p')",
      "postgresql('127.0.0.1:9', 'd', 't', 'u', 'p')",
      "executable('id', 'LineAsString', 'x String')",
    ]) {
      expect(await engine(`SELECT * FROM ${f}`), f).toBe('readonly')
    }
    expect(await engine("SELECT file('/etc/hostname')")).toBe('ran')
  })

  it('every table function of the engine is classified as safe or forbidden', async () => {
    const rs = await app.governor.store.client.query({
      query: 'SELECT name FROM system.table_functions',
      format: 'JSONCompactEachRow',
    })
    const names = (await rs.json<[string]>()).map(([n]) => n.toLowerCase())
    expect(names.filter((n) => !SAFE_TABLE_FUNCTIONS.has(n) && !FORBIDDEN_FUNCTIONS.has(n))).toEqual([])
  })
})

describe('checkReadOnlySelect', () => {
  it('answers the query without its trailing comments and semicolons, ready to wrap', () => {
    expect(checkReadOnlySelect('  SELECT 1 -- one\n;; -- end')).toBe('SELECT 1')
    expect(checkReadOnlySelect("SELECT 'a;b', `settings` FROM system.columns # x")).toBe(
      "SELECT 'a;b', `settings` FROM system.columns",
    )
    expect(checkReadOnlySelect("WITH 'it''s' AS s SELECT s")).toBe("WITH 'it''s' AS s SELECT s")
  })

  it('keeps words inside strings and quoted names out of the checks', () => {
    expect(checkReadOnlySelect('SELECT \'file(1); DROP TABLE x\' AS note, "into" FROM governor.events')).toContain(
      'DROP TABLE',
    )
    expect(() => checkReadOnlySelect("SELECT 'a\\\\', file('x')")).toThrow(/file\(\)/)
  })
})

describe("ReadOnlySql on the embedded engine's session", () => {
  it('runs one query at a time and refuses with 503 GOV_ERR_SQL_BUSY when too many wait', async () => {
    const { ReadOnlySql } = await import('../../../collector/src/store/read-only-sql.ts')
    let running = 0
    let most = 0
    const client = {
      query: async ({ query }: { query: string }) => {
        if (query.includes('system.table_functions')) return { json: async () => [] }
        running++
        most = Math.max(most, running)
        await new Promise((r) => setTimeout(r, 30))
        running--
        return { json: async () => ({ meta: [{ name: 'x', type: 'UInt8' }], data: [[1]] }), text: async () => '' }
      },
    }
    const sql = new ReadOnlySql(client as never, { limits: LIMITS, drainAfterError: true, maxWaiting: 2 })
    const results = await Promise.allSettled([1, 2, 3, 4].map(() => sql.run('SELECT 1')))
    expect(most).toBe(1)
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected'])
    const refused = (results[3] as PromiseRejectedResult).reason as { code: string; statusCode: number }
    expect(refused).toMatchObject({ code: 'GOV_ERR_SQL_BUSY', statusCode: 503 })
  })
})
