import { randomUUID } from 'node:crypto'
import type { ChangeLog } from '../changelog/change-log.ts'
import { VersionedRegistry, type Fields, type Tombstone, type Who } from '../changelog/versioned-registry.ts'
import { GovernorError } from '../errors.ts'
import type { KnobMode, KnobState } from '../model/knob.ts'
import type { KnobVersionStore } from '../store/knob-versions.ts'
import {
  carryOver,
  checkValue,
  sameDefinition,
  valueConflict,
  type KnobDefinition,
  type KnobValue,
} from './definition.ts'

export { KNOB_MODES, type KnobMode, type KnobState } from '../model/knob.ts'

/** What a declaration did. */
export interface Declaration {
  knob: KnobState
  created: boolean
  changed: boolean
  /** Why the knob's value does not fit the declaration (the value is kept), if it does not. */
  conflict: string | undefined
}

/** One change, numbered for live streams (see `changesSince`). */
export interface KnobChange {
  seq: number
  knob: KnobState
}

/** What a version write carries besides the knob (see KnobService.#write). */
interface WriteExtra {
  /** A controller decision's lease term, recorded with the change. */
  term?: number
  /** The value is still the declaration's (declarations only). */
  declared?: boolean
  /** Why the value does not fit the new definition (declarations that keep a value). */
  conflict?: string
  /** The change-log title, when `describe` would not say it right. */
  title?: string
  /**
   * Part of a changeset recorded as one event of its own (a revert since a deploy): the
   * version carries the changeset's id and writes no event.
   */
  changeset?: string
}

/**
 * A controller decision's lease term (see control/lease.ts): the write goes ahead only when
 * `assertCurrent` finds the term still current, checked inside the serialised section just
 * before the version is written.
 */
export interface TermFence {
  term: number
  assertCurrent(): Promise<void>
}

/** Options of a knob service that shares its store with other collectors. */
export interface KnobServiceOptions {
  /** Hears of a change whose change-log event could not be written. */
  onEventError?: (err: unknown, knob: KnobState) => void
  /**
   * Read the knob's latest version from the store before each change (server mode: other
   * collectors write too), so that the next version number follows theirs.
   */
  readBeforeWrite?: boolean
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/

/**
 * The knob service: every knob of every service, held in memory and written through to
 * the store (one row per version, so the history is the table). Changes are serialised,
 * each becomes an event of the change log, and listeners (live streams) hear of each.
 */
export class KnobService {
  readonly #registry: VersionedRegistry<KnobState>
  readonly #changeLog: ChangeLog

