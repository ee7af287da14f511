import { seriesIdsOf } from '../store/encoded-batch.ts'
import type { Quarantine, QuarantineEntry } from './quarantine.ts'
import { commitSplitting, type TableInsert } from './split-commit.ts'
import type { CommitFn } from './write-pipeline.ts'

/** What a commit needs besides the group: the store's inserts and where refused rows go. */
export interface DurableCommitOptions {
  insert: TableInsert
  /** Whether the store refused an insert for its rows (see data-error.ts). */
  isDataError: (err: unknown) => boolean
  quarantine: Quarantine
  /** Records a segment's commit as done (see Store.recordCommitted); unset without a log. */
  recordCommitted?: (token: string) => Promise<void>
  /** Told once of each entry set aside (logs, metrics). Must not throw. */
  onQuarantined?: (entry: QuarantineEntry) => void
}

/**
 * The commit of one group, in the order that keeps every acknowledged row somewhere:
 *
 *   inserts (split on a refusal) ─► refused rows into the quarantine (fsynced)
 *     ─► segment recorded as committed ─► (pipeline) segment deleted
 *
 * A crash anywhere replays the segment: the inserts that landed carry the same tokens (the
 * engine remembers them for its last 1,000 inserts, more than a crash window holds), and the
 * quarantine entry has the same name. Once recorded, the segment is skipped however many
 * commits later it is found. A store that cannot take rows throws, and the group is retried.
 */
export function durableCommit(o: DurableCommitOptions): CommitFn {
  // Entries reported and whose commit is not yet recorded: a retry must not report them again.
  const reported = new Set<string>()
  return async (group) => {
    const refused = await commitSplitting(group, o.insert, o.isDataError)
    const entries = o.quarantine.put(group.token, refused)
    for (const e of entries) {
      if (reported.has(e.id)) continue
      reported.add(e.id)
      o.onQuarantined?.(e)
    }
    if (group.token !== undefined) await o.recordCommitted?.(group.token)
    for (const e of entries) reported.delete(e.id)
    return { refusedSeries: seriesIdsOf(refused.find((r) => r.table === 'series')?.rows) }
  }
}
