/**
 * An OpenFeature provider over a throttle client (`@governor/throttle/openfeature`; needs the
 * optional peer `@openfeature/server-sdk`). Every knob of the service is a flag of the same
 * name: booleans from bool knobs, percent knobs (the targeting key's bucket, as
 * `Flag.enabled`) and launches (`on`); numbers from int, float and percent knobs; strings from
 * enum and string knobs (a launch: its mode for the targeting key); objects from the JSON of
 * a string knob, or the knob itself. Each result's `flagMetadata` cites the change that
 * produced the value: `change_id`, `changed_by`, `reason`.
 */
import {
  ErrorCode,
  OpenFeatureEventEmitter,
  ProviderEvents,
  StandardResolutionReasons,
  type EvaluationContext,
  type FlagMetadata,
  type JsonValue,
  type Provider,
  type ResolutionDetails,
} from '@openfeature/server-sdk'
import { BUCKETS, bucketOf, bucketsFor } from './bucketing.ts'
import type { ClientKnobChange, KnobDescription, ThrottleClient } from './client.ts'
import { LAUNCH_MODES, type LaunchMode } from './flag.ts'

/** Options of `GovernorProvider`. */
export interface GovernorProviderOptions {
  /** Close the client when OpenFeature closes the provider. Default false: the app owns it. */
  closeClient?: boolean
}

type Kind = 'boolean' | 'number' | 'string' | 'object'

/** The OpenFeature provider: `await OpenFeature.setProviderAndWait(new GovernorProvider(client))`. */
export class GovernorProvider implements Provider {
  readonly metadata = { name: 'governor' } as const
  readonly runsOn = 'server' as const
  readonly events = new OpenFeatureEventEmitter()
  readonly #client: ThrottleClient
  readonly #closeClient: boolean
  #changed: Set<string> | undefined

