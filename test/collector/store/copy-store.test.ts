import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ChangeLog } from '../../../collector/src/changelog/change-log.ts'
import { ClickHouseChangeEvents } from '../../../collector/src/store/change-events.ts'
import { ClickHouseKnobVersions } from '../../../collector/src/store/knob-versions.ts'
import { runMigrate, type MigrateStores } from '../../../collector/src/cli/store-commands.ts'
import { COPIED_TABLES, countRows, storeSource, type CopyTarget } from '../../../collector/src/store/copy-store.ts'
import { KnobService } from '../../../collector/src/knobs/knob-service.ts'
import type { Settings } from '../../../collector/src/settings.ts'
import { Store } from '../../../collector/src/store/store.ts'
import { testSettings } from '../../helpers/settings.ts'

// `governor migrate` copies a seeded embedded store into another store: a second embedded
// store in a child process (no ClickHouse server here), reached through the copy's target
// interface. The server path (`--to http://…`) differs only in the target's connection.

const T = Math.floor(Date.now() / 1000) * 1000 - 3_600_000
const SAMPLES = 25_000
let settings: Settings

/** The child process's store, as a copy target; `lie` adds rows to one table's count. */
class ChildTarget implements CopyTarget {
  readonly child: ChildProcess
  inserts = 0
  lie: { table: string; by: number } | undefined
  #next = 0
  readonly #waiting = new Map<number, (m: { result?: unknown; error?: string }) => void>()

  constructor(dir: string) {
    this.child = fork(fileURLToPath(new URL('./copy-target-child.ts', import.meta.url)), [dir], {
      execArgv: ['--import', 'tsx'],
      serialization: 'advanced',
      stdio: 'inherit',
    })
    this.child.on('message', (m: { id?: number; result?: unknown; error?: string }) => {
      if (m.id !== undefined) this.#waiting.get(m.id)?.(m)
    })
  }

  async ready(): Promise<void> {
    await once(this.child, 'message')
  }