  /** `options` may also be the `onEventError` function alone. */
  constructor(
    versions: KnobVersionStore,
    changeLog: ChangeLog,
    options: KnobServiceOptions | ((err: unknown, knob: KnobState) => void) = {},
  ) {
    const o = typeof options === 'function' ? { onEventError: options } : options
    this.#changeLog = changeLog
    this.#registry = new VersionedRegistry<KnobState>({
      versions,
      changeLog,
      readBeforeWrite: o.readBeforeWrite === true,
      onEventError: (err, knob) => o.onEventError?.(err, knob as KnobState),
    })
  }

  /** Change numbers are this process's: a stream id from another boot asks for a snapshot. */
  get bootId(): string {
    return this.#registry.bootId
  }

  /** Where the versions are kept (the follower reads other collectors' from it). */
  get versions(): KnobVersionStore {
    return this.#registry.versions
  }

  /** Loads the latest version of every knob. */
  load(): Promise<void> {
    return this.#registry.load()
  }

  /**
   * Takes in a version written by another collector (see registry-follower.ts): when it is newer
   * than the one held, it becomes the knob and every listener hears of it, as of a change made
   * here. Resolves to whether it was newer.
   */
  observe(knob: KnobState | Tombstone): Promise<boolean> {
    return this.#registry.observe(knob)
  }

  /** The knobs of one service, of several, or of every service (sorted by service and name). */
  list(service?: string | readonly string[]): KnobState[] {
    return this.#registry.list(service)
  }

  /** A validator for `GET /knobs?service=`: changes whenever any knob of the list changes. */
  etag(service?: string | readonly string[]): string {
    return this.#registry.etag(service)
  }

  get(service: string, name: string): KnobState {
    const k = this.#registry.get(service, name)
    if (k === undefined)
      throw new GovernorError(
        'GOV_ERR_KNOB_NOT_FOUND',
        `no knob ${service}/${name}; apps declare knobs with PUT /api/v1/knobs/{service}/{name}`,
      )
    return k
  }

  /** Every version of a knob, newest first. */
  async history(service: string, name: string): Promise<KnobState[]> {
    this.get(service, name)
    return this.#registry.history(service, name)
  }

  /**
   * Declares a knob or updates its definition. The same definition again changes nothing.
   * A declaration never changes a value somebody set: only a knob nobody has touched since it
   * was declared (manual mode, value set by declarations only) follows a new default. A
   * pinned, auto or operator-set value is kept, also when the new definition no longer admits
   * it: the conflict is recorded in the version's reason and its change-log event, and
   * reported (`conflict`) until the value or the definition changes.
   *
   *   knob before                        new definition      value after
   *   untouched (declared, manual)       default 2 → 4       4
   *   set by a person (manual)           bounds [64, 64]     kept, conflict reported
   *   pinned, or auto (a controller's)   anything            kept, conflict reported if any
   */
  declare(service: string, name: string, def: KnobDefinition, actor: string): Promise<Declaration> {
    checkName(service, 'service')
    checkName(name, 'knob name')
    return this.#registry.serial(
      async () => {
        const old = this.#registry.get(service, name)
        if (old !== undefined && sameDefinition(old.definition, def))
          return { knob: old, created: false, changed: false, conflict: valueConflict(old.definition, old.value) }
        const follows = old === undefined || (old.declared === true && old.mode === 'manual')
        const value = follows ? def.default : old.value
        const conflict = follows ? undefined : valueConflict(def, value)
        const id = `${service}/${name}`
        let reason = old === undefined ? 'declared' : 'definition changed'
        let title: string | undefined
        if (old !== undefined && conflict !== undefined) {
          reason = `definition changed; the ${old.mode} value ${fmt(value)} is kept though the definition no longer admits it (${conflict})`
          title = `${actor} changed the definition of ${id}: it no longer admits the ${old.mode} value ${fmt(value)}, kept`
        } else if (old !== undefined && old.value !== value) {
          title = `${actor} changed the definition of ${id}: default ${fmt(old.value)} → ${fmt(value)}, the untouched value follows`
        }
        const knob = await this.#write(
          old,
          { service, name, definition: def, mode: old?.mode ?? 'manual', value },
          { actor, reason },
          { declared: follows, conflict, title },
        )
        return { knob, created: old === undefined, changed: true, conflict }
      },
      { service, name },
    )
  }

  /**
   * Sets the value. A person's change takes a knob out of auto mode; a pinned knob refuses.
   * With a `fence` (a controller's decision under a lease), a knob no longer in auto mode
   * refuses (GOV_ERR_KNOB_CONFLICT), so does a term that is no longer current
   * (GOV_ERR_CONTROLLER_STALE_TERM), and the term is recorded with the change.
   */
  setValue(
    service: string,
    name: string,
    raw: unknown,
    who: Who,
    mode?: KnobMode,
    fence?: TermFence,
  ): Promise<KnobState> {
    return this.#setValue(service, name, raw, who, mode, fence)
  }

  #setValue(
    service: string,
    name: string,
    raw: unknown,
    who: Who,
    mode?: KnobMode,
    fence?: TermFence,
    changeset?: string,
  ): Promise<KnobState> {
    return this.#registry.serial(
      async () => {
        const old = this.get(service, name)
        if (old.mode === 'pinned') throw pinned(old)
        const value = checkValue(old.definition, raw)
        if (fence !== undefined) {
          // Read again just now: a person may have taken the knob over through another collector.
          if (old.mode !== 'auto')
            throw new GovernorError(
              'GOV_ERR_KNOB_CONFLICT',
              `${service}/${name} is in ${old.mode} mode since ${old.actor} set it: a controller turns only a knob in auto mode`,
            )
          await fence.assertCurrent()
        }
        return this.#write(
          old,
          {
            ...old,
            value,
            mode: mode ?? (old.mode === 'auto' && who.actor.startsWith('controller:') ? 'auto' : 'manual'),
          },
          who,
          { term: fence?.term, ...(changeset !== undefined ? { changeset } : {}) },
        )
      },
      { service, name },
    )
  }

  /** Pins the knob (at `raw`, or where it is): nothing but an unpin changes it then. */
  pin(service: string, name: string, raw: unknown, who: Who): Promise<KnobState> {
    return this.#registry.serial(
      async () => {
        const old = this.get(service, name)
        const value = raw === undefined ? old.value : checkValue(old.definition, raw)
        return this.#write(old, { ...old, value, mode: 'pinned' }, who)
      },
      { service, name },
    )
  }

  unpin(service: string, name: string, who: Who): Promise<KnobState> {
    return this.#registry.serial(
      async () => {
        const old = this.get(service, name)
        if (old.mode !== 'pinned') throw new GovernorError('GOV_ERR_KNOB_CONFLICT', `${service}/${name} is not pinned`)
        return this.#write(old, { ...old, mode: 'manual' }, who)
      },
      { service, name },
    )
  }

  setMode(service: string, name: string, mode: KnobMode, who: Who): Promise<KnobState> {
    return this.#registry.serial(
      async () => {
        const old = this.get(service, name)
        if (old.mode === 'pinned' && mode !== 'pinned') throw pinned(old)
        return this.#write(old, { ...old, mode }, who)
      },
      { service, name },
    )
  }

  /** Sets the value back to what it was at `version`. */
  async revert(service: string, name: string, version: number, who: Who): Promise<KnobState> {
    const target = (await this.history(service, name)).find((v) => v.version === version)
    if (target === undefined)
      throw new GovernorError('GOV_ERR_KNOB_NOT_FOUND', `${service}/${name} has no version ${version}`)
    return this.setValue(service, name, carryOver(this.get(service, name).definition, target.value), who)
  }

  /**
   * Puts every knob of a deploy's service that changed since the deploy back to its value
   * at the deploy, as one audited action: one change-log event listing them all (the knobs'
   * new versions carry its id and write none of their own). Nothing to revert: no event,
   * and `changeId` null.
   */
  async revertSince(
    deployTime: number,
    service: string,
    who: Who,
    deployLabel: string,
  ): Promise<{ reverted: KnobState[]; changeId: string | null }> {
    const changeId = randomUUID()
    const reverted: KnobState[] = []
    const changeset: { name: string; before: KnobValue; value: KnobValue; version: number }[] = []
    const lines: string[] = []
    for (const k of this.list(service)) {
      if (k.changedAt <= deployTime || k.mode === 'pinned') continue
      const before = (await this.history(service, k.name)).find((v) => v.changedAt <= deployTime)
      if (before === undefined || before.value === k.value) continue
      const knob = await this.#setValue(
        service,
        k.name,
        carryOver(k.definition, before.value),
        { ...who, reason: `${who.reason} (changeset ${changeId})` },
        undefined,
        undefined,
        changeId,
      )
      reverted.push(knob)
      changeset.push({ name: knob.name, before: k.value, value: knob.value, version: knob.version })
      lines.push(`${k.name}: ${fmt(k.value)} → ${fmt(knob.value)}`)
    }
    if (reverted.length === 0) return { reverted, changeId: null }
    const now = Date.now()
    await this.#changeLog.append({
      id: changeId,
      kind: 'knob',
      time: now,
      timeEnd: now,
      service,
      environment: '',
      actor: who.actor,
      title: `${who.actor} reverted ${reverted.length} knob${reverted.length === 1 ? '' : 's'} of ${service} to before deploy ${deployLabel}`,
      text: [who.reason, ...lines].join('\n'),
      tags: ['changeset', ...reverted.map((k) => k.name)],
      version: '',
      data: { changeset },
    })
    return { reverted, changeId }
  }

  subscribe(listener: (c: KnobChange) => void): () => void {
    return this.#registry.subscribe((c) => listener({ seq: c.seq, knob: c.record as KnobState }))
  }

  /** Changes after stream id `lastId`, or undefined when they are no longer all held (send a snapshot). */
  changesSince(lastId: string): KnobChange[] | undefined {
    return this.#registry.changesSince(lastId)?.map((c) => ({ seq: c.seq, knob: c.record as KnobState }))
  }

  /** Stream id of the latest change. */
  get lastId(): string {
    return this.#registry.lastId
  }

  /**
   * Writes a version. Only a declaration passes `declared` (the value is still the
   * declaration's); every other change clears it.
   */
  async #write(
    old: KnobState | undefined,
    next: Fields<KnobState> & { service: string; name: string },
    who: Who,
    extra: WriteExtra = {},
  ): Promise<KnobState> {
    if (who.reason.trim() === '') throw new GovernorError('GOV_ERR_KNOB_INVALID', 'a reason is required')
    const { term, conflict } = extra
    const { service, name, ...rest } = next
    const fields: Fields<KnobState> = { ...rest }
    delete fields.declared
    if (extra.declared === true) fields.declared = true
    // The version row is the change; its event is the record of it. When the event cannot be
    // written the change still stands and still reaches every app (the error is reported).
    return this.#registry.write(
      service,
      name,
      fields,
      who,
      extra.changeset !== undefined
        ? { changeset: extra.changeset }
        : (knob) => ({
            kind: 'knob',
            time: knob.changedAt,
            timeEnd: knob.changedAt,
            service: knob.service,
            environment: '',
            actor: knob.actor,
            title: extra.title ?? describe(old, knob),
            text: knob.reason,
            tags: [knob.name, knob.mode, ...(conflict !== undefined ? ['conflict'] : [])],
            version: '',
            data: {
              knob: knob.name,
              before: old?.value ?? null,
              after: knob.value,
              mode: knob.mode,
              version: knob.version,
              ...(term !== undefined ? { term } : {}),
              ...(conflict !== undefined ? { conflict } : {}),
            },
          }),
    )
  }
}

