import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ChangeLog } from '../../../collector/src/changelog/change-log.ts'
import { ClickHouseChangeEvents } from '../../../collector/src/store/change-events.ts'
import { expandGrafanaMacros, grafanaAnnotationSql } from '../../../collector/src/changelog/grafana.ts'
import { Store } from '../../../collector/src/store/store.ts'
import { testSettings } from '../../helpers/settings.ts'

// The annotation SQL documented for Grafana's ClickHouse data source, run on the engine
// with the macros expanded as the data source expands them.

let store: Store
const T = Date.now() - 3_600_000

beforeAll(async () => {
  store = await Store.open(testSettings())
  const log = new ChangeLog(new ClickHouseChangeEvents(store.client, store.db))
  const base = { environment: 'production', actor: 'alice', tags: [] as string[], data: {} }
  await log.append({
    ...base,
    kind: 'deploy',
    time: T,
    timeEnd: T + 30_000,
    service: 'api',
    title: 'alice deployed api 1.2',
    text: 'faster',
    version: '1.2',
  })
  await log.append({
    ...base,
    kind: 'incident',
    time: T + 60_000,
    timeEnd: T + 60_000,
    service: 'db',
    title: 'db down',
    text: '',
    version: '',
    tags: ['sev1'],
  })
  await log.append({
    ...base,
    kind: 'note',
    time: T + 90_000,
    timeEnd: T + 90_000,
    service: '',
    title: 'freeze starts',
    text: '',
    version: '',
  })
  await log.append({
    ...base,
    kind: 'note',
    time: T - 86_400_000,
    timeEnd: T - 86_400_000,
    service: 'api',
    title: 'yesterday',
    text: '',
    version: '',
  })
})
afterAll(async () => {
  await store?.close()
})

describe('Grafana annotation query', () => {
  it('returns time, timeEnd, text and tags for the chosen services and global changes in range', async () => {
    const sql = expandGrafanaMacros(grafanaAnnotationSql(store.db), T - 60_000, T + 3_600_000, ['api'])
    const rs = await store.client.query({
      query: `SELECT toUnixTimestamp64Milli(time) AS t, toUnixTimestamp64Milli(timeEnd) AS e, text, tags FROM (${sql})`,
      format: 'JSONEachRow',
    })
    expect(await rs.json()).toEqual([
      { t: T, e: T + 30_000, text: 'alice deployed api 1.2\nfaster', tags: ['deploy', 'api', '1.2'] },
      { t: T + 90_000, e: T + 90_000, text: 'freeze starts', tags: ['note'] },
    ])
  })

  it('has exactly the columns the data source reads', async () => {
    const sql = expandGrafanaMacros(grafanaAnnotationSql(store.db), T - 60_000, T + 3_600_000, ["o'brien"])
    const rs = await store.client.query({ query: sql, format: 'JSONCompactEachRowWithNames' })
    expect((await rs.text()).split('\n')[0]).toBe('["time", "timeEnd", "text", "tags"]')
  })
})
