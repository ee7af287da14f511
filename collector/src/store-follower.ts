import { Counter, type Registry } from 'prom-client'
import type { RegistryFollower } from './changelog/registry-follower.ts'
import { PeriodicLoop } from './util/periodic-loop.ts'

/** The part of a logger the follower uses. */
export interface FollowerLog {
  error(obj: object, msg: string): void
  debug(obj: object, msg: string): void
}

/** What the follower loop polls, how often, and where it logs and counts failures. */
export interface StoreFollowerOptions {
  knobs: Pick<RegistryFollower<never>, 'poll'>
  /** Reloaded every `definitionsMillis` (the controller runner's view of SLOs and controllers). */
  definitions: { load(): Promise<void> }[]
  definitionsMillis: number
  /** Time between two polls of the knobs; 0: `start` does nothing. */
  intervalMillis: number
  now: () => number
  log: FollowerLog
  registry: Registry
}

/**
 * The background loop of a collector that shares its store with others: at every interval
 * it takes in the knob versions they wrote (pushed to this collector's streams at once), and
 * every `definitionsMillis` it reloads the definitions the controllers run on. Never throws
 * (CONVENTIONS #11): a failure is counted in `governor_follower_failures_total{what}` and
 * logged once until it recovers.
 */
export class StoreFollower {
  readonly #o: StoreFollowerOptions
  readonly #loop: PeriodicLoop<number>
  readonly #failures: Counter<'what'>
  readonly #failing = new Set<string>()
  #lastDefinitions: number | undefined

  constructor(options: StoreFollowerOptions) {
    this.#o = options
    this.#failures = new Counter({
      name: 'governor_follower_failures_total',
      help: "Polls of the shared store for other collectors' changes that failed, by what was read (knobs, definitions).",
      labelNames: ['what'],
      registers: [options.registry],
    })
    this.#loop = new PeriodicLoop(() => this.#run(), -1, {
      intervalMillis: options.intervalMillis,
      stopTimeoutMillis: 5_000,
    })
  }

  start(): void {
    this.#loop.start()
  }

  /** One poll now; resolves to the knob versions taken in (-1: skipped, a poll was running). */
  tick(): Promise<number> {
    return this.#loop.tick()
  }

  stop(): Promise<void> {
    return this.#loop.stop()
  }

  async #run(): Promise<number> {
    let taken = 0
    try {
      taken = await this.#o.knobs.poll()
      this.#ok('knobs')
    } catch (err) {
      this.#fail('knobs', err)
    }
    const now = this.#o.now()
    if (this.#lastDefinitions === undefined || now - this.#lastDefinitions >= this.#o.definitionsMillis) {
      this.#lastDefinitions = now
      try {
        for (const d of this.#o.definitions) await d.load()
        this.#ok('definitions')
      } catch (err) {
        this.#fail('definitions', err)
      }
    }
    return taken
  }

  #fail(what: string, err: unknown): void {
    this.#failures.inc({ what })
    const msg = `following the shared store: reading ${what} failed`
    if (this.#failing.has(what)) return this.#o.log.debug({ err }, msg)
    this.#failing.add(what)
    this.#o.log.error({ err }, msg)
  }

  #ok(what: string): void {
    this.#failing.delete(what)
  }
}
