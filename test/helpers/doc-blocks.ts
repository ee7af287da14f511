import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * The fenced code blocks of the docs, and how each one is meant to be used. A block is marked
 * by an HTML comment on the line before its fence, which a rendered page does not show:
 *
 *     <!-- not run: a file's contents, its tokens elided -->
 *     <!-- run: before start; prints "created":true -->
 *
 * `sh`, `js` and `ts` blocks are run without a mark; any other block says what it is or why it
 * is not run. The options of `run:`, separated by `;`, are in `RunOptions`.
 */

/** One fenced block of a Markdown file. */
export interface DocBlock {
  /** The file, relative to the repository's root (`docs/apps/sending-metrics.md`). */
  readonly file: string
  /** Line of the opening fence, from 1. */
  readonly line: number
  /** First word of the fence's info string (`sh`, `json`), `''` without one. */
  readonly lang: string
  /** The block's text, without the fence's indentation, ending with a newline. */
  readonly text: string
  readonly mark: DocMark
}

export type DocMark =
  | { readonly kind: 'run'; readonly options: RunOptions }
  | { readonly kind: 'not-run'; readonly reason: string }
  /** No mark on a block of a language that is not run by default, or a mark that cannot be read. */
  | { readonly kind: 'unmarked'; readonly problem: string }

/** What `<!-- run: … -->` says, option by option. */
export interface RunOptions {
  /** `before start`: a shell block run before the page's Governor starts, which starts in the environment it leaves. */
  readonly beforeStart: boolean
  /** `start with GOVERNOR_X`: the block is the file that setting names when the page's Governor starts. */
  readonly startWith: string | null
  /** `file NAME`: the block is saved as NAME in the page's directory, as the reader saves it. */
  readonly file: string | null
  /** `with NAME=value …`: variables the reader's context sets (a pipeline's `$VERSION`). */
  readonly env: Readonly<Record<string, string>>
  /** `prints TEXT`: what the reader sees in the block's output. */
  readonly prints: readonly string[]
  /** `app`: a program that does not end by itself; stopped once its checks pass. */
  readonly app: boolean
  /** `then GET PATH shows TEXT`: afterwards Governor answers PATH with TEXT. */
  readonly then: readonly { readonly path: string; readonly text: string }[]
  /** `answer of the block above` or `answer of GET PATH`: a JSON block whose keys the real answer has. */
  readonly answerOf: { readonly kind: 'above' } | { readonly kind: 'get'; readonly path: string } | null
  /** `prometheus config`: a Prometheus configuration, checked by promtool and against Governor. */
  readonly prometheusConfig: boolean
  /** `grafana query`: SQL run as Grafana's ClickHouse data source runs it. */
  readonly grafanaQuery: boolean
}

/** Languages run without a mark. */
export const RUN_BY_DEFAULT: ReadonlySet<string> = new Set(['sh', 'js', 'ts'])

/** The Markdown files whose blocks are checked: README.md and docs/**, relative to `root`. */
export function docFiles(root: string): string[] {
  const docs = readdirSync(join(root, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.md'))
    .map((f) => join('docs', f))
  return ['README.md', ...docs.sort()]
}

/** Every fenced block of `file` (relative to `root`), in order. */
export function docBlocks(root: string, file: string): DocBlock[] {
  const lines = readFileSync(join(root, file), 'utf8').split('\n')
  const blocks: DocBlock[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)/.exec(lines[i]!)
    if (open === null) continue
    const [, indent, fence, lang] = open as unknown as [string, string, string, string]
    const close = new RegExp(`^\\s*${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`)
    let end = i + 1
    while (end < lines.length && !close.test(lines[end]!)) end++
    const body = lines.slice(i + 1, end).map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l.trimStart()))
    blocks.push({ file, line: i + 1, lang, text: `${body.join('\n')}\n`, mark: markOf(lines[i - 1] ?? '', lang) })
    i = end
  }
  return blocks
}

