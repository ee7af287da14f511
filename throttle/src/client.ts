import {
  checkName,
  declarationBody,
  normalizeDeclaration,
  sameDefinition,
  valueProblem,
  type BoolKnobDeclaration,
  type EnumKnobDeclaration,
  type KnobDeclaration,
  type KnobDefinition,
  type KnobValue,
  type NumberKnobDeclaration,
  type StringKnobDeclaration,
} from './declaration.ts'
import { ThrottleError } from './errors.ts'
import { Flag, LAUNCH_MODES, Launch, type LaunchMode } from './flag.ts'
import { Knob, updateKnob, type KnobInfo, type KnobSource } from './knob.ts'
import type { Link, LinkHooks } from './link.ts'
import type { ConnectionStatus } from './live-connection.ts'
import { parseRemoteKnob, remoteValueProblem, type RemoteKnob } from './remote-knob.ts'
import { readStateFile, stateFileText, StateFileWriter, type StoredKnob } from './state-file.ts'

/** How `ready()` ended: values from the collector, or the state file and defaults (it timed out). */
export type ReadySource = 'collector' | 'local'

/** A change of any knob of the service, as the client's `change` event reports it. */
export interface ClientKnobChange extends KnobInfo {
  name: string
  value: KnobValue
  /** Undefined for a knob the client had not heard of. */
  previous: KnobValue | undefined
  /** False for a knob this app did not declare (seen in the collector's list only). */
  declared: boolean
}

/** A knob as the client knows it, declared here or seen in the collector's list only. */
export interface KnobDescription {
  name: string
  definition: Readonly<KnobDefinition>
  value: KnobValue
  info: Readonly<KnobInfo>
  declared: boolean
  /** The knob as the collector last showed it (undefined when it has not). */
  json: Readonly<Record<string, unknown>> | undefined
}

/** Options of `client.flag()`. */
export interface FlagOptions {
  /** `percent` (a rollout, default) or `bool` (on or off for everyone). */
  type?: 'percent' | 'bool'
  /** Default 0 (percent) or false (bool). */
  default?: number | boolean
  description?: string
  owner?: string
}

/** Options of `client.launch()`. */
export interface LaunchOptions {
  /** Default `off`. */
  default?: LaunchMode
  /** Also declare `<name>.rollout`, a percent knob (default 100, or this number) splitting `on` between on and dark. */
  rollout?: boolean | number
  description?: string
  owner?: string
}

interface ClientEvents {
  change: (change: ClientKnobChange) => void
  error: (err: ThrottleError) => void
  status: (status: ConnectionStatus) => void
}

interface Entry {
  knob: Knob
  def: KnobDefinition
  /** pending: queued or in flight; failed: not delivered yet (retried on reconnect). */
  declared: 'pending' | 'failed' | 'done' | 'refused'
  /** The last refused value, so that the same bad value is reported once. */
  refused: string | undefined
}

/** Library-internal construction parameters: apps call `connect()` or `createMemoryClient()`. */
export interface ClientInit {
  service: string
  startupTimeoutMillis: number
  stateFile: string | undefined
  onError: ((err: ThrottleError) => void) | undefined
  link: (hooks: LinkHooks) => Link
}

const warned = new Set<string>()

/**
 * A service's knobs, live. Declaring returns a handle at once (on the last known good value or
 * the default); values follow the collector from then on. Nothing here throws at the app after
 * the declaration: errors go to `onError` and the `error` event.
 */
