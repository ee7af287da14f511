import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { GovernorError, isGovernorError } from '../errors.ts'
import { checkSloName, parseSlo, type SloDefinition } from './definition.ts'
import type { SloService } from './slo-service.ts'

/** One SLO of the file. */
export interface FileSlo {
  service: string
  name: string
  definition: SloDefinition
  /** The entry's `reason`, else "applied from <path>". */
  reason: string
}

/**
 * Reads the SLO file ops keep in git (`GOVERNOR_SLO_FILE`), YAML:
 *
 * ```yaml
 * slos:
 *   - service: checkout
 *     name: latency
 *     sli: { type: latency, metric: http.server.request.duration, percentile: 99, threshold_ms: 300 }
 *     objective: 99.9
 *     window: 30d
 *     reason: agreed with the checkout team   # optional
 * ```
 *
 * (a list at the top level works too). Every entry is checked as `PUT /api/v1/slos` checks
 * a body; any problem stops the start with GOV_ERR_SETTINGS_INVALID naming the file, the
 * entry and the problem.
 */
export function loadSloFile(path: string): FileSlo[] {
  let doc: unknown
  try {
    doc = parse(readFileSync(path, 'utf8'))
  } catch (err) {
    throw settings(path, (err as Error).message)
  }
  const list = Array.isArray(doc) ? doc : doc === null || doc === undefined ? [] : (doc as { slos?: unknown }).slos
  if (!Array.isArray(list)) throw settings(path, 'expected a list of SLOs, or `slos:` with a list')
  const seen = new Set<string>()
  return list.map((entry, i) => {
    const where = `slos[${i}]`
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
      throw settings(path, `${where}: expected a mapping`)
    const { service, name, reason, ...rest } = entry as Record<string, unknown>
    const label = `${where} (${String(service)}/${String(name)})`
    if (typeof service !== 'string' || typeof name !== 'string')
      throw settings(path, `${where}: service and name are required`)
    if (reason !== undefined && typeof reason !== 'string') throw settings(path, `${label}: reason must be a string`)
    if (seen.has(`${service}\0${name}`)) throw settings(path, `${label}: defined twice`)
    seen.add(`${service}\0${name}`)
    try {
      checkSloName(service, 'service')
      checkSloName(name, 'SLO name')
      return { service, name, definition: parseSlo(rest), reason: reason?.trim() || `applied from ${path}` }
    } catch (err) {
      throw isGovernorError(err) ? settings(path, `${label}: ${err.message}`) : err
    }
  })
}

/**
 * Applies the file's SLOs as changes by actor `file:<path>`: a definition identical to the
 * stored one changes nothing (no version, no event). SLOs missing from the file are kept.
 */
export async function applySloFile(
  slos: SloService,
  path: string,
  entries: readonly FileSlo[],
): Promise<{ changed: number }> {
  let changed = 0
  for (const e of entries) {
    const r = await slos.put(e.service, e.name, e.definition, { actor: `file:${path}`, reason: e.reason })
    if (r.changed) changed++
  }
  return { changed }
}

function settings(path: string, message: string): GovernorError {
  return new GovernorError('GOV_ERR_SETTINGS_INVALID', `GOVERNOR_SLO_FILE ${path}: ${message}`)
}