function checkName(v: string, what: string): void {
  if (!NAME.test(v))
    throw new GovernorError(
      'GOV_ERR_KNOB_INVALID',
      `${what} ${JSON.stringify(v)}: use letters, digits, '.', '_' and '-' (at most 128)`,
    )
}

function pinned(k: KnobState): GovernorError {
  return new GovernorError(
    'GOV_ERR_KNOB_PINNED',
    `${k.service}/${k.name} is pinned at ${fmt(k.value)} by ${k.actor} (${k.reason}); unpin it first (DELETE /api/v1/knobs/${k.service}/${k.name}/pin)`,
  )
}

function fmt(v: KnobValue): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v)
}

function describe(old: KnobState | undefined, k: KnobState): string {
  const id = `${k.service}/${k.name}`
  if (old === undefined) return `${k.actor} declared ${id} (${k.definition.type}, default ${fmt(k.definition.default)})`
  if (old.mode !== k.mode && k.mode === 'pinned') return `${k.actor} pinned ${id} at ${fmt(k.value)}`
  if (old.mode === 'pinned' && k.mode !== 'pinned') return `${k.actor} unpinned ${id}`
  if (old.value !== k.value)
    return `${k.actor} set ${id} ${fmt(old.value)} → ${fmt(k.value)}${old.mode !== k.mode ? ` (${k.mode})` : ''}`
  if (old.mode !== k.mode) return `${k.actor} switched ${id} to ${k.mode}`
  return `${k.actor} changed the definition of ${id}`
}
