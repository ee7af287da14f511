/**
 * The lezer side of parsing: the concrete tree of a query, and its first error node worded
 * as Prometheus words parse errors. lezer recovers from errors, so a tree always comes back;
 * its ⚠ nodes mark where the text stopped making sense.
 */
import { parser } from '@prometheus-io/lezer-promql'

/** A node of the lezer tree. */
export type Node = ReturnType<typeof parser.parse>['topNode']

/** The lezer tree of a query. */
export function parseTree(q: string): ReturnType<typeof parser.parse> {
  return parser.parse(forGrammar(q))
}

/** The first error of the tree: its offset and Prometheus-like message, or undefined. */
export function firstSyntaxError(q: string, top: Node): { at: number; message: string } | undefined {
  let err: Node | undefined
  let prev: Node | undefined
  const cursor = top.cursor()
  do {
    if (cursor.type.isError) {
      err = cursor.node
      break
    }
    if (cursor.name === 'Identifier') prev = cursor.node
  } while (cursor.next())
  if (!err) return undefined
  const at = err.from
  const rest = q.slice(at).replace(/^\s+/, '')
  const restAt = q.length - rest.length
  if (rest === '') return { at: q.length, message: 'unexpected end of input' }
  if (rest.startsWith('(') && prev && prev.to === at)
    return { at: prev.from, message: `unknown function with name ${JSON.stringify(q.slice(prev.from, prev.to))}` }
  const word = /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(rest)
  if (word) return { at: restAt, message: `unexpected identifier ${JSON.stringify(word[0])}` }
  return { at: restAt, message: `unexpected character: ${JSON.stringify(rest[0])}` }
}

/**
 * The text given to the lezer grammar. Its grammar follows Prometheus 3, which renamed
 * holt_winters; a call to it is handed over as `day_of_month(` (the same length, so every
 * offset holds) while the converter reads names from the original text.
 */
function forGrammar(q: string): string {
  if (!q.includes('holt_winters')) return q
  let out = ''
  for (let i = 0; i < q.length;) {
    const c = q[i]!
    if (c === '"' || c === "'" || c === '`') {
      // Skip a quoted string whole.
      let j = i + 1
      while (j < q.length && q[j] !== c) j += q[j] === '\\' && c !== '`' ? 2 : 1
      out += q.slice(i, j + 1)
      i = j + 1
      continue
    }
    if (c === '#') {
      const nl = q.indexOf('\n', i)
      const end = nl < 0 ? q.length : nl
      out += q.slice(i, end)
      i = end
      continue
    }
    const word = /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(q.slice(i, i + 200))
    if (word) {
      const after = q.slice(i + word[0].length).replace(/^\s+/, '')
      out += word[0] === 'holt_winters' && after.startsWith('(') ? 'day_of_month' : word[0]
      i += word[0].length
      continue
    }
    out += c
    i++
  }
  return out
}
