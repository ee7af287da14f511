import { randomUUID } from 'node:crypto'
import { byName, isTombstone, type Tombstone, type VersionMeta, type VersionStore } from '../store/version-store.ts'
import type { ChangeLog, NewEvent } from './change-log.ts'

export type { Tombstone, VersionMeta, Versioned } from '../store/version-store.ts'

/** Who makes a change, and why. */
export interface Who {
  actor: string
  reason: string
}

/** One change, numbered for live streams (see `changesSince`). */
export interface RegistryChange<R> {
  seq: number
  record: R | Tombstone
}

export interface VersionedRegistryOptions<R extends VersionMeta> {
  versions: VersionStore<R>
  changeLog: ChangeLog
  /**
   * Read a name's latest version from the store before each change (server mode: other
   * collectors write too), so that the next version number follows theirs.
   */
  readBeforeWrite?: boolean
  /**
   * Hears of a change whose change-log event could not be written: the version stands (it
   * is the change; the event is the record of it). Without it, the error rejects the change.
   */
  onEventError?: (err: unknown, record: R | Tombstone) => void
}

/** The fields of a record that the registry fills in: the key and the version's metadata. */
export type Fields<R extends VersionMeta> = Omit<R, keyof VersionMeta>

/** Changes kept for streams that reconnect with Last-Event-ID. */
const RECENT_CHANGES = 10_000

/**
 * Named records of every service (knobs, SLOs, controller bindings) with versions: the latest
 * of each held in memory and written through to a table of one row per version, so the
 * history is the table. Every change is serialised, becomes the next version, is recorded as
 * an event of the change log, and is told to listeners (live streams) with a number.
 * Versions written by other collectors sharing the store come in through `observe` and are
 * told the same way. A deletion is a version too (a tombstone).
 *
 * What a change means (a knob's modes, an SLO's sameness) is the owner's: it reads the record
 * inside `serial`, decides, and calls `write` or `remove`.
 */
export class VersionedRegistry<R extends VersionMeta> {
  readonly #o: VersionedRegistryOptions<R>
  readonly #latest = new Map<string, R>()
  /** The last version number of every name, deleted ones included. */
  readonly #lastVersion = new Map<string, number>()
  readonly #listeners = new Set<(c: RegistryChange<R>) => void>()
  /** Change numbers are this process's: a stream id from another boot asks for a snapshot. */
  readonly bootId = randomUUID().slice(0, 8)
  #seq = 0
  readonly #recent: RegistryChange<R>[] = []
  readonly #seqOf = new Map<string, number>()
  #tail: Promise<unknown> = Promise.resolve()

  constructor(options: VersionedRegistryOptions<R>) {
    this.#o = options
  }

  /** Where the versions are kept (followers read other collectors' from it). */
  get versions(): VersionStore<R> {
    return this.#o.versions
  }

  /** Loads the latest version of every name (again: to follow changes made by other collectors). */
  async load(): Promise<void> {
    for (const r of await this.#o.versions.latest()) {
      const k = key(r.service, r.name)
      this.#lastVersion.set(k, r.version)
      if (isTombstone(r)) this.#latest.delete(k)
      else this.#latest.set(k, r)
    }
  }

