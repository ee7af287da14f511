import type { ChangeLog } from '../changelog/change-log.ts'
import { DefinitionRegistry } from '../changelog/definition-registry.ts'
import type { Versioned, Who } from '../changelog/versioned-registry.ts'
import { GovernorError } from '../errors.ts'
import type { KnobService, KnobState } from '../knobs/knob-service.ts'
import type { SloService } from '../slo/slo-service.ts'
import type { VersionStore } from '../store/version-store.ts'
import type { AlgorithmName } from '@governor/throttle'
import {
  checkControllerName,
  controllerWarnings,
  parseController,
  withDefaults,
  type ControllerDefinition,
} from './definition.ts'

/** The change-log kind of controller changes, holds and shadow decisions. */
export const CONTROLLER_KIND = 'controller'

export type ControllerBinding = Versioned<ControllerDefinition>

/** Checks an algorithm's parameters (the factory does: it throws naming the bad one). */
export type ParamsCheck = (algorithm: AlgorithmName, params: Record<string, number>) => void

/**
 * Controller bindings of every service: definitions with versions in `controller_versions`,
 * each change an event of kind `controller`. Putting a controller in active mode switches
 * its knob to `auto` (unless the knob is pinned: then it stays pinned and the runner holds).
 */
export class ControllerService {
  readonly #registry: DefinitionRegistry<ControllerDefinition>
  readonly #knobs: KnobService
  readonly #slos: SloService
  readonly #checkParams: ParamsCheck

