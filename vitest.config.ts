import { defineConfig } from 'vitest/config'

// chDB binds one data directory per process, so every test file runs in a forked
// process of its own (the `forks` pool isolates files by default).
export default defineConfig({
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
