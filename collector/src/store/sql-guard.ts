import { GovernorError } from '../errors.ts'

/**
 * Table functions that read only Governor's own tables or make up rows in memory: the rest of
 * the engine's table functions (`SELECT name FROM system.table_functions`) are refused, so one
 * that a new engine version adds is refused until someone classifies it here.
 */
export const SAFE_TABLE_FUNCTIONS: ReadonlySet<string> = new Set([
  'sqlstandardvalues',
  'values',
  'null',
  'numbers',
  'numbers_mt',
  'zeros',
  'zeros_mt',
  'primes',
  'generaterandom',
  'generateseries',
  'generate_series',
  'view',
  'viewifpermitted',
  'viewexplain',
  'format',
  'dictionary',
  'timeseriesdata',
  'timeseriesmetrics',
  'timeseriessamples',
  'timeseriesselector',
  'timeseriestags',
  'fuzzjson',
  'fuzzquery',
])

/**
 * Functions that reach files, other processes or the network, refused wherever they appear.
 * `readonly = 1` already stops most table functions among them (file, url, s3, remote, mysql,
 * postgresql, executable…), but not the scalar `file()`, which reads any file the process can
 * read: they are all refused here by name, before the engine sees them, with one message.
 */
export const FORBIDDEN_FUNCTIONS: ReadonlySet<string> = new Set([
  'file',
  'filecluster',
  'filesystem',
  'url',
  'urlcluster',
  's3',
  's3cluster',
  'gcs',
  'oss',
  'cosn',
  'azureblobstorage',
  'azureblobstoragecluster',
  'hdfs',
  'hdfscluster',
  'remote',
  'remotesecure',
  'cluster',
  'clusterallreplicas',
  'mysql',
  'postgresql',
  'mongodb',
  'mongo',
  'redis',
  'sqlite',
  'odbc',
  'jdbc',
  'executable',
  'input',
  'arrowstream',
  'arrowflight',
  'ytsaurus',
  'eval',
  'python',
  'prometheusquery',
  'prometheusqueryrange',
  'catboostevaluate',
  'iceberg',
  'icebergs3',
  'icebergazure',
  'iceberghdfs',
  'iceberglocal',
  'icebergcluster',
  'icebergs3cluster',
  'icebergazurecluster',
  'iceberghdfscluster',
  'iceberglocalcluster',
  'deltalake',
  'deltalakes3',
  'deltalakeazure',
  'deltalakelocal',
  'deltalakecluster',
  'deltalakes3cluster',
  'deltalakeazurecluster',
  'hudi',
  'hudicluster',
  'paimon',
  'paimons3',
  'paimonazure',
  'paimonhdfs',
  'paimonlocal',
  'paimoncluster',
  'paimons3cluster',
  'paimonazurecluster',
  'paimonhdfscluster',
  ...[
    'merge',
    'loop',
    'mergetreeindex',
    'mergetreeprojection',
    'mergetreetextindex',
    'mergetreeanalyzeindexes',
    'mergetreeanalyzeindexesuuid',
  ],
])

/** Table functions that reach a table by its database's name: `merge('system', '.*')` would read every system table. */
const BY_DATABASE_NAME: ReadonlySet<string> = new Set([
  'merge',
  'loop',
  'mergetreeindex',
  'mergetreeprojection',
  'mergetreetextindex',
  'mergetreeanalyzeindexes',
  'mergetreeanalyzeindexesuuid',
])

/**
 * Functions that tell about the machine rather than the data: its host name, ports, disks,
 * macros and server settings (paths among them). Refused wherever they appear.
 */
export const HOST_FUNCTIONS: ReadonlySet<string> = new Set([
  'hostname',
  'fqdn',
  'getmacro',
  'serveruuid',
  'getserversetting',
  'getserverport',
  'tcpport',
  'displayname',
  'filesystemavailable',
  'filesystemcapacity',
  'filesystemunreserved',
  'getoskernelversion',
  'getclienthttpheader',
  'currentprofiles',
  'currentroles',
  'enabledroles',
  'defaultroles',
  'initialqueryid',
  'queryid',
])

/**
 * The `system` tables a query may read: those that describe the engine's language. The
 * others show the server's paths (tables, databases, parts, disks), its hosts and macros
 * (clusters), other sessions' queries (processes, query_log) and its logs: refused. The table
 * functions that reach a table by database name (merge, loop, mergeTreeIndex…) are refused
 * for the same reason: `merge('system', '.*')` would read them all.
 */
export const READABLE_SYSTEM_TABLES: ReadonlySet<string> = new Set([
  'one',
  'numbers',
  'numbers_mt',
  'zeros',
  'zeros_mt',
  'functions',
  'table_functions',
  'data_type_families',
  'formats',
  'time_zones',
  'aggregate_function_combinators',
  'columns',
  'table_engines',
  'collations',
  'keywords',
])

