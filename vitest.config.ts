import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'
import { sharedTestFiles } from './test/setup/isolation.ts'

const ROOT = fileURLToPath(new URL('./', import.meta.url))
const THROTTLE_SRC = fileURLToPath(new URL('./throttle/src/', import.meta.url))

// Test files that may share a worker and its loaded modules: those whose imports reach no
// store engine, child process or browser, and change no process-wide state (see the file).
// Every other file, a new one included until its imports show otherwise, runs in a forked
// process of its own: chDB binds one data directory per process.
const SHARED = sharedTestFiles(ROOT)

export default defineConfig({
  // In this repo @governor/throttle is its TypeScript sources, as tsconfig.json's paths say for
  // tsc and tsx; apps get its built dist/ through the package's exports.
  resolve: {
    alias: [
      { find: /^@governor\/throttle$/, replacement: `${THROTTLE_SRC}index.ts` },
      { find: /^@governor\/throttle\/(fastify|openfeature)$/, replacement: `${THROTTLE_SRC}$1.ts` },
    ],
  },
  test: {
    // Most files wait on servers, child processes and the store rather than compute: more
    // files at once than cores keeps both cores busy (vitest's default is one fewer than the
    // cores, a single file at a time on two). `--maxWorkers n` overrides.
    maxWorkers: 3,
    // Deadlines, not expectations: a test only meets one when something hangs. Generous, so
    // that a busy machine (a spawned CLI compiling TypeScript at start) does not fail a test.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: { name: 'shared', include: SHARED, pool: 'threads', isolate: false },
      },
      {
        extends: true,
        test: {
          name: 'isolated',
          include: ['test/**/*.test.ts'],
          exclude: SHARED,
          pool: 'forks',
          // Debian's chromium and Prometheus, installed when they can be (see the file).
          globalSetup: ['test/setup/debian-peers.ts'],
        },
      },
    ],
  },
})
