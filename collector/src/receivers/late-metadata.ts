import type { NewEvent } from '../changelog/change-log.ts'
import { declareTypes, lateTypings, type LateTyping } from '../decode/late-typing.ts'
import type { MetricTypes } from '../model/metric-types.ts'
import type { RetypedSeries, Retyping } from '../store/series-retyping.ts'

/** The change-log kind of a metric whose stored series were re-typed when its metadata came. */
export const RETYPED_KIND = 'metric_retyped'

/** What applying late metadata needs: the collector's services, narrowed (tests pass their own). */
export interface LateMetadataDeps {
  /** The types samples yield to (`SeriesCache.types`). */
  types: MetricTypes
  /** Resolves once every point accepted before the call is committed (`WritePipeline.sync`). */
  sync: () => Promise<void>
  /** `Store.retypeSeries`. */
  retype: (retypings: readonly Retyping[]) => Promise<RetypedSeries[]>
  /** `ChangeLog.append`: an event whose id is stored already is not stored again. */
  record: (event: NewEvent) => Promise<unknown>
  now: () => number
}

/**
 * Applies Prometheus metadata that arrived (new or changed) to the series stored before it:
 *
 *   1. at once, before the caller returns: the types samples yield to say what the metadata
 *      declares, so that every sample decoded from now on is stored as that type;
 *   2. once what was accepted before is committed (samples decoded on the guess included):
 *      the stored series still carrying the guess are re-typed (see series-retyping.ts),
 *      then once more after a second sync, for a request decoded on the guess meanwhile;
 *   3. each re-typed metric is recorded in the change log, once per service (the id says
 *      which change it is: a second collector doing the same finds it stored).
 *
 * Rejects when the store fails; step 1 stays, so that the caller's retry (the same metadata,
 * sent again) re-types what is left. Resolves to what was re-typed.
 */
export function applyLateMetadata(
  stated: readonly { family: string; type: number }[],
  deps: LateMetadataDeps,
): Promise<RetypedSeries[]> {
  const typings = declareTypes(lateTypings(stated), deps.types)
  if (typings.length === 0) return Promise.resolve([])
  return retypeStored(typings, deps)
}

async function retypeStored(typings: readonly LateTyping[], deps: LateMetadataDeps): Promise<RetypedSeries[]> {
  const retypings = typings.map((t) => ({ metric: t.metric, from: t.guessed, to: t.declared }))
  await deps.sync()
  const first = await deps.retype(retypings)
  // A request decoded on the guess just before step 1 may be submitted after the sync above
  // (a large one is decoded over several turns): a second pass, cheap (one read when it finds
  // nothing), takes in the new series it stored meanwhile.
  await deps.sync()
  const retyped = merged(first, await deps.retype(retypings))
  const families = new Map(typings.map((t) => [t.metric, t.family]))
  const time = deps.now()
  for (const r of retyped) await deps.record(retypedEvent(r, families.get(r.metric) ?? r.metric, time))
  return retyped
}

/** Both passes' re-typed series, one entry per metric and service. */
function merged(a: readonly RetypedSeries[], b: readonly RetypedSeries[]): RetypedSeries[] {
  const out = new Map<string, RetypedSeries>()
  for (const r of [...a, ...b]) {
    const key = JSON.stringify([r.metric, r.service])
    const seen = out.get(key)
    out.set(key, seen === undefined ? { ...r } : { ...seen, series: seen.series + r.series })
  }
  return [...out.values()]
}

/** A type as Prometheus' metadata names it. */
function promType(t: Retyping['to']): string {
  return t === 'sum' ? 'counter' : 'gauge'
}

/** The change-log event of one metric's series of one service re-typed at `time`. */
export function retypedEvent(r: RetypedSeries, family: string, time: number): NewEvent {
  const [from, to] = [promType(r.from), promType(r.to)]
  return {
    id: `${RETYPED_KIND}:${r.service}:${r.metric}:${to}`,
    kind: RETYPED_KIND,
    time,
    timeEnd: time,
    service: r.service,
    environment: '',
    actor: 'governor',
    title: `${r.metric} re-typed from ${from} to ${to}`,
    text:
      `Its first samples came before the metadata of its family ${family}, and were stored as a ${from} on a guess ` +
      `from the name; the metadata says ${to}. ${r.series} series re-typed: every read treats them as a ${to}.`,
    tags: ['metadata', r.metric],
    version: '',
    data: { metric: r.metric, family, from, to, series: r.series },
  }
}