  /** `versions`: where controller versions live (`controller_versions`). */
  constructor(
    versions: VersionStore<ControllerBinding>,
    changeLog: ChangeLog,
    deps: { knobs: KnobService; slos: SloService; checkParams: ParamsCheck },
  ) {
    this.#knobs = deps.knobs
    this.#slos = deps.slos
    this.#checkParams = deps.checkParams
    this.#registry = new DefinitionRegistry<ControllerDefinition>({
      versions,
      changeLog,
      kind: CONTROLLER_KIND,
      // Versions stored before a field existed compare (and read) with its default.
      same: (a, b) => JSON.stringify(withDefaults(a)) === JSON.stringify(withDefaults(b)),
      title: (old, next) => {
        const id = `${next.service}/${next.name}`
        const d = next.definition
        return old === undefined
          ? `${next.actor} bound controller ${id}: ${d.algorithm} turns ${d.knob} within [${d.min}, ${d.max}] against SLO ${d.slo}${steering(d)} (${d.mode})`
          : `${next.actor} changed controller ${id}: ${changes(old.definition, d)}`
      },
      data: (_old, next) => ({
        controller: next.name,
        knob: next.definition.knob,
        slo: next.definition.slo,
        mode: next.definition.mode,
        effect: next.definition.effect,
        guard: next.definition.guard?.slo ?? null,
      }),
    })
  }

  load(): Promise<void> {
    return this.#registry.load()
  }

  list(service?: string): ControllerBinding[] {
    return this.#registry.list(service).map(complete)
  }

  find(service: string, name: string): ControllerBinding | undefined {
    const c = this.#registry.get(service, name)
    return c === undefined ? undefined : complete(c)
  }

  get(service: string, name: string): ControllerBinding {
    const c = this.find(service, name)
    if (c === undefined)
      throw new GovernorError(
        'GOV_ERR_CONTROLLER_NOT_FOUND',
        `no controller ${service}/${name}; bind one with PUT /api/v1/controllers/${service}/${name}`,
      )
    return c
  }

  async history(service: string, name: string): Promise<ControllerBinding[]> {
    this.get(service, name)
    return (await this.#registry.history(service, name)).map(complete)
  }

  /** Reads a binding body against the service's knobs and SLOs (see `parseController`); throws what is wrong. */
  check(service: string, body: unknown): ControllerDefinition {
    checkControllerName(service, 'service')
    return parseController(body, service, {
      knob: (k) => this.#knobs.list(service).find((x) => x.name === k),
      hasSlo: (s) => this.#slos.find(service, s) !== undefined,
      checkParams: this.#checkParams,
    })
  }

  /**
   * Deletes a binding (GOV_ERR_CONTROLLER_NOT_FOUND when there is none): a tombstone version
   * and a `controller` event; its history stays in `controller_versions`. A knob it left in
   * `auto` mode, and that no other active controller turns, goes back to `manual`, so that
   * nobody waits for a controller that is gone.
   */
  async remove(
    service: string,
    name: string,
    who: Who,
  ): Promise<{ controller: ControllerBinding; knob: KnobState | undefined }> {
    const removed = await this.#registry.remove(
      service,
      name,
      who,
      (old) =>
        `${who.actor} deleted controller ${service}/${name} (it turned ${old.definition.knob} against SLO ${old.definition.slo})`,
    )
    if (removed === undefined) return { controller: this.get(service, name), knob: undefined }
    const def = withDefaults(removed.definition)
    let knob = this.#knobs.list(service).find((k) => k.name === def.knob)
    const stillTurned = this.list(service).some((c) => c.definition.knob === def.knob && c.definition.mode === 'active')
    if (knob !== undefined && knob.mode === 'auto' && !stillTurned) {
      knob = await this.#knobs.setMode(service, def.knob, 'manual', {
        actor: who.actor,
        reason: `controller ${service}/${name} was deleted: ${who.reason}`,
      })
    }
    return { controller: complete(removed), knob }
  }

  /** Whether a binding of the service steers on, or is guarded by, the SLO `slo`; the first such binding's name. */
  usingSlo(service: string, slo: string): string | undefined {
    return this.list(service).find((c) => c.definition.slo === slo || c.definition.guard?.slo === slo)?.name
  }

  /**
   * Checks and stores a binding (the same one again changes nothing). In active mode the
   * knob is switched to `auto` unless it is pinned; `knob` is the knob after that. `warnings`:
   * what the operator should know (`controllerWarnings`), stored anyway.
   */
  async put(
    service: string,
    name: string,
    body: unknown,
    who: Who,
  ): Promise<{
    controller: ControllerBinding
    created: boolean
    changed: boolean
    knob: KnobState
    warnings: string[]
  }> {
    checkControllerName(name, 'controller name')
    const def = this.check(service, body)
    const warnings = controllerWarnings(def, service, this.#slos.find(service, def.slo)?.definition)
    const { current, created, changed } = await this.#registry.put(service, name, def, who)
    let knob = this.#knobs.get(service, def.knob)
    if (def.mode === 'active' && knob.mode === 'manual') {
      knob = await this.#knobs.setMode(service, def.knob, 'auto', {
        actor: who.actor,
        reason: `controller ${service}/${name} is active: ${who.reason}`,
      })
    }
    return { controller: complete(current), created, changed, knob, warnings }
  }
}

/** A binding with every field of its definition (see `withDefaults`). */
function complete(c: ControllerBinding): ControllerBinding {
  return { ...c, definition: withDefaults(c.definition) }
}

/** ", effect lowers, guarded by SLO downstream-latency" for what is not today's default. */
function steering(d: ControllerDefinition): string {
  return `${d.effect === 'lowers' ? ', effect lowers' : ''}${d.guard !== null ? `, guarded by SLO ${d.guard.slo}` : ''}`
}

/** What changed between two bindings, as `mode shadow → active; max 200 → 100`. */
function changes(old: ControllerDefinition, b: ControllerDefinition): string {
  const a = withDefaults(old)
  const out: string[] = []
  for (const k of Object.keys(b) as (keyof ControllerDefinition)[]) {
    const x = JSON.stringify(a[k]),
      y = JSON.stringify(b[k])
    if (x !== y)
      out.push(k === 'description' ? 'description' : `${k} ${x.replaceAll('"', '')} → ${y.replaceAll('"', '')}`)
  }
  return out.join('; ')
}
