import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { pathToFileURL } from 'node:url'
import { expandGrafanaMacros, grafanaAnnotationSql } from '../../collector/src/changelog/grafana.ts'
import type { DocBlock, RunOptions } from '../helpers/doc-blocks.ts'
import { cleanEnv } from '../helpers/pack.ts'
import { freePort, NO_TOKENS, spawnServer } from '../helpers/server.ts'
import { shapeDifferences } from './json-shape.ts'
import { checkPrometheusConfig } from './prometheus-config.ts'
import { readerRequests, settle } from './server-requests.ts'

const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm')).href

/** Hang guards, not expectations: for each program a block runs, and each condition waited for. */
const HANG_MILLIS = 60_000
const WAIT_MILLIS = 30_000

/**
 * The one place where the docs' address of Governor becomes the test's: `127.0.0.1:4318`,
 * `localhost:4318` and `governor:4318` (a container's name for it), with or without `http://`,
 * in a block's text. Nothing else of the text is changed. Programs that find Governor there
 * without saying so (an OTel SDK's default endpoint, the CLI's default --url) are pointed at the
 * test's by the session's environment instead (`readerEnv`).
 */
export function toTestAddress(text: string, port: number): string {
  return text.replace(/\b(?:127\.0\.0\.1|localhost|governor):4318\b/g, `127.0.0.1:${port}`)
}

/** What the reader's shell holds before the page: this machine's, no Governor settings of its own. */
function readerEnv(url: string): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(cleanEnv())) if (v !== undefined && !/^(GOVERNOR|OTEL)_/.test(k)) env[k] = v
  // GOVERNOR_URL and the OTLP endpoint: see toTestAddress. npm asks the registry nothing for npx.
  return { ...env, GOVERNOR_URL: url, OTEL_EXPORTER_OTLP_ENDPOINT: url, npm_config_update_notifier: 'false' }
}

/** What running a block came to: what went wrong (nothing: it worked as written), and what happened, for the report. */
export interface Outcome {
  readonly problems: string[]
  readonly transcript: string
}

interface Ran {
  code: number | null
  stdout: string
  stderr: string
  fd3: string
}

/**
 * One page followed as a reader follows it: a directory of its own in the reader's project,
 * one shell environment carried from block to block (what a block exports, the next one has),
 * and one Governor, the `governor` command on the embedded store with a data directory of its
 * own, started once the blocks marked `before start` have run, with the settings they exported.
 */
export class PageSession {
  readonly #dir: string
  readonly #home: string
  readonly #port: number
  readonly #url: string
  #env: Record<string, string>
  #server: { child: ChildProcess; url: string; output: () => string } | null = null
  readonly #early = new Map<number, Outcome>()
  #lastStdout = ''
  #barriers = 0

  private constructor(dir: string, home: string, port: number) {
    this.#dir = dir
    this.#home = home
    this.#port = port
    this.#url = `http://127.0.0.1:${port}`
    this.#env = readerEnv(this.#url)
  }