  /** The records of one service, of several, or of every service, sorted by service and name. */
  list(service?: string | readonly string[]): R[] {
    const wanted = typeof service === 'string' ? [service] : service
    return [...this.#latest.values()].filter((r) => wanted === undefined || wanted.includes(r.service)).sort(byName)
  }

  get(service: string, name: string): R | undefined {
    return this.#latest.get(key(service, name))
  }

  /** Every version since the name was last deleted (if it was), newest first, at most `limit`. */
  async history(service: string, name: string, limit = 1000): Promise<R[]> {
    const all = await this.#o.versions.history(service, name, limit)
    const end = all.findIndex((r) => isTombstone(r))
    return (end < 0 ? all : all.slice(0, end)) as R[]
  }

  /**
   * Runs `change` after every change before it, so that reading the current record and
   * writing the next version never interleave with another change. With `readBeforeWrite`,
   * the name is first brought up to the store's latest version.
   */
  serial<T>(change: () => Promise<T>, name?: { service: string; name: string }): Promise<T> {
    const run = async () => {
      if (name !== undefined && this.#o.readBeforeWrite === true) {
        const latest = await this.#o.versions.latestOf(name.service, name.name)
        if (latest !== undefined) this.#observe(latest)
      }
      return change()
    }
    const result = this.#tail.then(run, run)
    this.#tail = result.catch(() => undefined)
    return result
  }

  /**
   * Stores `fields` as the next version of (service, name) and records it: `event` gives the
   * change-log event of the version (its id is the version's `changeId`); a version that is
   * part of a changeset passes that changeset's id and no event. Call inside `serial`.
   */
  async write(
    service: string,
    name: string,
    fields: Fields<R>,
    who: Who,
    event: ((next: R) => Omit<NewEvent, 'id'>) | { changeset: string },
  ): Promise<R> {
    const k = key(service, name)
    const changeId = 'changeset' in event ? event.changeset : randomUUID()
    const meta: VersionMeta = {
      service,
      name,
      version: (this.#lastVersion.get(k) ?? 0) + 1,
      changedAt: Date.now(),
      actor: who.actor,
      reason: who.reason,
      changeId,
    }
    const next = { ...fields, ...meta } as R
    await this.#o.versions.insert(next)
    this.#lastVersion.set(k, next.version)
    this.#latest.set(k, next)
    if (!('changeset' in event)) await this.#record({ ...event(next), id: changeId }, next)
    this.#publish(next)
    return next
  }

  /** Deletes a name: stores a tombstone version and records `event`. Call inside `serial`. */
  async remove(
    service: string,
    name: string,
    who: Who,
    event: (tomb: Tombstone) => Omit<NewEvent, 'id'>,
  ): Promise<void> {
    const k = key(service, name)
    const tomb: Tombstone = {
      service,
      name,
      version: (this.#lastVersion.get(k) ?? 0) + 1,
      changedAt: Date.now(),
      actor: who.actor,
      reason: who.reason,
      changeId: randomUUID(),
      deleted: true,
    }
    await this.#o.versions.insert(tomb)
    this.#lastVersion.set(k, tomb.version)
    this.#latest.delete(k)
    await this.#record({ ...event(tomb), id: tomb.changeId }, tomb)
    this.#publish(tomb)
  }

  /**
   * Takes in a version written by another collector: when it is newer than the one held, it
   * becomes the record and every listener hears of it, as of a change made here. Resolves to
   * whether it was newer.
   */
  observe(record: R | Tombstone): Promise<boolean> {
    return this.serial(async () => this.#observe(record))
  }

  #observe(r: R | Tombstone): boolean {
    const k = key(r.service, r.name)
    const held = this.#latest.get(k)
    const last = this.#lastVersion.get(k) ?? 0
    // The same version with another change id: two collectors wrote that version at once, and
    // the store keeps one of them (the last inserted); every collector converges on it.
    if (last > r.version || (held !== undefined && held.version === r.version && held.changeId === r.changeId))
      return false
    if (held === undefined && last === r.version && isTombstone(r)) return false
    this.#lastVersion.set(k, r.version)
    if (isTombstone(r)) this.#latest.delete(k)
    else this.#latest.set(k, r)
    this.#publish(r)
    return true
  }

  subscribe(listener: (c: RegistryChange<R>) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** Changes after stream id `lastId`, or undefined when they are no longer all held (send a snapshot). */
  changesSince(lastId: string): RegistryChange<R>[] | undefined {
    const [boot, n] = lastId.split('.')
    const seq = Number(n)
    if (boot !== this.bootId || !Number.isInteger(seq) || seq > this.#seq) return undefined
    const first = this.#recent[0]
    if (seq < this.#seq && (first === undefined || first.seq > seq + 1)) return undefined
    return this.#recent.filter((c) => c.seq > seq)
  }

  /** Stream id of the latest change. */
  get lastId(): string {
    return `${this.bootId}.${this.#seq}`
  }

  /** A validator for a list of records: changes whenever any record of the list changes. */
  etag(service?: string | readonly string[]): string {
    const records = this.list(service)
    const top = records.reduce((m, r) => Math.max(m, this.#seqOf.get(key(r.service, r.name)) ?? 0), 0)
    return `"${this.bootId}.${top}.${records.length}"`
  }

  async #record(event: NewEvent, record: R | Tombstone): Promise<void> {
    try {
      await this.#o.changeLog.append(event)
    } catch (err) {
      if (this.#o.onEventError === undefined) throw err
      this.#o.onEventError(err, record)
    }
  }

  /** Numbers the change, keeps it for streams that reconnect, and tells every listener. */
  #publish(record: R | Tombstone): void {
    const change = { seq: ++this.#seq, record }
    this.#seqOf.set(key(record.service, record.name), change.seq)
    this.#recent.push(change)
    if (this.#recent.length > RECENT_CHANGES) this.#recent.splice(0, this.#recent.length - RECENT_CHANGES)
    for (const l of this.#listeners) l(change)
  }
}

function key(service: string, name: string): string {
  return `${service}\0${name}`
}
