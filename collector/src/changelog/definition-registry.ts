import type { VersionStore, Versioned } from '../store/version-store.ts'
import type { ChangeLog } from './change-log.ts'
import { VersionedRegistry, type Who } from './versioned-registry.ts'

export interface DefinitionRegistryOptions<T> {
  /** Where the versions live (`slo_versions`, `controller_versions`). */
  versions: VersionStore<Versioned<T>>
  changeLog: ChangeLog
  /** The change-log kind of a change (`slo`, `controller`). */
  kind: string
  same(a: T, b: T): boolean
  /** The change-log title of a new version. */
  title(old: Versioned<T> | undefined, next: Versioned<T>): string
  /** Extra `data` of the change-log event. */
  data?(old: Versioned<T> | undefined, next: Versioned<T>): Record<string, unknown>
}

/**
 * Named definitions of services (SLOs, controller bindings) on a `VersionedRegistry`: the
 * same definition again changes nothing; a new one is the next version, recorded as an event
 * that carries the definition before and after; a deletion is a tombstone version, and
 * defining the name again continues its version numbers.
 */
export class DefinitionRegistry<T> {
  readonly #o: DefinitionRegistryOptions<T>
  readonly #registry: VersionedRegistry<Versioned<T>>

  constructor(options: DefinitionRegistryOptions<T>) {
    this.#o = options
    this.#registry = new VersionedRegistry<Versioned<T>>({ versions: options.versions, changeLog: options.changeLog })
  }

  /** Loads the latest version of every definition (again: to follow changes made by other collectors). */
  load(): Promise<void> {
    return this.#registry.load()
  }

  list(service?: string): Versioned<T>[] {
    return this.#registry.list(service)
  }

  get(service: string, name: string): Versioned<T> | undefined {
    return this.#registry.get(service, name)
  }

  /** Every version since the name was last deleted (if it was), newest first. */
  history(service: string, name: string): Promise<Versioned<T>[]> {
    return this.#registry.history(service, name)
  }

  /** Stores `definition` as the next version and records the change, unless it equals the current one. */
  put(
    service: string,
    name: string,
    definition: T,
    who: Who,
  ): Promise<{ current: Versioned<T>; previous: Versioned<T> | undefined; created: boolean; changed: boolean }> {
    return this.#registry.serial(async () => {
      const old = this.#registry.get(service, name)
      if (old !== undefined && this.#o.same(old.definition, definition))
        return { current: old, previous: old, created: false, changed: false }
      const current = await this.#registry.write(service, name, { definition }, who, (next) => ({
        kind: this.#o.kind,
        time: next.changedAt,
        timeEnd: next.changedAt,
        service,
        environment: '',
        actor: next.actor,
        title: this.#o.title(old, next),
        text: next.reason,
        tags: [name],
        version: '',
        data: {
          name,
          version: next.version,
          before: old?.definition ?? null,
          after: definition,
          ...this.#o.data?.(old, next),
        },
      }))
      return { current, previous: old, created: old === undefined, changed: true }
    })
  }

  /**
   * Deletes a definition: stores a tombstone version and records the deletion as an event
   * (`data.deleted: true`, `after: null`). Resolves to the version deleted, undefined when
   * there is none. `title` says what was deleted, for the event.
   */
  remove(
    service: string,
    name: string,
    who: Who,
    title: (old: Versioned<T>) => string,
  ): Promise<Versioned<T> | undefined> {
    return this.#registry.serial(async () => {
      const old = this.#registry.get(service, name)
      if (old === undefined) return undefined
      await this.#registry.remove(service, name, who, (tomb) => ({
        kind: this.#o.kind,
        time: tomb.changedAt,
        timeEnd: tomb.changedAt,
        service,
        environment: '',
        actor: who.actor,
        title: title(old),
        text: who.reason,
        tags: [name, 'deleted'],
        version: '',
        data: { name, version: tomb.version, before: old.definition, after: null, deleted: true },
      }))
      return old
    })
  }
}
