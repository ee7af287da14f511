import { arrayOf, exactly, NUMBER, someOf, STRING, STRINGS, TIME } from './schema.ts'

/**
 * The quarantine: rows the store refused for their content (collector/src/api/quarantine.ts):
 *
 *   GET  /api/v1/quarantine[?id=]      QuarantineListJson (with `rows_tsv` when one id is asked)
 *   POST /api/v1/quarantine/replay     ReplayJson
 */

export interface QuarantineEntryJson {
  id: string
  /** The store table the rows were for. */
  table: string
  columns: string[]
  rows: number
  /** The store's message for each row, in order. */
  errors: string[]
  quarantined_at: string
  /** The commit the rows came from. */
  source: string
  /** The rows themselves, one TSV line each: only when one entry is asked for by id. */
  rows_tsv?: string[]
}

export interface QuarantineListJson {
  entries: QuarantineEntryJson[]
}

export interface ReplayOutcomeJson {
  id: string
  table: string
  /** Rows the store took: they leave the quarantine. */
  stored: number
  /** Rows it refuses still: they stay. */
  refused: number
}

export interface ReplayJson {
  replayed: ReplayOutcomeJson[]
}

export const QUARANTINE_LIST_JSON_SCHEMA = exactly({
  entries: arrayOf(
    someOf(
      {
        id: STRING,
        table: STRING,
        columns: STRINGS,
        rows: NUMBER,
        errors: STRINGS,
        quarantined_at: TIME,
        source: STRING,
        rows_tsv: STRINGS,
      } satisfies Record<keyof QuarantineEntryJson, object>,
      ['rows_tsv'],
    ),
  ),
} satisfies Record<keyof QuarantineListJson, object>)

export const REPLAY_JSON_SCHEMA = exactly({
  replayed: arrayOf(
    exactly({ id: STRING, table: STRING, stored: NUMBER, refused: NUMBER } satisfies Record<
      keyof ReplayOutcomeJson,
      object
    >),
  ),
} satisfies Record<keyof ReplayJson, object>)
