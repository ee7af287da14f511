import { KNOB_JSON_SCHEMA, type KnobJson } from '../../../../throttle/src/wire.ts'
import { arrayOf, exactly, NULLABLE_STRING, STRING } from './schema.ts'

/**
 * Knobs (collector/src/api/knobs.ts). The knob itself is the library's wire type
 * (throttle/src/wire.ts: KnobJson, KnobDetailJson, KnobListJson), shared with the apps that
 * read it; what only the collector answers is here:
 *
 *   POST /api/v1/changesets/revert   ChangesetRevertJson
 */

/** Every knob changed since a deploy, set back as it was before it. */
export interface ChangesetRevertJson {
  /** Id of the change-log event recording the revert; null when nothing needed reverting. */
  change_id: string | null
  service: string
  reverted: KnobJson[]
}

export const CHANGESET_REVERT_JSON_SCHEMA = exactly({
  change_id: NULLABLE_STRING,
  service: STRING,
  reverted: arrayOf(KNOB_JSON_SCHEMA),
} satisfies Record<keyof ChangesetRevertJson, object>)