  /**
   * Writes the files the page's Governor starts with, runs the page's `before start` blocks and
   * starts it (at once, beside the reader's project being made, when no block comes first).
   */
  static async open(file: string, blocks: readonly DocBlock[], project: Promise<string>): Promise<PageSession> {
    const port = await freePort()
    const home = mkdtempSync(join(tmpdir(), 'governor-docs-'))
    const starting: Record<string, string> = {}
    for (const b of blocks) {
      if (b.mark.kind !== 'run' || b.mark.options.startWith === null) continue
      const path = join(home, `${b.mark.options.startWith.toLowerCase()}.${b.lang}`)
      writeFileSync(path, toTestAddress(b.text, port))
      starting[b.mark.options.startWith] = path
    }
    const start = (env: Record<string, string>): ReturnType<typeof spawnServer> =>
      spawnServer({
        ...NO_TOKENS,
        ...Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('GOVERNOR_') && k !== 'GOVERNOR_URL')),
        ...starting,
        GOVERNOR_PORT: String(port),
        GOVERNOR_DATA_DIR: join(home, 'data'),
        // Every request and its answer, read by server-requests.ts.
        GOVERNOR_LOG_LEVEL: 'debug',
      })
    const first = blocks.flatMap((b) =>
      b.mark.kind === 'run' && b.mark.options.beforeStart ? [{ block: b, options: b.mark.options }] : [],
    )
    const early = first.length === 0 ? start(readerEnv(`http://127.0.0.1:${port}`)) : null
    early?.catch(() => {})
    try {
      const dir = join(await project, file.replace(/\.md$/, '').replace(/[^A-Za-z0-9]+/g, '-'))
      mkdirSync(dir, { recursive: true })
      const session = new PageSession(dir, home, port)
      for (const { block, options } of first) session.#early.set(block.line, await session.#sh(block, options))
      session.#server = await (early ?? start(session.#env))
      return session
    } catch (err) {
      ;(await early?.catch(() => null))?.child.kill('SIGKILL')
      rmSync(home, { recursive: true, force: true })
      throw err
    }
  }

  /** Stops the page's Governor and removes its data. */
  async close(): Promise<void> {
    const child = this.#server?.child
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGKILL')
      await exited
    }
    rmSync(this.#home, { recursive: true, force: true })
  }

  /** Runs `block` as the page means it, in the page's order, and says what went wrong. */
  async run(block: DocBlock): Promise<Outcome> {
    if (block.mark.kind !== 'run') throw new Error(`${block.file}:${block.line} is not run`)
    const o = block.mark.options
    const early = this.#early.get(block.line)
    if (early !== undefined) return this.#also(early, await this.#thenChecks(o))
    if (o.startWith !== null)
      return this.#also(
        { problems: [], transcript: `Governor started with ${o.startWith} naming this block\n` },
        await this.#thenChecks(o),
      )
    if (o.file !== null) {
      writeFileSync(join(this.#dir, o.file), toTestAddress(block.text, this.#port))
      return { problems: [], transcript: `saved as ${o.file}\n` }
    }
    if (o.answerOf !== null) return this.#answer(block, o.answerOf)
    if (o.prometheusConfig) {
      const problems = await checkPrometheusConfig(block.text, this.#dir, `prometheus-${block.line}.yml`, {
        address: (text) => toTestAddress(text, this.#port),
        tokenFor: (role) => this.#token(role),
      })
      return { problems, transcript: block.text }
    }
    if (o.grafanaQuery) return this.#grafana(block, o)
    const from = this.#server!.output().length
    const outcome = block.lang === 'sh' ? await this.#sh(block, o) : await this.#program(block, o)
    await settle(this.#url, this.#server!.output, String(++this.#barriers), this.#auth('read'))
    const requests = readerRequests(this.#server!.output().slice(from))
    const refused = requests
      .filter((r) => r.status !== null && r.status >= 400)
      .map((r) => `Governor answered ${r.method} ${r.url} with ${r.status}`)
    const listed = requests.map((r) => `  ${r.method} ${r.url} → ${r.status ?? 'open'}`).join('\n')
    const done = {
      problems: [...outcome.problems, ...refused],
      transcript: `${outcome.transcript}requests Governor answered:\n${listed || '  none'}\n`,
    }
    return this.#also(done, o.app ? { problems: [], transcript: '' } : await this.#thenChecks(o))
  }

  /** A shell block through `bash -e`, in the page's environment; what it exports is the next block's. */
  async #sh(block: DocBlock, o: RunOptions): Promise<Outcome> {
    const script = join(this.#dir, `block-${block.line}.sh`)
    const text = toTestAddress(block.text, this.#port)
    writeFileSync(script, `${text}\nenv -0 >&3\n`)
    const ran = await this.#spawn('bash', ['-e', script], o)
    if (ran.code === 0) this.#env = parseEnv(ran.fd3)
    return this.#checked(text, ran, o)
  }

  /** A JS or TS block saved in the page's directory and run by node (through tsx for TS), as the reader runs it. */
  async #program(block: DocBlock, o: RunOptions): Promise<Outcome> {
    const name = `block-${block.line}.${block.lang}`
    const text = toTestAddress(block.text, this.#port)
    writeFileSync(join(this.#dir, name), text)
    const args = block.lang === 'ts' ? ['--import', TSX, name] : [name]
    if (!o.app) return this.#checked(text, await this.#spawn(process.execPath, args, o), o)
    // An app runs until it is stopped: until what the page says it does has happened.
    const problems: string[] = []
    const ran = await this.#spawn(process.execPath, args, o, async (seen) => {
      const printed = o.prints.every((p) => seen.includes(p))
      return (
        printed &&
        (await Promise.all(o.then.map((t) => this.#shows(t.path, t.text).catch(() => ({ ok: false }))))).every(
          (r) => r.ok,
        )
      )
    })
    if (ran.code === -1) problems.push(`did not do what the page says within ${WAIT_MILLIS / 1000} s`)
    else if (ran.code !== null && ran.code !== 0) problems.push(`exited with ${ran.code} before it was stopped`)
    const checked = this.#checked(text, { ...ran, code: 0 }, o)
    return this.#also(
      { problems: [...problems, ...checked.problems], transcript: checked.transcript },
      await this.#thenChecks(o),
    )
  }

  #checked(text: string, ran: Ran, o: RunOptions): Outcome {
    this.#lastStdout = ran.stdout
    const seen = ran.stdout + ran.stderr
    const problems = [
      ...(ran.code === 0 ? [] : [`exited with ${ran.code}`]),
      ...o.prints.filter((p) => !seen.includes(p)).map((p) => `its output does not show ${p}`),
    ]
    return {
      problems,
      transcript: `${text}exit code ${ran.code}\nstdout:\n${cut(ran.stdout)}\nstderr:\n${cut(ran.stderr)}\n`,
    }
  }

  /**
   * Runs a program in the page's directory and environment to its end, or, given `until`, until
   * that holds (asked again as output comes and every 100 ms), and then stops it with SIGTERM.
   */
  #spawn(command: string, args: string[], o: RunOptions, until?: (output: string) => Promise<boolean>): Promise<Ran> {
    return new Promise((resolve) => {
      const child = spawn(command, args, {
        cwd: this.#dir,
        env: { ...this.#env, ...o.env },
        stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      })
      const ran: Ran = { code: null, stdout: '', stderr: '', fd3: '' }
      child.stdout!.on('data', (d: Buffer) => {
        ran.stdout += d
      })
      child.stderr!.on('data', (d: Buffer) => {
        ran.stderr += d
      })
      ;(child.stdio[3] as NodeJS.ReadableStream).on('data', (d: Buffer) => {
        ran.fd3 += d
      })
      const limit = until === undefined ? HANG_MILLIS : WAIT_MILLIS
      const guard = setTimeout(() => {
        ran.stderr += `\n[still running after ${limit / 1000} s: killed]`
        child.kill('SIGKILL')
      }, limit)
      child.on('close', (code, signal) => {
        clearTimeout(guard)
        resolve({ ...ran, code: code ?? (signal === 'SIGTERM' && until !== undefined ? null : -1) })
      })
      if (until === undefined) return
      void (async () => {
        while (child.exitCode === null && child.signalCode === null) {
          if (await until(ran.stdout + ran.stderr)) {
            child.kill('SIGTERM')
            return
          }
          await sleep(100)
        }
      })()
    })
  }

  /** A JSON block that shows an answer: the real one has its keys. */
  async #answer(block: DocBlock, of: NonNullable<RunOptions['answerOf']>): Promise<Outcome> {
    const shown = JSON.parse(block.text) as unknown
    let text = this.#lastStdout
    if (of.kind === 'get') {
      const res = await fetch(`${this.#url}${of.path}`, { headers: this.#auth('read') })
      text = await res.text()
      if (!res.ok) return { problems: [`GET ${of.path} answered ${res.status}`], transcript: text }
    }
    let actual: unknown
    try {
      actual = JSON.parse(text)
    } catch {
      return { problems: [`the answer is not one JSON document: ${cut(text)}`], transcript: text }
    }
    return { problems: shapeDifferences(shown, actual), transcript: `the answer:\n${cut(text)}\n` }
  }

  /** SQL as Grafana's ClickHouse data source runs it: its macros expanded, over the page's services, on the page's store. */
  async #grafana(block: DocBlock, o: RunOptions): Promise<Outcome> {
    const problems: string[] = []
    // The page says collector/src/changelog/grafana.ts holds the same text.
    if (block.text.trimEnd() !== grafanaAnnotationSql('governor'))
      problems.push('differs from grafanaAnnotationSql() of collector/src/changelog/grafana.ts')
    const { services } = (await (
      await fetch(`${this.#url}/api/v1/services`, { headers: this.#auth('read') })
    ).json()) as { services: { service: string }[] }
    const query = expandGrafanaMacros(
      block.text,
      Date.now() - 3_600_000,
      Date.now() + 60_000,
      services.map((s) => s.service),
    )
    const res = await fetch(`${this.#url}/api/v1/sql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...this.#auth('read') },
      body: JSON.stringify({ query }),
    })
    const body = await res.text()
    if (!res.ok) problems.push(`POST /api/v1/sql answered ${res.status}`)
    problems.push(...o.prints.filter((p) => !body.includes(p)).map((p) => `its answer does not show ${p}`))
    return { problems, transcript: `${query}\nthe answer:\n${cut(body)}\n` }
  }

  /** Every `then GET … shows …` of the block, each waited for. */
  async #thenChecks(o: RunOptions): Promise<Outcome> {
    const problems: string[] = []
    let transcript = ''
    for (const t of o.then) {
      const deadline = Date.now() + WAIT_MILLIS
      let last = await this.#shows(t.path, t.text)
      while (!last.ok && Date.now() < deadline) {
        await sleep(100)
        last = await this.#shows(t.path, t.text)
      }
      transcript += `GET ${t.path}:\n${cut(last.body)}\n`
      if (!last.ok) problems.push(`GET ${t.path} does not show ${t.text}`)
    }
    return { problems, transcript }
  }

  async #shows(path: string, text: string): Promise<{ ok: boolean; body: string }> {
    const res = await fetch(`${this.#url}${path}`, { headers: this.#auth('read') })
    const body = await res.text()
    return { ok: res.ok && body.includes(text), body }
  }

  #also(a: Outcome, b: Outcome): Outcome {
    return { problems: [...a.problems, ...b.problems], transcript: a.transcript + b.transcript }
  }

  /** A token of the page's Governor (GOVERNOR_TOKENS) that has `role`, null in open mode. */
  #token(role: 'ingest' | 'read'): string | null {
    const grants = (r: string): boolean =>
      role === 'read' ? ['read', 'deploy', 'operate'].includes(r) : r === 'ingest' || r.startsWith('ingest@')
    for (const entry of (this.#env.GOVERNOR_TOKENS ?? '').split(',')) {
      const m = /^(?:[^=:]+=)?([^:]+):(.+)$/.exec(entry.trim())
      if (m !== null && m[1]!.split('+').some(grants)) return m[2]!
    }
    return null
  }

  #auth(role: 'ingest' | 'read'): Record<string, string> {
    const token = this.#token(role)
    return token === null ? {} : { authorization: `Bearer ${token}` }
  }
}

function parseEnv(nulSeparated: string): Record<string, string> {
  const env: Record<string, string> = {}
  for (const pair of nulSeparated.split('\0')) {
    const eq = pair.indexOf('=')
    if (eq > 0) env[pair.slice(0, eq)] = pair.slice(eq + 1)
  }
  // The shell's own bookkeeping, not the reader's.
  for (const k of ['_', 'SHLVL', 'PWD', 'OLDPWD']) delete env[k]
  return env
}

function cut(text: string): string {
  return text.length > 4000 ? `${text.slice(0, 4000)}\n[… ${text.length - 4000} more characters]` : text
}
