/**
 * Every error Governor answers with has a stable code here, with its HTTP status and one
 * line of documentation. A retired code is never reused: mark it retired instead.
 */
export const ERROR_CODES = {
  GOV_ERR_SETTINGS_INVALID: {
    status: 500,
    doc: 'A setting has a value outside its type or bounds; the message names the setting and the value.',
  },
  GOV_ERR_AUTH_MISSING: {
    status: 401,
    doc: 'The request has no bearer token, or one that is none of the configured tokens; answered with WWW-Authenticate: Bearer realm="governor".',
  },
  GOV_ERR_AUTH_FORBIDDEN: {
    status: 403,
    doc: 'The token lacks the role the route needs; the message names the role and the token.',
  },
  GOV_ERR_AUTH_SERVICE: {
    status: 403,
    doc: 'The token is an ingest token scoped to other services (ingest@<service>): it may declare and read the knobs of its services only; the message names them.',
  },
  GOV_ERR_AUTH_TOKEN_IN_URL: {
    status: 400,
    doc: 'The query string carries a token (access_token, token, api_key… or a configured token): refused, send it in the Authorization header; the message names the parameter, never the token.',
  },
  GOV_ERR_AUTH_HOST: {
    status: 403,
    doc: 'Open mode (no tokens) answers only requests whose Host is a loopback name (localhost, *.localhost, 127.0.0.0/8, [::1]), against DNS rebinding; the message names the Host; set tokens to serve any Host.',
  },
  GOV_ERR_OTLP_MALFORMED: {
    status: 400,
    doc: 'The OTLP request body could not be decoded; the message says where and why.',
  },
  GOV_ERR_OTLP_CONTENT_TYPE: {
    status: 415,
    doc: 'The request has a content type other than application/x-protobuf or application/json.',
  },
  GOV_ERR_OTLP_CONTENT_ENCODING: {
    status: 415,
    doc: 'The request has a content encoding other than gzip, zstd or identity.',
  },
  GOV_ERR_GRPC_LISTEN: {
    status: 500,
    doc: 'At start: the OTLP/gRPC port (GOVERNOR_GRPC_PORT on GOVERNOR_HOST) could not be bound: in use by another process, or not permitted; the message names the address and the cause.',
  },
  GOV_ERR_RW_MALFORMED: {
    status: 400,
    doc: 'The remote write body could not be decoded: invalid snappy data or invalid protobuf; the message says where.',
  },
  GOV_ERR_RW_CONTENT_TYPE: {
    status: 415,
    doc: 'The remote write request is not application/x-protobuf with proto=prometheus.WriteRequest (1.0, also when no proto is given) or proto=io.prometheus.write.v2.Request (2.0).',
  },
  GOV_ERR_RW_CONTENT_ENCODING: {
    status: 415,
    doc: 'The remote write request has a content encoding other than snappy or none.',
  },
  GOV_ERR_BODY_TOO_LARGE: { status: 413, doc: 'The request body is over the limit, before or after decompression.' },
  GOV_ERR_PIPELINE_FULL: {
    status: 503,
    doc: 'The write pipeline is full; retry after the number of seconds in Retry-After.',
  },
  GOV_ERR_INGEST_OVERLOADED: {
    status: 503,
    doc: 'The ingest request was refused before it was processed: it waited past GOVERNOR_INGEST_MAX_WAIT_MILLIS since it arrived, or the bodies being read were over GOVERNOR_MAX_INFLIGHT_INGEST_BODY_BYTES, or (OTLP/gRPC) it was over the adaptive ingest limit; retry after Retry-After seconds (gRPC: UNAVAILABLE with a RetryInfo).',
  },
  GOV_ERR_STORE_WRITE: {
    status: 503,
    doc: 'The store refused or failed the write; nothing of the request was acknowledged.',
  },
  GOV_ERR_STORE_UNAVAILABLE: { status: 503, doc: 'The store is not reachable or not ready.' },
  GOV_ERR_STORE_LOCKED: {
    status: 500,
    doc: "At start: another running Governor process holds the embedded store's data directory (the embedded engine serves one process); the message names its pid and the lock file.",
  },
  GOV_ERR_STORE_QUARANTINED: {
    status: 422,
    doc: 'Logged, never answered (the rows were acknowledged): the store refused rows of a commit for their content (a parse, type or range error); the rest of the commit is stored and the refused rows are kept in the quarantine (GET /api/v1/quarantine), to replay once fixed.',
  },
  GOV_ERR_WAL_DAMAGED: {
    status: 500,
    doc: 'Logged at start, which goes on: a write-ahead log segment was damaged (a torn or zeroed tail, a bad header, an unreadable file, as a power loss can leave); the good records before the damage are replayed and the rest is kept under <wal dir>/damaged/.',
  },
  GOV_ERR_CHANGE_INVALID: {
    status: 400,
    doc: 'A deploy or event is missing required fields or has fields of the wrong type or time; the message names each.',
  },
  GOV_ERR_CHANGE_TOO_LARGE: { status: 413, doc: 'A title, text or description is over its length limit.' },
  GOV_ERR_CHANGE_NOT_FOUND: { status: 404, doc: 'No deploy or event has that id.' },
  GOV_ERR_KNOB_INVALID: {
    status: 400,
    doc: 'A knob declaration or change is malformed: a wrong type, a missing reason or actor; the message names each.',
  },
  GOV_ERR_KNOB_OUT_OF_BOUNDS: {
    status: 422,
    doc: "The value is outside the knob's bounds or not one of its values; the message names them.",
  },
  GOV_ERR_KNOB_NOT_FOUND: { status: 404, doc: 'No knob of that service and name (or no such version of it).' },
  GOV_ERR_KNOB_PINNED: { status: 409, doc: 'The knob is pinned: unpin it before changing it.' },
  GOV_ERR_KNOB_CONFLICT: {
    status: 409,
    doc: 'The change does not apply to the knob as it is (unpinning a knob that is not pinned).',
  },
  GOV_ERR_SLO_INVALID: {
    status: 400,
    doc: 'An SLO definition is malformed (SLI, objective, window, actor, reason); the message names each problem.',
  },
  GOV_ERR_SLO_NOT_FOUND: { status: 404, doc: 'No SLO of that service and name.' },
  GOV_ERR_SLO_IN_USE: {
    status: 409,
    doc: 'The SLO cannot be deleted while a controller steers on it or is guarded by it; the message names the controller.',
  },
  GOV_ERR_CONTROLLER_INVALID: {
    status: 400,
    doc: 'A controller binding is malformed (algorithm, parameters, interval, bounds, mode, actor, reason) or names a knob that is not a number; the message names each problem.',
  },
  GOV_ERR_CONTROLLER_BOUNDS: {
    status: 422,
    doc: "The controller's bounds are outside the bounds of its knob; the message names both.",
  },
  GOV_ERR_CONTROLLER_NOT_FOUND: { status: 404, doc: 'No controller of that service and name.' },
  GOV_ERR_CONTROLLER_STALE_TERM: {
    status: 409,
    doc: 'A controller decision carries a lease term that is no longer the current one (another collector holds the controllers now); the knob is not changed.',
  },
  GOV_ERR_QUERY_PARAM: { status: 400, doc: 'A query parameter is missing or invalid; the message names it.' },
  GOV_ERR_QUERY_UNKNOWN_METRIC: { status: 404, doc: 'No metric of that name has been stored.' },
  GOV_ERR_QUERY_AGG_TYPE: {
    status: 400,
    doc: 'The aggregation does not apply to the metric type (for example a quantile of a gauge).',
  },
  GOV_ERR_QUERY_TOO_LARGE: {
    status: 422,
    doc: 'The query would read more points than the limit; narrow the range or the series.',
  },
  GOV_ERR_QUERY_BUSY: {
    status: 503,
    doc: 'Too many reads of points (queries, SQL) are running and waiting; retry after Retry-After seconds.',
  },
  GOV_ERR_SQL_INVALID: {
    status: 400,
    doc: 'The SQL is not one SELECT (or WITH … SELECT): several statements, a write, SETTINGS, FORMAT or INTO OUTFILE, or a body without "query"; the message says which.',
  },
  GOV_ERR_SQL_FORBIDDEN: {
    status: 400,
    doc: 'The SQL calls a function that reaches files, other programs or the network (file, url, s3, remote, mysql, postgresql…); the message names it.',
  },
  GOV_ERR_SQL_FAILED: {
    status: 400,
    doc: "The store could not run the SQL (a syntax error, an unknown table or column); the message is the store's.",
  },
  GOV_ERR_SQL_LIMIT: {
    status: 422,
    doc: 'The SQL ran past a limit: its time, its rows or its memory; the message names the setting.',
  },
  GOV_ERR_SQL_BUSY: {
    status: 503,
    doc: 'Too many SQL queries are waiting for the store; retry after Retry-After seconds.',
  },
  GOV_ERR_RATE_LIMITED: {
    status: 429,
    doc: 'Too many requests from this token (or address) in the last minute; retry after Retry-After seconds.',
  },
} as const satisfies Record<string, { status: number; doc: string }>

export type ErrorCode = keyof typeof ERROR_CODES

const BRAND = Symbol.for('governor.error')

/** An error with a registered code. Recognise it with `isGovernorError`, not `instanceof`. */
export class GovernorError extends Error {
  readonly code: ErrorCode
  readonly statusCode: number
  readonly [BRAND] = true

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'GovernorError'
    this.code = code
    this.statusCode = ERROR_CODES[code].status
  }
}

export function isGovernorError(err: unknown): err is GovernorError {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[BRAND] === true
}