/** Clauses the endpoint sets itself, or that write files: refused as bare words. */
const FORBIDDEN_CLAUSES: Record<string, string> = {
  settings: "SETTINGS: the endpoint sets the query's settings (read-only, time and row limits) itself",
  format: 'FORMAT: the endpoint answers JSON',
  into: 'INTO OUTFILE: the endpoint writes no files',
  outfile: 'INTO OUTFILE: the endpoint writes no files',
  infile: 'FROM INFILE: the endpoint reads no files',
}

type Token =
  | { kind: 'word'; text: string; quoted: boolean; at: number }
  | { kind: 'punct'; text: string; at: number }
  | { kind: 'literal'; at: number }

/**
 * Checks that `sql` is one SELECT (or WITH … SELECT) that calls no forbidden function, and
 * answers it without a trailing `;`, ready to be wrapped as a subquery. Throws
 * GOV_ERR_SQL_INVALID or GOV_ERR_SQL_FORBIDDEN naming the problem.
 *
 * The lexer errs on the side of refusing: wherever it could read the text differently from
 * the engine (heredoc strings, nested comments), the query is refused, so nothing the engine
 * would run can hide inside what looks like a string or a comment here.
 */
export function checkReadOnlySelect(sql: string, forbidden: ReadonlySet<string> = FORBIDDEN_FUNCTIONS): string {
  const tokens = tokenize(sql)
  const first = tokens[0]
  if (first === undefined) throw notSelect('the query is empty')
  if (!(first.kind === 'word' && !first.quoted && ['select', 'with'].includes(first.text.toLowerCase()))) {
    throw notSelect(`it starts with ${describe(sql, first)}`)
  }
  // Trailing semicolons end the statement; anything after one is a second statement.
  const isSemicolon = (t: Token | undefined) => t?.kind === 'punct' && t.text === ';'
  let end = tokens.length
  while (end > 0 && isSemicolon(tokens[end - 1])) end--
  let depth = 0
  for (let i = 0; i < end; i++) {
    const t = tokens[i]!
    if (t.kind === 'punct') {
      if (t.text === ';') throw notSelect('it holds more than one statement (a ";" before its end)')
      if (t.text === '(') depth++
      if (t.text === ')' && --depth < 0) throw notSelect(`a ")" at character ${t.at + 1} closes no "("`)
      continue
    }
    if (t.kind !== 'word') continue
    const name = t.text.toLowerCase()
    const next = tokens[i + 1]
    const called = next?.kind === 'punct' && next.text === '('
    if (called && BY_DATABASE_NAME.has(name)) {
      throw new GovernorError(
        'GOV_ERR_SQL_FORBIDDEN',
        `the query calls ${t.text}(), which reaches tables by their database's name (the system tables among them): name Governor's tables directly`,
      )
    }
    if (called && forbidden.has(name)) {
      throw new GovernorError(
        'GOV_ERR_SQL_FORBIDDEN',
        `the query calls ${t.text}(), which reaches files, other programs or the network: POST /api/v1/sql reads the store's tables only`,
      )
    }
    if (called && HOST_FUNCTIONS.has(name)) {
      throw new GovernorError(
        'GOV_ERR_SQL_FORBIDDEN',
        `the query calls ${t.text}(), which tells about the machine (host, ports, disks, settings), not the data: POST /api/v1/sql reads the store's tables only`,
      )
    }
    const prev = tokens[i - 1]
    const qualified = prev?.kind === 'punct' && prev.text === '.'
    if (name === 'system' && !qualified) {
      const dot = tokens[i + 1],
        table = tokens[i + 2]
      const tableName =
        dot?.kind === 'punct' && dot.text === '.' && table?.kind === 'word' ? table.text.toLowerCase() : undefined
      if (tableName === undefined || !READABLE_SYSTEM_TABLES.has(tableName)) {
        throw new GovernorError(
          'GOV_ERR_SQL_FORBIDDEN',
          `the query reads ${tableName === undefined ? 'the system database' : `system.${tableName}`}, which shows the server's paths, hosts or other sessions' queries: of the system tables, POST /api/v1/sql reads ${[...READABLE_SYSTEM_TABLES].join(', ')}`,
        )
      }
    }
    // A clause keyword, unless it names a table or column (`system.settings`).
    const clause = FORBIDDEN_CLAUSES[name]
    if (clause !== undefined && !t.quoted && !called && !qualified)
      throw notSelect(`it has a clause the endpoint does not take: ${clause}`)
  }
  if (depth !== 0) throw notSelect(`${depth} "(" ${depth === 1 ? 'is' : 'are'} never closed`)
  const last = tokens[end - 1]!
  return sql.slice(0, last.at + tokenLength(sql, last)).trim()
}