  async call(op: string, fields: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.#next++
    const answer = new Promise<{ result?: unknown; error?: string }>((resolve) => this.#waiting.set(id, resolve))
    this.child.send({ id, op, ...fields })
    const m = await answer
    if (m.error !== undefined) throw new Error(m.error)
    return m.result
  }

  async count(table: string): Promise<number> {
    return ((await this.call('count', { table })) as number) + (this.lie?.table === table ? this.lie.by : 0)
  }

  async insertTsv(table: string, columns: readonly string[], tsv: Buffer): Promise<void> {
    this.inserts++
    await this.call('insert', { table, columns, tsv })
  }
}

async function seed(store: Store): Promise<void> {
  const db = store.db
  const c = (query: string) => store.client.command({ query })
  await c(`INSERT INTO ${db}.series (metric, series_id, type, temporality, monotonic, unit, description, service, scope, resource, attributes)
SELECT 'http.requests', number, 'sum', 'cumulative', true, '1', 'd', 'checkout', 's', map('service.name', 'checkout'), map('route', concat('/r\\t', toString(number))) FROM numbers(50)`)
  await c(
    `INSERT INTO ${db}.samples (series_id, ts, start, flags, value) SELECT number % 50, ${T} + number * 10, 0, 0, if(number = 7, nan, number / 3) FROM numbers(${SAMPLES})`,
  )
  await c(
    `INSERT INTO ${db}.histograms (series_id, ts, start, flags, count, sum, min, max, bounds, counts) SELECT number % 5, ${T} + number, ${T}, 0, 6, 12.5, 0.5, 9, [1, 5], [1, 2, 3] FROM numbers(300)`,
  )
  await c(`INSERT INTO ${db}.exp_histograms (series_id, ts, start, flags, count, sum, min, max, scale, zero_count, zero_threshold, positive_offset, positive_counts, negative_offset, negative_counts)
SELECT 1, ${T} + number, ${T}, 0, 7, 3.25, nan, nan, 2, 1, 0.001, -2, [1, 2], 0, [3] FROM numbers(40)`)
  await c(
    `INSERT INTO ${db}.summaries (series_id, ts, start, flags, count, sum, quantiles, values) SELECT 2, ${T} + number, ${T}, 0, 10, 55, [0.5, 0.99], [4, 9.9] FROM numbers(30)`,
  )
  const log = new ChangeLog(new ClickHouseChangeEvents(store.client, db))
  for (let i = 0; i < 20; i++)
    await log.append({
      kind: 'note',
      time: T + i,
      timeEnd: T + i,
      service: 'checkout',
      environment: '',
      actor: 'alice',
      title: `note ${i} "quoted"\nline`,
      text: 'x\ty',
      tags: ['a'],
      version: '',
      data: { i },
    })
  const knobs = new KnobService(new ClickHouseKnobVersions(store.client, db), log)
  await knobs.declare(
    'checkout',
    'workers',
    { type: 'int', default: 20, min: 1, max: 200, values: null, unit: '', description: 'pool', owner: '' },
    'app',
  )
  await knobs.setValue('checkout', 'workers', 40, { actor: 'alice', reason: 'busy' })
  await c(`INSERT INTO ${db}.webhook_sinks (name, registered_at) VALUES ('chat', now64(3))`)
  await c(`INSERT INTO ${db}.leases (name, term, holder, expires_at, written_at) VALUES ('controllers', 1, 'a', 1, 1)`)
}

const out = () => {
  const o = { stdout: '', stderr: '' }
  return {
    o,
    io: {
      stdout: (s: string) => {
        o.stdout += s
      },
      stderr: (s: string) => {
        o.stderr += s
      },
      stderrIsTTY: true,
    },
  }
}

let target: ChildTarget
let source: Store
const stores = (): (() => Promise<MigrateStores>) => async () => ({
  source: storeSource(source),
  target,
  close: async () => {},
})

beforeAll(async () => {
  settings = testSettings()
  source = await Store.open(settings)
  await seed(source)
  target = new ChildTarget(mkdtempSync(join(tmpdir(), 'governor-target-')))
  await target.ready()
})
afterAll(async () => {
  await target?.call('close').catch(() => undefined)
  await source?.close()
})

describe('governor migrate', () => {
  it('refuses a command line without --to http(s)://', async () => {
    const { o, io } = out()
    expect(await runMigrate([], settings, io, stores())).toBe(2)
    expect(o.stderr).toMatch(/migrate needs --to/)
    expect(await runMigrate(['--to', 'http://x', '--batch-rows', '0'], settings, io, stores())).toBe(2)
  })

  it('copies every table in batches, with a progress bar on a terminal, and every count matches', async () => {
    const { o, io } = out()
    expect(await runMigrate(['--to', 'http://target:8123', '--batch-rows', '4000'], settings, io, stores())).toBe(0)
    const lines = o.stdout
      .trim()
      .split('\n')
      .map((l) => l.split('\t'))
    expect(lines.map((l) => l[0])).toEqual([...COPIED_TABLES])
    for (const [, here, there, verdict] of lines) expect([there, verdict]).toEqual([here, 'ok'])
    expect(lines.find((l) => l[0] === 'samples')?.[1]).toBe(String(SAMPLES))
    expect(target.inserts).toBeGreaterThanOrEqual(SAMPLES / 4000)
    expect(o.stderr).toMatch(/\r\[2\/\d+\] samples +\[#{30}\] 100 % 25,000 rows/)
    expect(o.stderr).toMatch(/every count matches/)
  })

  it('copies the values whole: a checksum of every stored column matches on both sides', async () => {
    for (const table of COPIED_TABLES) {
      const columns = await storeSource(source).columns(table)
      const sql = `SELECT count() AS n, sum(cityHash64(${columns.map((c) => `\`${c}\``).join(', ')})) AS h FROM ${source.db}.${table}`
      const here = await (await source.client.query({ query: sql, format: 'JSONEachRow' })).json()
      expect(await target.call('query', { sql }), table).toEqual(here)
    }
    expect(await countRows(source, 'knob_versions')).toBe(2)
  })

  it('refuses to copy into a target that already holds rows', async () => {
    const { o, io } = out()
    expect(await runMigrate(['--to', 'http://target:8123'], settings, io, stores())).toBe(1)
    expect(o.stderr).toMatch(/the target already holds rows in series, samples/)
  })

  it('exits 1 naming the table when a count differs at the end', async () => {
    const { o, io } = out()
    // An empty target that loses rows of one table on the way (a count that comes out one short).
    const empty = new ChildTarget(mkdtempSync(join(tmpdir(), 'governor-target-')))
    await empty.ready()
    try {
      let copied = false
      const lying: CopyTarget = {
        count: async (t) => (await empty.count(t)) - (copied && t === 'events' ? 1 : 0),
        insertTsv: async (t, c, tsv) => {
          copied = true
          await empty.insertTsv(t, c, tsv)
        },
      }
      expect(
        await runMigrate(['--to', 'http://target:8123'], settings, io, async () => ({
          source: storeSource(source),
          target: lying,
          close: async () => {},
        })),
      ).toBe(1)
      expect(o.stdout).toMatch(/^events\t22\t21\tMISMATCH$/m) // 20 notes and the events of 2 knob changes
      expect(o.stderr).toMatch(/counts differ in events \(22 here, 21 there\)/)
    } finally {
      await empty.call('close').catch(() => undefined)
    }
  })
})
