/**
 * ClickHouse error codes that mean "these rows are wrong", as opposed to "the store cannot
 * take rows now". A commit refused with one of them fails the same way however often it is
 * sent, so it is split to find the rows at fault (see split-commit.ts); any other error (the
 * store unreachable, a full disk, a read-only server, too many parts, memory, an unknown
 * table) is the store's state, and the commit is retried whole until it passes.
 *
 * Only parse, type and range errors of the input format are here: each is raised by the
 * parser for one row, so the same row fails alone and its neighbours pass. Codes a schema or
 * a server problem can raise too (BAD_ARGUMENTS, NO_SUCH_COLUMN_IN_TABLE, STD_EXCEPTION) are
 * left out on purpose: they would fail every row, and quarantining a whole commit because the
 * store is misconfigured would hide an outage.
 */
export const DATA_ERROR_CODES: ReadonlyMap<number, string> = new Map([
  [6, 'CANNOT_PARSE_TEXT'],
  [25, 'CANNOT_PARSE_ESCAPE_SEQUENCE'],
  [26, 'CANNOT_PARSE_QUOTED_STRING'],
  [27, 'CANNOT_PARSE_INPUT_ASSERTION_FAILED'], // a row with a field too many or too few, a stray byte
  [32, 'ATTEMPT_TO_READ_AFTER_EOF'], // a row cut short
  [33, 'CANNOT_READ_ALL_DATA'],
  [38, 'CANNOT_PARSE_DATE'],
  [41, 'CANNOT_PARSE_DATETIME'],
  [53, 'TYPE_MISMATCH'],
  [69, 'ARGUMENT_OUT_OF_BOUND'],
  [70, 'CANNOT_CONVERT_TYPE'],
  [72, 'CANNOT_PARSE_NUMBER'],
  [117, 'INCORRECT_DATA'],
  [131, 'TOO_LARGE_STRING_SIZE'],
  [190, 'SIZES_OF_ARRAYS_DONT_MATCH'],
  [321, 'VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE'],
  [349, 'CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN'],
  [467, 'CANNOT_PARSE_BOOL'],
])

/**
 * The ClickHouse error code of `err`, if it carries one: `clickhouseCode` (the embedded
 * engine), a numeric string `code` (a server, through @clickhouse/client), or the
 * `Code: N.` the engine starts its messages with.
 */
export function storeErrorCode(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined
  const e = err as { clickhouseCode?: unknown; code?: unknown; message?: unknown }
  if (typeof e.clickhouseCode === 'number') return e.clickhouseCode
  if (typeof e.code === 'string' && /^\d+$/.test(e.code)) return Number(e.code)
  const m = typeof e.message === 'string' ? /^Code: (\d+)\./.exec(e.message) : null
  return m === null ? undefined : Number(m[1])
}

/** Whether the store refused `err`'s insert for the rows themselves (see DATA_ERROR_CODES). */
export function isDataError(err: unknown): boolean {
  const code = storeErrorCode(err)
  return code !== undefined && DATA_ERROR_CODES.has(code)
}