export class ThrottleClient {
  readonly service: string
  readonly #entries = new Map<string, Entry>()
  readonly #flags = new Map<string, Flag>()
  readonly #launches = new Map<string, Launch>()
  /** Every knob of the service as the collector last showed it. */
  readonly #remote = new Map<string, RemoteKnob>()
  /** Last known good values, from the state file and then from the collector. */
  readonly #stored: Map<string, StoredKnob>
  readonly #writer: StateFileWriter | undefined
  readonly #onError: ((err: ThrottleError) => void) | undefined
  readonly #listeners: { [K in keyof ClientEvents]: Set<ClientEvents[K]> } = {
    change: new Set(),
    error: new Set(),
    status: new Set(),
  }
  readonly #link: Link
  readonly #ready: Promise<ReadySource>
  #resolveReady!: (source: ReadySource) => void
  #readyDone = false
  #synced = false
  #closed = false
  #status: ConnectionStatus = 'connecting'

  /** Library-internal: use `connect()` or `createMemoryClient()`. */
  constructor(init: ClientInit) {
    this.service = checkName(init.service, 'service')
    this.#onError = init.onError
    this.#ready = new Promise((resolve) => {
      this.#resolveReady = resolve
    })
    const timer = setTimeout(() => this.#settle('local'), init.startupTimeoutMillis)
    timer.unref()
    if (init.stateFile === undefined) this.#stored = new Map()
    else {
      const { knobs, error } = readStateFile(init.stateFile, this.service)
      this.#stored = knobs
      if (error !== undefined) this.#report(error)
      this.#writer = new StateFileWriter(
        init.stateFile,
        () => stateFileText(this.service, this.#stored, new Date()),
        (err) => this.#report(err),
      )
    }
    this.#link = init.link(this.#hooks())
    this.#link.start()
  }

  /** Where values come from now: `streaming`, `polling`, `disconnected` (values held), `connecting`, `closed`. */
  get status(): ConnectionStatus {
    return this.#status
  }

  /**
   * Resolves when the values are the collector's (its list has arrived and this tick's
   * declarations are answered), or after `startupTimeoutMillis` on the state file and the
   * defaults. Never rejects; the client keeps trying either way.
   */
  ready(): Promise<ReadySource> {
    return this.#ready
  }

  /**
   * Declares a knob (sent to the collector with the other declarations of this tick) and
   * returns its live handle. Throws THROTTLE_ERR_DECLARATION_INVALID for a malformed declaration
   * and THROTTLE_ERR_DECLARATION_CONFLICT when the name is already declared differently.
   */
  knob(name: string, declaration: NumberKnobDeclaration): Knob<number>
  knob(name: string, declaration: BoolKnobDeclaration): Knob<boolean>
  knob<const V extends string>(name: string, declaration: EnumKnobDeclaration<V>): Knob<V>
  knob(name: string, declaration: StringKnobDeclaration): Knob<string>
  // The implementation's `any`: Knob<T> is invariant in T (its listeners take T), so no other
  // return type relates to every overload's. Callers only ever see the overloads.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  knob(name: string, declaration: KnobDeclaration): Knob<any> {
    if (this.#closed)
      throw new ThrottleError('THROTTLE_ERR_CLOSED', `cannot declare knob ${name}: the client is closed`, {
        knob: name,
      })
    checkName(name, 'knob name')
    const def = normalizeDeclaration(name, declaration)
    const existing = this.#entries.get(name)
    if (existing !== undefined) {
      if (sameDefinition(existing.def, def)) return existing.knob
      throw new ThrottleError(
        'THROTTLE_ERR_DECLARATION_CONFLICT',
        `knob ${name} is already declared as ${JSON.stringify(declarationBody(existing.def))}, not ${JSON.stringify(declarationBody(def))}`,
        { knob: name },
      )
    }
    let value = def.default
    let info: KnobInfo = {
      source: 'default',
      mode: undefined,
      version: undefined,
      changeId: undefined,
      changedBy: undefined,
      reason: undefined,
      changedAt: undefined,
    }
    const remote = this.#remote.get(name)
    const stored = this.#stored.get(name)
    if (remote !== undefined && valueProblem(def, remote.value) === undefined) {
      value = remote.value as KnobValue
      info = infoOf(remote, 'collector')
    } else if (stored !== undefined && valueProblem(def, stored.value) === undefined) {
      value = stored.value
      info = { ...stored.info, source: 'state-file' }
    }
    const knob = new Knob(name, def, value, info, (err) => this.#report(err))
    this.#entries.set(name, { knob, def, declared: 'pending', refused: undefined })
    this.#link.declare(name)
    return knob
  }

  /**
   * A feature flag: a `percent` knob (default 0) whose `enabled(key)` keeps each key in its
   * bucket as the percentage grows, or a `bool` knob (on or off for everyone).
   */
  flag(name: string, options: FlagOptions = {}): Flag {
    const text = { description: options.description, owner: options.owner }
    const knob =
      options.type === 'bool'
        ? this.knob(name, { type: 'bool', default: (options.default ?? false) as boolean, ...text })
        : this.knob(name, { type: 'percent', default: (options.default ?? 0) as number, unit: '%', ...text })
    const existing = this.#flags.get(name)
    if (existing !== undefined && existing.knob === knob) return existing
    const flag = new Flag(knob)
    this.#flags.set(name, flag)
    return flag
  }

  /**
   * A dark launch: an enum knob `off | dark | on` (`dark`: run the new code, do not show it).
   * With `rollout`, `on` goes to the keys in the buckets of the percent knob `<name>.rollout`
   * and `dark` to the others. Pin the knob at `off` in the collector for a kill switch.
   */
  launch(name: string, options: LaunchOptions = {}): Launch {
    const knob = this.knob(name, {
      type: 'enum',
      values: LAUNCH_MODES,
      default: options.default ?? 'off',
      description: options.description,
      owner: options.owner,
    })
    const rollout =
      options.rollout === undefined || options.rollout === false
        ? undefined
        : this.knob(`${name}.rollout`, {
            type: 'percent',
            default: typeof options.rollout === 'number' ? options.rollout : 100,
            unit: '%',
            description: `share of the keys that see ${name} on while it is on (the others see it dark)`,
          })
    const existing = this.#launches.get(name)
    if (existing !== undefined && existing.rollout === rollout) return existing
    const launch = new Launch(knob, rollout)
    this.#launches.set(name, launch)
    return launch
  }

  /** The knob `name` as the client knows it: declared here, or seen in the collector's list. */
  lookup(name: string): KnobDescription | undefined {
    const entry = this.#entries.get(name)
    const remote = this.#remote.get(name)
    if (entry !== undefined)
      return {
        name,
        definition: entry.def,
        value: entry.knob.value,
        info: entry.knob.info,
        declared: true,
        json: remote?.json,
      }
    if (remote === undefined || remoteValueProblem(remote) !== undefined) return undefined
    return {
      name,
      definition: remote.definition,
      value: remote.value as KnobValue,
      info: infoOf(remote, 'collector'),
      declared: false,
      json: remote.json,
    }
  }

  on<K extends keyof ClientEvents>(event: K, listener: ClientEvents[K]): this {
    this.#listeners[event].add(listener)
    return this
  }

  off<K extends keyof ClientEvents>(event: K, listener: ClientEvents[K]): this {
    this.#listeners[event].delete(listener)
    return this
  }

  /** Stops following the collector (values stay as they are) and finishes writing the state file. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true
      this.#link.close()
      this.#settle('local')
    }
    await this.#writer?.flush()
  }

  #hooks(): LinkHooks {
    return {
      snapshot: (knobs) => this.#snapshot(knobs),
      knob: (raw, origin) => this.#knob(raw, origin),
      refused: (name, err) => this.#declared(name, 'refused', err),
      unreachable: (name, err) => this.#declared(name, 'failed', err),
      status: (status) => {
        this.#status = status
        for (const l of this.#listeners.status) safely(() => l(status))
      },
      report: (err) => this.#report(err),
      bodyOf: (name) => declarationBody(this.#entries.get(name)!.def),
    }
  }

  #snapshot(knobs: unknown[]): void {
    const seen = new Set<string>()
    for (const raw of knobs) {
      const remote = parseRemoteKnob(raw)
      if (typeof remote === 'string') {
        this.#report(new ThrottleError('THROTTLE_ERR_PROTOCOL', `the collector's knob list: ${remote}`))
        continue
      }
      seen.add(remote.name)
      this.#apply(remote, 'collector')
    }
    for (const name of [...this.#remote.keys()]) if (!seen.has(name)) this.#remote.delete(name)
    // A knob declared and answered that the collector no longer has: it lost it (a new data
    // directory, a restore). Declare it again.
    for (const [name, entry] of this.#entries) {
      if (!seen.has(name) && entry.declared === 'done') {
        entry.declared = 'pending'
        this.#link.declare(name)
      }
    }
    this.#synced = true
    this.#checkReady()
  }

  #knob(raw: unknown, origin: 'stream' | 'declaration' | 'memory'): void {
    const remote = parseRemoteKnob(raw)
    if (typeof remote === 'string') {
      this.#report(
        new ThrottleError('THROTTLE_ERR_PROTOCOL', `the collector sent a knob that cannot be read: ${remote}`),
      )
      return
    }
    // The stream is ordered; a declaration's answer may be older than what the stream brought.
    const known = this.#remote.get(remote.name)
    if (origin !== 'declaration' || known === undefined || remote.version >= known.version)
      this.#apply(remote, origin === 'memory' ? 'memory' : 'collector')
    if (origin === 'declaration') this.#declared(remote.name, 'done')
  }

  #apply(remote: RemoteKnob, source: KnobSource): void {
    const before = this.#remote.get(remote.name)
    this.#remote.set(remote.name, remote)
    const entry = this.#entries.get(remote.name)
    if (entry === undefined) {
      // A knob this app did not declare: reported to `change` listeners (an OpenFeature
      // provider serves it), checked against the collector's own definition.
      if (remoteValueProblem(remote) === undefined && (before === undefined || before.value !== remote.value)) {
        this.#emitChange({
          ...infoOf(remote, source),
          name: remote.name,
          value: remote.value as KnobValue,
          previous: before?.value as KnobValue | undefined,
          declared: false,
        })
      }
      return
    }
    const problem = valueProblem(entry.def, remote.value)
    if (problem !== undefined) {
      const tag = `${remote.version}:${JSON.stringify(remote.value)}`
      if (entry.refused !== tag) {
        entry.refused = tag
        this.#report(
          new ThrottleError(
            'THROTTLE_ERR_VALUE_REFUSED',
            `knob ${remote.name}: refused ${problem} (version ${remote.version}, changed by ${remote.changedBy || '?'}); keeping ${JSON.stringify(entry.knob.value)}`,
            { knob: remote.name },
          ),
        )
      }
      return
    }
    entry.refused = undefined
    const value = remote.value as KnobValue
    const info = infoOf(remote, source)
    const change = updateKnob(entry.knob, value, info)
    if (source === 'collector' && this.#writer !== undefined) {
      const s = this.#stored.get(remote.name)
      if (
        s === undefined ||
        s.value !== value ||
        s.info.version !== info.version ||
        s.info.changeId !== info.changeId ||
        s.info.mode !== info.mode
      ) {
        const { source: _, ...rest } = info
        this.#stored.set(remote.name, { value, info: rest })
        this.#writer.schedule()
      }
    }
    if (change !== undefined) this.#emitChange({ ...change, declared: true })
  }

  #declared(name: string, state: 'done' | 'failed' | 'refused', err?: ThrottleError): void {
    const entry = this.#entries.get(name)
    if (entry !== undefined) entry.declared = state
    if (err !== undefined && state === 'refused') this.#report(err)
    this.#checkReady()
  }

  #checkReady(): void {
    if (this.#readyDone || !this.#synced) return
    for (const e of this.#entries.values()) if (e.declared === 'pending') return
    this.#settle('collector')
  }

  #settle(source: ReadySource): void {
    if (this.#readyDone) return
    this.#readyDone = true
    this.#resolveReady(source)
  }

  #emitChange(change: ClientKnobChange): void {
    for (const l of this.#listeners.change) {
      try {
        l(change)
      } catch (err) {
        this.#report(
          new ThrottleError(
            'THROTTLE_ERR_LISTENER',
            `a change listener of the client threw: ${(err as Error)?.message ?? String(err)}`,
            { cause: err, knob: change.name },
          ),
        )
      }
    }
  }

  /** Errors reach the app asynchronously, so listeners added right after `connect()` hear the first ones. */
  #report(err: ThrottleError): void {
    queueMicrotask(() => {
      if (this.#onError !== undefined) safely(() => this.#onError!(err))
      for (const l of this.#listeners.error) safely(() => l(err))
      if (this.#onError === undefined && this.#listeners.error.size === 0 && !warned.has(err.code)) {
        // No one listens: say it once per kind of error rather than never, or on every retry.
        warned.add(err.code)
        process.emitWarning(err.message, { code: err.code })
      }
    })
  }
}

function infoOf(remote: RemoteKnob, source: KnobSource): KnobInfo {
  return {
    source,
    mode: remote.mode,
    version: remote.version,
    changeId: remote.changeId,
    changedBy: remote.changedBy,
    reason: remote.reason,
    changedAt: remote.changedAt,
  }
}

function safely(fn: () => void): void {
  try {
    fn()
  } catch {
    /* a listener's error is its own */
  }
}