  constructor(client: ThrottleClient, options: GovernorProviderOptions = {}) {
    this.#client = client
    this.#closeClient = options.closeClient ?? false
    client.on('change', this.#onChange)
  }

  /** Waits for the client's `ready()` (at most its start-up timeout); never fails on the collector being away. */
  async initialize(): Promise<void> {
    await this.#client.ready()
  }

  async onClose(): Promise<void> {
    this.#client.off('change', this.#onChange)
    if (this.#closeClient) await this.#client.close()
  }

  async resolveBooleanEvaluation(
    flagKey: string,
    defaultValue: boolean,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<boolean>> {
    return this.#resolve(flagKey, defaultValue, context, 'boolean')
  }

  async resolveNumberEvaluation(
    flagKey: string,
    defaultValue: number,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<number>> {
    return this.#resolve(flagKey, defaultValue, context, 'number')
  }

  async resolveStringEvaluation(
    flagKey: string,
    defaultValue: string,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<string>> {
    return this.#resolve(flagKey, defaultValue, context, 'string')
  }

  async resolveObjectEvaluation<T extends JsonValue>(
    flagKey: string,
    defaultValue: T,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<T>> {
    return this.#resolve(flagKey, defaultValue, context, 'object')
  }

  // Changes of one tick (a snapshot brings many) become one ConfigurationChanged event.
  readonly #onChange = (change: ClientKnobChange): void => {
    if (this.#changed === undefined) {
      this.#changed = new Set()
      queueMicrotask(() => {
        const flagsChanged = [...this.#changed!]
        this.#changed = undefined
        this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged })
      })
    }
    this.#changed.add(change.name)
    // A launch's rollout changes what the launch resolves to.
    if (change.name.endsWith('.rollout')) this.#changed.add(change.name.slice(0, -'.rollout'.length))
  }

  #resolve<T>(flagKey: string, defaultValue: T, context: EvaluationContext, kind: Kind): ResolutionDetails<T> {
    const k = this.#client.lookup(flagKey)
    if (k === undefined)
      return failure(
        defaultValue,
        ErrorCode.FLAG_NOT_FOUND,
        `no knob ${flagKey} in service ${this.#client.service}`,
        {},
      )
    const flagMetadata = metadataOf(k)
    const reason =
      k.info.source === 'default'
        ? StandardResolutionReasons.DEFAULT
        : k.info.source === 'state-file'
          ? StandardResolutionReasons.CACHED
          : StandardResolutionReasons.STATIC
    const type = k.definition.type
    const key = context.targetingKey
    const ok = (value: unknown, variant: string, why: string = reason): ResolutionDetails<T> => ({
      value: value as T,
      variant,
      reason: why,
      flagMetadata,
    })
    const mismatch = () =>
      failure(
        defaultValue,
        ErrorCode.TYPE_MISMATCH,
        `knob ${flagKey} is a ${type} knob; it does not resolve to a ${kind}`,
        flagMetadata,
      )
    switch (kind) {
      case 'boolean': {
        if (type === 'bool') return ok(k.value, String(k.value))
        if (type === 'percent') {
          const buckets = bucketsFor(k.value as number)
          if (buckets <= 0 || buckets >= BUCKETS) return ok(buckets > 0, buckets > 0 ? 'on' : 'off')
          if (key === undefined || key === '')
            return failure(
              defaultValue,
              ErrorCode.TARGETING_KEY_MISSING,
              `percent knob ${flagKey} needs a targeting key to place it in a bucket`,
              flagMetadata,
            )
          const on = bucketOf(flagKey, key) < buckets
          return ok(on, on ? 'on' : 'off', StandardResolutionReasons.SPLIT)
        }
        if (isLaunch(k)) {
          const mode = this.#launchMode(k, key)
          return ok(mode === 'on', mode)
        }
        return mismatch()
      }
      case 'number':
        return type === 'int' || type === 'float' || type === 'percent' ? ok(k.value, String(k.value)) : mismatch()
      case 'string':
        if (isLaunch(k)) {
          const mode = this.#launchMode(k, key)
          return ok(mode, mode)
        }
        return type === 'enum' || type === 'string' ? ok(k.value, String(k.value)) : mismatch()
      case 'object': {
        if (type !== 'string') return ok(k.json ?? knobJson(k), 'knob')
        try {
          return ok(JSON.parse(k.value as string), 'json')
        } catch (err) {
          return failure(
            defaultValue,
            ErrorCode.PARSE_ERROR,
            `string knob ${flagKey} does not hold JSON: ${(err as Error).message}`,
            flagMetadata,
          )
        }
      }
    }
  }

  /** A launch's mode for `key`, with its `<name>.rollout` knob when there is one (as `Launch.mode`). */
  #launchMode(k: KnobDescription, key: string | undefined): LaunchMode {
    const mode = k.value as LaunchMode
    if (mode !== 'on') return mode
    const rollout = this.#client.lookup(`${k.name}.rollout`)
    if (rollout === undefined || rollout.definition.type !== 'percent') return 'on'
    const buckets = bucketsFor(rollout.value as number)
    if (buckets >= BUCKETS) return 'on'
    if (buckets <= 0 || key === undefined || key === '') return 'dark'
    return bucketOf(k.name, key) < buckets ? 'on' : 'dark'
  }
}

function isLaunch(k: KnobDescription): boolean {
  const v = k.definition.values
  return (
    k.definition.type === 'enum' &&
    v !== null &&
    v.length === LAUNCH_MODES.length &&
    LAUNCH_MODES.every((m) => v.includes(m))
  )
}

function metadataOf(k: KnobDescription): FlagMetadata {
  const m: FlagMetadata = { type: k.definition.type, source: k.info.source }
  if (k.info.changeId !== undefined && k.info.changeId !== '') m.change_id = k.info.changeId
  if (k.info.changedBy !== undefined && k.info.changedBy !== '') m.changed_by = k.info.changedBy
  if (k.info.reason !== undefined && k.info.reason !== '') m.reason = k.info.reason
  if (k.info.version !== undefined) m.version = k.info.version
  if (k.info.mode !== undefined) m.mode = k.info.mode
  if (k.info.changedAt !== undefined && k.info.changedAt !== '') m.changed_at = k.info.changedAt
  return m
}

function knobJson(k: KnobDescription): JsonValue {
  const d = k.definition
  return {
    name: k.name,
    type: d.type,
    value: k.value,
    default: d.default,
    min: d.min,
    max: d.max,
    values: d.values,
    unit: d.unit,
    description: d.description,
    owner: d.owner,
    mode: k.info.mode ?? null,
    version: k.info.version ?? null,
    change_id: k.info.changeId ?? null,
    changed_by: k.info.changedBy ?? null,
    reason: k.info.reason ?? null,
  }
}

function failure<T>(
  value: T,
  errorCode: ErrorCode,
  errorMessage: string,
  flagMetadata: FlagMetadata,
): ResolutionDetails<T> {
  return { value, reason: StandardResolutionReasons.ERROR, errorCode, errorMessage, flagMetadata }
}
