import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { KnobState } from '../../../collector/src/model/knob.ts'
import { ClickHouseKnobVersions } from '../../../collector/src/store/knob-versions.ts'
import { Store } from '../../../collector/src/store/store.ts'
import {
  ClickHouseDefinitionVersions,
  MemoryVersions,
  type Tombstone,
  type Versioned,
  type VersionMeta,
  type VersionStore,
} from '../../../collector/src/store/version-store.ts'
import { testSettings } from '../../helpers/settings.ts'

// One contract, the tables and the in-memory store: unit tests of the registries run on the
// memory one, so it must answer as the tables do.

const T = Date.now() - 3_600_000
const meta = (service: string, name: string, version: number, changedAt: number): VersionMeta => ({
  service,
  name,
  version,
  changedAt,
  actor: 'alice',
  reason: `v${version}`,
  changeId: `${service}/${name}/${version}`,
})

function contract<R extends VersionMeta>(
  name: string,
  open: () => Promise<{ versions: VersionStore<R>; close(): Promise<void> }>,
  make: (m: VersionMeta) => R,
  tombstones: boolean,
): void {
  describe(name, () => {
    let v: VersionStore<R>
    let close: () => Promise<void>
    beforeAll(async () => {
      const opened = await open()
      v = opened.versions
      close = opened.close
      for (const [s, n, version, at] of [
        ['api', 'a', 1, T],
        ['api', 'a', 2, T + 10],
        ['api', 'b', 1, T + 20],
        ['db', 'a', 1, T + 30],
        ['api', 'a', 3, T + 40],
      ] as const) {
        await v.insert(make(meta(s, n, version, at)))
      }
    })
    afterAll(async () => {
      await close?.()
    })

    it('gives the latest version of every name, and of one', async () => {
      const latest = (await v.latest()).map((r) => [r.service, r.name, r.version]).sort()
      expect(latest).toEqual([
        ['api', 'a', 3],
        ['api', 'b', 1],
        ['db', 'a', 1],
      ])
      expect((await v.latestOf('api', 'a'))?.version).toBe(3)
      expect(await v.latestOf('api', 'nope')).toBeUndefined()
    })

    it("gives a name's history newest first, whole as written", async () => {
      const history = await v.history('api', 'a', 2)
      expect(history.map((r) => r.version)).toEqual([3, 2])
      expect(history[0]).toEqual(make(meta('api', 'a', 3, T + 40)))
    })

    it('gives the versions written since a time, oldest first per name', async () => {
      expect((await v.changedSince(T + 10)).map((r) => `${r.service}/${r.name}/${r.version}`)).toEqual([
        'api/a/2',
        'api/a/3',
        'api/b/1',
        'db/a/1',
      ])
    })

    it('keeps one row per version: a second write of a version replaces the first', async () => {
      await v.insert({ ...make(meta('db', 'a', 2, T + 50)), reason: 'first' })
      await v.insert({ ...make(meta('db', 'a', 2, T + 50)), reason: 'second' })
      expect((await v.history('db', 'a', 10)).map((r) => [r.version, r.reason])).toEqual([
        [2, 'second'],
        [1, 'v1'],
      ])
    })

    if (tombstones) {
      it('stores a deletion as a tombstone version', async () => {
        const tomb: Tombstone = { ...meta('api', 'b', 2, T + 60), deleted: true }
        await v.insert(tomb)
        expect(await v.latestOf('api', 'b')).toEqual(tomb)
        expect((await v.history('api', 'b', 10)).map((r) => r.version)).toEqual([2, 1])
      })
    }
  })
}

const definition = (m: VersionMeta): Versioned<{ objective: number }> => ({
  ...m,
  definition: { objective: 90 + m.version },
})
const knob = (m: VersionMeta): KnobState => ({
  ...m,
  definition: { type: 'int', default: 4, min: 1, max: 64, values: null, unit: '', description: '', owner: '' },
  mode: m.version === 2 ? 'pinned' : 'manual',
  value: m.version * 2,
})

contract(
  'definitions in slo_versions',
  async () => {
    const store = await Store.open(testSettings())
    return {
      versions: new ClickHouseDefinitionVersions<{ objective: number }>(store.client, store.db, 'slo_versions'),
      close: () => store.close(),
    }
  },
  definition,
  true,
)
contract(
  'definitions in memory',
  async () => ({ versions: new MemoryVersions<Versioned<{ objective: number }>>(), close: async () => {} }),
  definition,
  true,
)
contract(
  'knobs in knob_versions',
  async () => {
    const store = await Store.open(testSettings())
    return { versions: new ClickHouseKnobVersions(store.client, store.db), close: () => store.close() }
  },
  knob,
  false,
)
contract(
  'knobs in memory',
  async () => ({ versions: new MemoryVersions<KnobState>(), close: async () => {} }),
  knob,
  false,
)
