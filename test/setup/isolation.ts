import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

/**
 * Which test files may share a worker, and which need a process of their own.
 *
 * A file shares a worker (no fresh process, no fresh module graph: the `shared` project in
 * vitest.config.ts) only when nothing it may load at run time could reach past its own
 * module state. Its static imports, followed through every local module it can load, must
 * not name:
 *
 *   - `chdb`: the embedded engine binds one data directory per process;
 *   - `node:child_process`, `node:cluster`, `node:worker_threads`: a spawned server or
 *     command, whose life may outlast a test that does not clean up after itself;
 *   - `playwright-core`: a browser, the same;
 *
 * and the test file and local test helpers it loads must not change process-wide state
 * (`vi.mock`, fake timers, stubbed globals or environment, `process.env` writes,
 * `process.on`, `process.chdir`). A dynamic import whose specifier is not a string literal,
 * or a local import that cannot be resolved, counts as reaching everything. Whatever is in
 * doubt gets a process: a new file is isolated until its imports show it need not be.
 */

/** Packages (bare specifiers, with or without `node:`) whose loading isolates a test file. */
const ISOLATING_PACKAGES: readonly string[] = ['chdb', 'child_process', 'cluster', 'worker_threads', 'playwright-core']

/** Process-wide changes that a file sharing a worker would leave to the next one. */
const PROCESS_STATE =
  /\bvi\.(?:mock|doMock|useFakeTimers|stubEnv|stubGlobal)\(|\bprocess\.env(?:\.\w+|\[[^\]]+\])\s*=(?!=)|\bdelete\s+process\.env\b|\bprocess\.(?:chdir|on|once|addListener|prependListener)\(/

/** `@governor/throttle` and its subpaths are the library's sources here, as in vitest.config.ts. */
const THROTTLE_ENTRIES: Readonly<Record<string, string>> = {
  '@governor/throttle': 'throttle/src/index.ts',
  '@governor/throttle/fastify': 'throttle/src/fastify.ts',
  '@governor/throttle/openfeature': 'throttle/src/openfeature.ts',
}

// Statements that load a module when they run; `import type` and `export type` do not.
const STATIC_FROM = /\b(?:import|export)(?!\s+type\s)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g
const SIDE_EFFECT = /\bimport\s*['"]([^'"]+)['"]/g
const DYNAMIC = /\b(?:import|require)\s*\(\s*([^)]*?)\s*\)/g

/** A module's own reason to isolate, and the local modules it loads. */
interface Parsed {
  reason: string | undefined
  imports: string[]
}

/** Why `file` (absolute) needs a process of its own, or undefined when it may share a worker. */
export function isolationReason(root: string, file: string, parsed = new Map<string, Parsed>()): string | undefined {
  const seen = new Set<string>()
  const pending = [file]
  for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
    if (seen.has(path)) continue
    seen.add(path)
    let module = parsed.get(path)
    if (module === undefined) {
      module = parse(root, path)
      parsed.set(path, module)
    }
    if (module.reason !== undefined) return module.reason
    pending.push(...module.imports)
  }
  return undefined
}

function parse(root: string, path: string): Parsed {
  const local = relative(root, path)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return { reason: `cannot read ${local}`, imports: [] }
  }
  if (local.startsWith('test/') && PROCESS_STATE.test(text))
    return { reason: `${local} changes process-wide state`, imports: [] }
  const specifiers: string[] = []
  for (const m of text.matchAll(STATIC_FROM)) specifiers.push(m[1]!)
  for (const m of text.matchAll(SIDE_EFFECT)) specifiers.push(m[1]!)
  for (const m of text.matchAll(DYNAMIC)) {
    const literal = /^(['"])([^'"`]+)\1$/.exec(m[1]!)
    if (literal === null)
      return { reason: `${local} loads a module it names at run time: import(${m[1]})`, imports: [] }
    specifiers.push(literal[2]!)
  }
  const imports: string[] = []
  for (const spec of specifiers) {
    const target = resolveLocal(root, path, spec)
    if (target === null) return { reason: `${local} loads ${spec}, which is not found`, imports: [] }
    if (target !== undefined) {
      imports.push(target)
      continue
    }
    const name = spec.replace(/^node:/, '')
    if (ISOLATING_PACKAGES.some((p) => name === p || name.startsWith(`${p}/`)))
      return { reason: `${local} loads ${spec}`, imports: [] }
  }
  return { reason: undefined, imports }
}

/** A local module's path; undefined for a package, null for a local module not found. */
function resolveLocal(root: string, from: string, spec: string): string | null | undefined {
  const throttle = THROTTLE_ENTRIES[spec]
  if (throttle !== undefined) return join(root, throttle)
  if (!spec.startsWith('.') && !spec.startsWith('/')) return undefined
  const base = resolve(dirname(from), spec)
  const candidates = [base, base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')]
  return candidates.find((c) => existsSync(c) && !isDirectory(c)) ?? null
}

function isDirectory(path: string): boolean {
  try {
    readdirSync(path)
    return true
  } catch {
    return false
  }
}

/** Every `*.test.ts` under `dir`, relative to `root`, sorted. */
export function testFiles(root: string, dir = 'test'): string[] {
  const found: string[] = []
  const walk = (d: string): void => {
    for (const entry of readdirSync(join(root, d), { withFileTypes: true })) {
      const rel = `${d}/${entry.name}`
      if (entry.isDirectory()) walk(rel)
      else if (entry.name.endsWith('.test.ts')) found.push(rel)
    }
  }
  walk(dir)
  return found.sort()
}

/** The test files (relative to `root`) that may share a worker: see the file's comment. */
export function sharedTestFiles(root: string): string[] {
  const parsed = new Map<string, Parsed>()
  return testFiles(root).filter((f) => isolationReason(root, join(root, f), parsed) === undefined)
}
