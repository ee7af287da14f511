import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const THROTTLE_SRC = fileURLToPath(new URL('./throttle/src/', import.meta.url))

// chDB binds one data directory per process, so every test file runs in a forked
// process of its own (the `forks` pool isolates files by default).
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
    include: ['test/**/*.test.ts'],
    // Debian's chromium and Prometheus, installed when they can be (see the file).
    globalSetup: ['test/setup/debian-peers.ts'],
    pool: 'forks',
    // Deadlines, not expectations: a test only meets one when something hangs. Generous, so
    // that a busy machine (a spawned CLI compiling TypeScript at start) does not fail a test.
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
})
