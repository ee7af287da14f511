import { randomUUID } from 'node:crypto'
import { ThrottleClient } from './client.ts'
import { declarationBody } from './declaration.ts'
import { ThrottleError } from './errors.ts'
import type { LinkHooks } from './link.ts'
import type { KnobMode } from './remote-knob.ts'

/** Options of `createMemoryClient()`. */
export interface MemoryClientOptions {
  service: string
  /** A state file, as `connect()` takes it (to test start-up on last known good values). */
  stateFile?: string
  onError?: (err: ThrottleError) => void
}

/** Who changed a knob set in memory, and why (what the collector would record). */
export interface MemoryChange {
  changedBy?: string
  reason?: string
  mode?: KnobMode
  changeId?: string
}

/**
 * A client with no collector, for an app's tests: knobs, flags and launches work as with
 * `connect()`, and `set()` plays the collector's part (the value is checked against the
 * declaration, a bad one refused and reported, listeners told). `ready()` resolves at once.
 */
export class MemoryClient extends ThrottleClient {
  readonly #hooks: LinkHooks

  constructor(options: MemoryClientOptions) {
    let hooks: LinkHooks | undefined
    super({
      service: options.service,
      startupTimeoutMillis: 0,
      stateFile: options.stateFile,
      onError: options.onError,
      link: (h) => {
        hooks = h
        return { start: () => {}, declare: () => {}, close: () => h.status('closed') }
      },
    })
    this.#hooks = hooks!
  }

  /** Sets a declared knob as the collector would. Throws THROTTLE_ERR_DECLARATION_INVALID for an undeclared name. */
  set(name: string, value: unknown, change: MemoryChange = {}): void {
    const known = this.lookup(name)
    if (known === undefined || !known.declared)
      throw new ThrottleError('THROTTLE_ERR_DECLARATION_INVALID', `declare knob ${name} before setting it`, {
        knob: name,
      })
    this.#hooks.knob(
      {
        service: this.service,
        name,
        ...declarationBody(known.definition),
        value,
        mode: change.mode ?? 'manual',
        version: (known.info.version ?? 0) + 1,
        change_id: change.changeId ?? randomUUID(),
        changed_by: change.changedBy ?? 'memory',
        reason: change.reason ?? 'set in memory',
        changed_at: new Date().toISOString(),
      },
      'memory',
    )
  }
}

/** A client with no collector, for tests: see `MemoryClient`. */
export function createMemoryClient(options: MemoryClientOptions): MemoryClient {
  return new MemoryClient(options)
}
