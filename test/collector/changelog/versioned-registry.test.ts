import { describe, expect, it } from 'vitest'
import { ChangeLog } from '../../../collector/src/changelog/change-log.ts'
import {
  VersionedRegistry,
  type RegistryChange,
  type Versioned,
} from '../../../collector/src/changelog/versioned-registry.ts'
import { MemoryChangeEvents } from '../../../collector/src/store/change-events.ts'
import { MemoryVersions } from '../../../collector/src/store/version-store.ts'

// The registry under knobs, SLOs and controller bindings, on the in-memory stores.

type Def = Versioned<{ n: number }>
const who = { actor: 'alice', reason: 'because' }

function setup(
  o: {
    readBeforeWrite?: boolean
    onEventError?: (err: unknown) => void
    versions?: MemoryVersions<Def>
    changeLog?: ChangeLog
  } = {},
) {
  const versions = o.versions ?? new MemoryVersions<Def>()
  const events = new MemoryChangeEvents()
  const changeLog = o.changeLog ?? new ChangeLog(events)
  const registry = new VersionedRegistry<Def>({
    versions,
    changeLog,
    readBeforeWrite: o.readBeforeWrite,
    onEventError: o.onEventError,
  })
  const heard: RegistryChange<Def>[] = []
  registry.subscribe((c) => heard.push(c))
  const put = (name: string, n: number) =>
    registry.serial(
      () =>
        registry.write('api', name, { definition: { n } }, who, (next) => ({
          kind: 'test',
          time: next.changedAt,
          timeEnd: next.changedAt,
          service: 'api',
          environment: '',
          actor: next.actor,
          title: `${name} = ${n}`,
          text: '',
          tags: [],
          version: '',
          data: {},
        })),
      { service: 'api', name },
    )
  const del = (name: string) =>
    registry.serial(() =>
      registry.remove('api', name, who, (tomb) => ({
        kind: 'test',
        time: tomb.changedAt,
        timeEnd: tomb.changedAt,
        service: 'api',
        environment: '',
        actor: who.actor,
        title: `${name} deleted`,
        text: '',
        tags: [],
        version: '',
        data: {},
      })),
    )
  return { versions, events, changeLog, registry, heard, put, del }
}

describe('VersionedRegistry', () => {
  it("numbers versions, records each as an event with the version's change id, and tells listeners in order", async () => {
    const { registry, events, heard, put } = setup()
    const one = await put('a', 1)
    const two = await put('a', 2)
    expect([one.version, two.version]).toEqual([1, 2])
    expect(registry.get('api', 'a')).toEqual(two)
    expect((await events.get(two.changeId))?.title).toBe('a = 2')
    expect(heard.map((c) => [c.seq, c.record.version])).toEqual([
      [1, 1],
      [2, 2],
    ])
    expect((await registry.history('api', 'a')).map((v) => v.definition.n)).toEqual([2, 1])
  })

  it('deletes with a tombstone: the name is gone, its history starts again after it, and numbers go on', async () => {
    const { registry, put, del } = setup()
    await put('a', 1)
    await del('a')
    expect(registry.get('api', 'a')).toBeUndefined()
    expect(registry.list()).toEqual([])
    const again = await put('a', 7)
    expect(again.version).toBe(3)
    expect((await registry.history('api', 'a')).map((v) => v.version)).toEqual([3])
  })

  it('takes in a newer version written elsewhere, ignores older and equal ones, and converges on the stored twin', async () => {
    const shared = new MemoryVersions<Def>()
    const a = setup({ versions: shared }),
      b = setup({ versions: shared })
    const v1 = await a.put('x', 1)
    expect(await b.registry.observe(v1)).toBe(true)
    expect(await b.registry.observe(v1)).toBe(false)
    const v2 = await a.put('x', 2)
    expect(await a.registry.observe(v1)).toBe(false)
    // Both wrote version 2 at once; the store kept a's: b gives up its own for it.
    const twin = { ...v2, changeId: 'other', definition: { n: 99 } }
    expect(await a.registry.observe(twin)).toBe(true)
    expect(a.registry.get('api', 'x')?.definition.n).toBe(99)
    expect(b.heard.map((c) => c.record.version)).toEqual([1])
  })

  it("reads a name's latest version before a change when others write too, so numbers follow theirs", async () => {
    const shared = new MemoryVersions<Def>()
    const a = setup({ versions: shared, readBeforeWrite: true }),
      b = setup({ versions: shared, readBeforeWrite: true })
    await a.put('x', 1)
    await a.put('x', 2)
    const mine = await b.put('x', 3)
    expect(mine.version).toBe(3)
    expect(b.heard.map((c) => c.record.version)).toEqual([2, 3])
  })

  it('keeps a change whose event cannot be written when told whom to tell, and refuses it otherwise', async () => {
    const broken = {
      append: async () => {
        throw new Error('events table gone')
      },
    } as unknown as ChangeLog
    const errors: unknown[] = []
    const kept = setup({ changeLog: broken, onEventError: (err) => errors.push(err) })
    expect((await kept.put('a', 1)).version).toBe(1)
    expect(kept.registry.get('api', 'a')?.definition.n).toBe(1)
    expect(errors.map((e) => (e as Error).message)).toEqual(['events table gone'])
    const strict = setup({ changeLog: broken })
    await expect(strict.put('a', 1)).rejects.toThrow('events table gone')
  })

  it('serialises changes: the second reads what the first wrote', async () => {
    const { registry, put } = setup()
    const both = await Promise.all([put('a', 1), put('a', 2)])
    expect(both.map((v) => v.version)).toEqual([1, 2])
    expect(registry.get('api', 'a')?.definition.n).toBe(2)
  })

  it('answers the changes after a stream id, and nothing to a stream of another boot', async () => {
    const { registry, put } = setup()
    await put('a', 1)
    const mark = registry.lastId
    await put('b', 2)
    await put('a', 3)
    expect(registry.changesSince(mark)?.map((c) => `${c.record.name}${c.record.version}`)).toEqual(['b1', 'a2'])
    expect(registry.changesSince('other.1')).toBeUndefined()
    const etag = registry.etag('api')
    await put('b', 4)
    expect(registry.etag('api')).not.toBe(etag)
  })
})
