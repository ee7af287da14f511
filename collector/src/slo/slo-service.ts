import type { ChangeLog } from '../changelog/change-log.ts'
import { DefinitionRegistry } from '../changelog/definition-registry.ts'
import type { Versioned, Who } from '../changelog/versioned-registry.ts'
import { GovernorError } from '../errors.ts'
import type { SliReads } from '../store/sli-reads.ts'
import type { VersionStore } from '../store/version-store.ts'
import { checkSloName, describeSlo, sameSlo, type SloDefinition } from './definition.ts'
import type { SliSeriesSource } from './sli-series.ts'
import { SloEvaluator, type SloStatus } from './slo-status.ts'

/** The change-log kind of SLO changes. */
export const SLO_KIND = 'slo'

export type Slo = Versioned<SloDefinition>

/**
 * The SLOs of every service: definitions with versions in `slo_versions`, each change an
 * event of kind `slo`, and their status computed from the store on request.
 */
export class SloService {
  readonly #registry: DefinitionRegistry<SloDefinition>
  readonly evaluator: SloEvaluator

  /** `versions`: where SLO versions live (`slo_versions`); `reads` and `series`: where their SLIs are read. */
  constructor(versions: VersionStore<Slo>, changeLog: ChangeLog, reads: SliReads, series: SliSeriesSource) {
    this.evaluator = new SloEvaluator(reads, series)
    this.#registry = new DefinitionRegistry<SloDefinition>({
      versions,
      changeLog,
      kind: SLO_KIND,
      same: sameSlo,
      title: (old, next) =>
        old === undefined
          ? `${next.actor} defined SLO ${next.service}/${next.name}: ${describeSlo(next.definition)}`
          : `${next.actor} changed SLO ${next.service}/${next.name}: ${changes(old.definition, next.definition)}`,
    })
  }

  load(): Promise<void> {
    return this.#registry.load()
  }

  list(service?: string): Slo[] {
    return this.#registry.list(service)
  }

  find(service: string, name: string): Slo | undefined {
    return this.#registry.get(service, name)
  }

  /** The SLO; GOV_ERR_SLO_NOT_FOUND when there is none. */
  get(service: string, name: string): Slo {
    const slo = this.#registry.get(service, name)
    if (slo === undefined)
      throw new GovernorError(
        'GOV_ERR_SLO_NOT_FOUND',
        `no SLO ${service}/${name}; define one with PUT /api/v1/slos/${service}/${name}`,
      )
    return slo
  }

  history(service: string, name: string): Promise<Slo[]> {
    this.get(service, name)
    return this.#registry.history(service, name)
  }

  /** Defines or changes an SLO; the same definition again changes nothing. */
  async put(
    service: string,
    name: string,
    def: SloDefinition,
    who: Who,
  ): Promise<{ slo: Slo; created: boolean; changed: boolean }> {
    checkSloName(service, 'service')
    checkSloName(name, 'SLO name')
    const { current, created, changed } = await this.#registry.put(service, name, def, who)
    return { slo: current, created, changed }
  }

  /**
   * Deletes an SLO (GOV_ERR_SLO_NOT_FOUND when there is none): a tombstone version and an
   * `slo` event; its history stays in `slo_versions`. The caller checks that no controller uses it.
   */
  async remove(service: string, name: string, who: Who): Promise<Slo> {
    const removed = await this.#registry.remove(
      service,
      name,
      who,
      (old) => `${who.actor} deleted SLO ${service}/${name}: ${describeSlo(old.definition)}`,
    )
    return removed ?? this.get(service, name)
  }

  /** Where the SLO stands at `now` (see `SloEvaluator.status`). */
  status(slo: Slo, now: number): Promise<SloStatus> {
    return this.evaluator.status(slo.service, slo.definition, now)
  }
}

/** What changed between two definitions, as `objective 99.9 → 99.5; window 30d → 7d`. */
function changes(a: SloDefinition, b: SloDefinition): string {
  const out: string[] = []
  if (a.objective !== b.objective) out.push(`objective ${a.objective} → ${b.objective}`)
  if (a.window !== b.window) out.push(`window ${a.window} → ${b.window}`)
  if (JSON.stringify(a.sli) !== JSON.stringify(b.sli)) out.push(`now ${describeSlo(b)}`)
  if (a.description !== b.description) out.push('description')
  return out.join('; ')
}
