import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { docBlocks, docFiles, type DocBlock } from '../helpers/doc-blocks.ts'
import { PageSession } from './page-session.ts'
import { makeReaderProject } from './reader-project.ts'

// Every fenced block of README.md and docs/ is run as a reader would run it, or says why not
// (test/helpers/doc-blocks.ts: how blocks are marked). A page's blocks run in order in one
// session against a Governor of the page's own (page-session.ts).

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const PAGES = docFiles(ROOT).map((file) => ({ file, blocks: docBlocks(ROOT, file) }))
const RUN = PAGES.map((p) => ({ ...p, run: p.blocks.filter((b) => b.mark.kind === 'run') })).filter(
  (p) => p.run.length > 0,
)

// The programs the blocks run besides node and npm. One that is missing skips what needs it,
// loudly, unless GOVERNOR_REQUIRE_PEERS=1 (CI): a page's shell blocks need bash and the
// programs they name; a Prometheus configuration needs promtool (Debian's prometheus package,
// which the global setup installs when it can).
const REQUIRE = process.env.GOVERNOR_REQUIRE_PEERS === '1'
const onPath = (program: string): boolean =>
  (process.env.PATH ?? '').split(delimiter).some((d) => d !== '' && existsSync(join(d, program)))
const needsPromtool = (b: DocBlock): boolean => b.mark.kind === 'run' && b.mark.options.prometheusConfig
const shellPrograms = (blocks: DocBlock[]): string[] => {
  const sh = blocks
    .filter((b) => b.lang === 'sh')
    .map((b) => b.text)
    .join('\n')
  return sh === '' ? [] : ['bash', ...['curl', 'openssl'].filter((p) => new RegExp(`\\b${p}\\b`).test(sh))]
}
const PROMTOOL = onPath('promtool') || REQUIRE
const skipped = [
  ...RUN.flatMap((p) =>
    shellPrograms(p.run)
      .filter((program) => !onPath(program))
      .map((program) => `${program} is missing: the blocks of ${p.file} are NOT run`),
  ),
  ...(PROMTOOL || !RUN.some((p) => p.run.some(needsPromtool))
    ? []
    : ['promtool (Debian package prometheus) is missing: the Prometheus configurations of the docs are NOT checked']),
]
if (skipped.length > 0 && !REQUIRE)
  process.stderr.write(`\n${'!'.repeat(72)}\n${skipped.map((l) => `  ${l}`).join('\n')}\n${'!'.repeat(72)}\n\n`)
const runnable = (page: (typeof RUN)[number]): boolean => REQUIRE || shellPrograms(page.run).every(onPath)

// Pages run one after another, each with its own Governor; while a page runs, the Governors
// of the next OPEN - 1 pages start.
const OPEN = 3
const PAGES_RUN = RUN.filter(runnable)
let project: Promise<string>
const sessions = new Map<number, Promise<PageSession>>()
function sessionOf(i: number): Promise<PageSession> {
  let session = sessions.get(i)
  if (session === undefined) {
    session = PageSession.open(PAGES_RUN[i]!.file, PAGES_RUN[i]!.blocks, project)
    session.catch(() => {}) // awaited by the page's tests: a failure is theirs to report
    sessions.set(i, session)
  }
  return session
}

beforeAll(() => {
  project = PAGES_RUN.length > 0 ? makeReaderProject() : Promise.reject(new Error('no page runs here'))
  project.catch(() => {})
})

afterAll(async () => {
  await Promise.allSettled([...sessions.values()].map(async (s) => (await s).close()))
  const dir = await project.catch(() => null)
  if (dir !== null) rmSync(dirname(dir), { recursive: true, force: true })
}, 60_000)

describe('code blocks of README.md and docs/', () => {
  it('finds the blocks: the quick start is among them', () => {
    const readme = PAGES.find((p) => p.file === 'README.md')!.blocks
    expect(readme.some((b) => b.lang === 'sh' && b.text.includes('/v1/metrics'))).toBe(true)
    expect(PAGES.reduce((n, p) => n + p.blocks.length, 0)).toBeGreaterThan(30)
  })

  it('has every block run, or marked with why it is not', () => {
    const unmarked = PAGES.flatMap((p) => p.blocks).flatMap((b) =>
      b.mark.kind === 'unmarked' ? [`${b.file}:${b.line}: ${b.mark.problem}`] : [],
    )
    expect(unmarked).toEqual([])
  })

  it('names the file and line of a new block that is neither run nor marked', () => {
    const root = mkdtempSync(join(tmpdir(), 'governor-docs-marks-'))
    mkdirSync(join(root, 'docs'))
    writeFileSync(
      join(root, 'docs/new.md'),
      '# New\n\n```json\n{"a": 1}\n```\n\n<!-- not run: shown for reading -->\n```yaml\na: 1\n```\n\n<!-- run: prints x; sometimes -->\n```sh\necho x\n```\n',
    )
    const blocks = docFiles(root)
      .filter((f) => f !== 'README.md')
      .flatMap((f) => docBlocks(root, f))
    rmSync(root, { recursive: true, force: true })
    expect(blocks.map((b) => [b.file, b.line, b.mark.kind])).toEqual([
      ['docs/new.md', 3, 'unmarked'],
      ['docs/new.md', 8, 'not-run'],
      ['docs/new.md', 13, 'unmarked'],
    ])
    expect(blocks[2]!.mark).toEqual({ kind: 'unmarked', problem: 'unknown run option "sometimes"' })
  })
})

for (const page of RUN) {
  const i = PAGES_RUN.indexOf(page)
  describe.skipIf(i < 0)(page.file, () => {
    let session: PageSession
    beforeAll(async () => {
      for (let next = i + 1; next < Math.min(i + OPEN, PAGES_RUN.length); next++) void sessionOf(next)
      session = await sessionOf(i)
    }, 300_000)
    afterAll(async () => {
      await session?.close()
    })

    for (const block of page.run) {
      it.skipIf(needsPromtool(block) && !PROMTOOL)(`${page.file}:${block.line} (${block.lang})`, async () => {
        const outcome = await session.run(block)
        expect(outcome.problems, `${page.file}:${block.line}\n${outcome.transcript}`).toEqual([])
      })
    }
  })
}