function markOf(previous: string, lang: string): DocMark {
  const comment = /^\s*<!--\s*(.*?)\s*-->\s*$/.exec(previous)
  const said = comment?.[1] ?? null
  if (said === null || !/^(not run|run)\b/.test(said)) {
    return RUN_BY_DEFAULT.has(lang)
      ? { kind: 'run', options: parseOptions('') }
      : {
          kind: 'unmarked',
          problem: `a \`${lang || 'plain'}\` block is not run by default: put <!-- run: … --> or <!-- not run: why --> on the line before its fence`,
        }
  }
  const notRun = /^not run:\s*(.*)$/.exec(said)
  if (notRun !== null)
    return notRun[1] === ''
      ? { kind: 'unmarked', problem: 'not run, but says not why' }
      : { kind: 'not-run', reason: notRun[1]! }
  const run = /^run(?::\s*(.*))?$/.exec(said)
  if (run === null) return { kind: 'unmarked', problem: `cannot read the mark "${said}"` }
  let options: RunOptions
  try {
    options = parseOptions(run[1] ?? '')
  } catch (err) {
    return { kind: 'unmarked', problem: (err as Error).message }
  }
  const unrunnable = whyNotRunnable(lang, options)
  return unrunnable === null ? { kind: 'run', options } : { kind: 'unmarked', problem: unrunnable }
}

/** Why `options` cannot run a block of `lang`, null when they can. */
function whyNotRunnable(lang: string, o: RunOptions): string | null {
  const needs = (langs: string[], option: string): string | null =>
    langs.includes(lang) ? null : `${option} is for ${langs.join(' or ')} blocks, not ${lang || 'plain'} ones`
  if (o.file !== null || o.startWith !== null) return null
  if (o.answerOf !== null) return needs(['json'], 'answer of')
  if (o.prometheusConfig) return needs(['yaml'], 'prometheus config')
  if (o.grafanaQuery) return needs(['sql'], 'grafana query')
  if (o.beforeStart) return needs(['sh'], 'before start')
  if (o.app) return needs(['js', 'ts'], 'app')
  return needs([...RUN_BY_DEFAULT], 'run')
}

function parseOptions(said: string): RunOptions {
  const o = {
    beforeStart: false,
    startWith: null as string | null,
    file: null as string | null,
    env: {} as Record<string, string>,
    prints: [] as string[],
    app: false,
    then: [] as { path: string; text: string }[],
    answerOf: null as RunOptions['answerOf'],
    prometheusConfig: false,
    grafanaQuery: false,
  }
  for (const option of said
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s !== '')) {
    let m: RegExpExecArray | null
    if (option === 'before start') o.beforeStart = true
    else if (option === 'app') o.app = true
    else if (option === 'prometheus config') o.prometheusConfig = true
    else if (option === 'grafana query') o.grafanaQuery = true
    else if (option === 'answer of the block above') o.answerOf = { kind: 'above' }
    else if ((m = /^answer of GET (\/\S+)$/.exec(option)) !== null) o.answerOf = { kind: 'get', path: m[1]! }
    else if ((m = /^start with (GOVERNOR_[A-Z_]+)$/.exec(option)) !== null) o.startWith = m[1]!
    else if ((m = /^file (\S+)$/.exec(option)) !== null) o.file = m[1]!
    else if ((m = /^prints (.+)$/.exec(option)) !== null) o.prints.push(m[1]!)
    else if ((m = /^then GET (\/\S+) shows (.+)$/.exec(option)) !== null) o.then.push({ path: m[1]!, text: m[2]! })
    else if ((m = /^with (.+)$/.exec(option)) !== null) {
      for (const [, name, quoted, bare] of m[1]!.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=(?:"([^"]*)"|(\S*))/g))
        o.env[name!] = quoted ?? bare!
    } else throw new Error(`unknown run option "${option}"`)
  }
  return o
}
