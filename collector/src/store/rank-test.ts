import type { ClickHouseClient } from '@clickhouse/client'
import { toNumber } from './queries.ts'

/** A Mann-Whitney U test's outcome (see `mannWhitneyUTest`). */
export interface UTest {
  u: number
  p: number
}

/** A two-sided rank test of two samples (see `mannWhitneyUTest`). */
export type RankTest = (before: readonly number[], after: readonly number[]) => Promise<UTest>

// Both samples become (value, group) rows: group 0 before, 1 after. ClickHouse's
// mannWhitneyUTest ranks them with ties averaged and answers the two-sided p-value of the
// normal approximation, tie-corrected and with a continuity correction, and the U of group 0.
const SQL = `SELECT tupleElement(r, 1) AS u, tupleElement(r, 2) AS p FROM (
  SELECT mannWhitneyUTest('two-sided')(tupleElement(x, 1), tupleElement(x, 2)) AS r
  FROM (SELECT arrayJoin(arrayConcat(
    arrayMap(v -> (v, toUInt8(0)), {before:Array(Float64)}),
    arrayMap(v -> (v, toUInt8(1)), {after:Array(Float64)}))) AS x))`

/**
 * The two-sided Mann-Whitney U test of `before` against `after`, run by the store.
 * `u` counts the (before, after) pairs where before is larger, ties as one half, so
 * `1 − 2u / (n₁ n₂)` is the rank-biserial correlation (positive: after tends to be larger).
 * Both samples must be non-empty and finite.
 */
export async function mannWhitneyUTest(
  client: ClickHouseClient,
  before: readonly number[],
  after: readonly number[],
): Promise<UTest> {
  const rs = await client.query({
    query: SQL,
    query_params: { before, after },
    clickhouse_settings: { output_format_json_quote_denormals: 1 },
    format: 'JSONEachRow',
  })
  const [row] = await rs.json<{ u: unknown; p: unknown }>()
  return { u: toNumber(row?.u), p: toNumber(row?.p) }
}