function notSelect(why: string): GovernorError {
  return new GovernorError(
    'GOV_ERR_SQL_INVALID',
    `POST /api/v1/sql runs one SELECT (or WITH … SELECT) and nothing else: ${why}`,
  )
}

function describe(sql: string, t: Token): string {
  if (t.kind === 'literal') return 'a literal'
  return JSON.stringify(t.kind === 'word' && !t.quoted ? t.text : sql.slice(t.at, t.at + 20))
}

const WORD_START = /[A-Za-z_]/
const WORD_CHAR = /[A-Za-z0-9_]/
const DIGIT = /[0-9]/
const SPACE = /[ \t\n\r\f\v]/
/** Printable ASCII: anything else outside quotes is refused (the engine reads some of it, U+200B for one, as whitespace). */
const PLAIN = /[\x20-\x7e]/

/**
 * ClickHouse's lexical structure, as far as this check needs it: words (bare, `quoted` or
 * "quoted"), string literals ('…' with backslash escapes and doubled quotes), numbers,
 * comments (--, #, /* … *\/) and single punctuation characters. Outside quotes only
 * printable ASCII and ASCII whitespace are taken.
 */
export function tokenize(sql: string): Token[] {
  const out: Token[] = []
  let i = 0
  const n = sql.length
  while (i < n) {
    const c = sql[i]!
    if (SPACE.test(c)) {
      i++
      continue
    }
    if (!PLAIN.test(c))
      throw notSelect(
        `character ${i + 1} (U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}) is not printable ASCII: outside quotes, write names and keywords in ASCII`,
      )
    if ((c === '-' && sql[i + 1] === '-') || c === '#') {
      const nl = sql.indexOf('\n', i)
      i = nl < 0 ? n : nl + 1
      continue
    }
    if (c === '/' && sql[i + 1] === '*') {
      const close = sql.indexOf('*/', i + 2)
      if (close < 0) throw notSelect(`a comment opened at character ${i + 1} is never closed`)
      // The engine nests block comments; refusing them keeps this lexer and the engine in step.
      if (sql.slice(i + 2, close).includes('/*')) throw notSelect('nested block comments are not accepted')
      i = close + 2
      continue
    }
    if (c === "'" || c === '"' || c === '`') {
      const close = closingQuote(sql, i)
      const inside = sql.slice(i + 1, close)
      if (c === "'") out.push({ kind: 'literal', at: i })
      // The engine reads escapes in quoted names (`\x66ile` is file): none are taken.
      else if (inside.includes('\\'))
        throw notSelect(`a backslash in the quoted name at character ${i + 1}: escapes in names are not accepted`)
      else out.push({ kind: 'word', text: unquote(inside), quoted: true, at: i })
      i = close + 1
      continue
    }
    if (c === '$') throw notSelect(`a "$" at character ${i + 1}: heredoc strings ($$…$$) are not accepted, write '…'`)
    if (DIGIT.test(c) || (c === '.' && DIGIT.test(sql[i + 1] ?? ''))) {
      const m = /^(?:0[xX][0-9A-Fa-f_]+|0[bB][01_]+|[0-9_]*\.?[0-9_]*(?:[eE][+-]?[0-9]+)?)/.exec(sql.slice(i))
      out.push({ kind: 'literal', at: i })
      i += Math.max(1, m?.[0].length ?? 1)
      continue
    }
    if (WORD_START.test(c)) {
      let j = i + 1
      while (j < n && WORD_CHAR.test(sql[j]!)) j++
      out.push({ kind: 'word', text: sql.slice(i, j), quoted: false, at: i })
      i = j
      continue
    }
    out.push({ kind: 'punct', text: c, at: i })
    i++
  }
  return out
}

/** Index of the quote that closes the one at `start`; backslash escapes and doubled quotes stay inside. */
function closingQuote(sql: string, start: number): number {
  const q = sql[start]!
  let i = start + 1
  while (i < sql.length) {
    const c = sql[i]!
    if (c === '\\') {
      i += 2
      continue
    }
    if (c === q) {
      if (sql[i + 1] === q) {
        i += 2
        continue
      }
      return i
    }
    i++
  }
  throw notSelect(`a ${q} opened at character ${start + 1} is never closed`)
}

function unquote(s: string): string {
  return s.replace(/``|""/g, (d) => d[0]!)
}

function tokenLength(sql: string, t: Token): number {
  if (t.kind === 'punct') return 1
  if (t.kind === 'word' && !t.quoted) return t.text.length
  // Quoted words and literals: re-scan from the token's start.
  const c = sql[t.at]!
  if (c === "'" || c === '"' || c === '`') return closingQuote(sql, t.at) - t.at + 1
  const m = /^(?:0[xX][0-9A-Fa-f_]+|0[bB][01_]+|[0-9_]*\.?[0-9_]*(?:[eE][+-]?[0-9]+)?)/.exec(sql.slice(t.at))
  return Math.max(1, m?.[0].length ?? 1)
}
