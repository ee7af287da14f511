import { defineConfig } from 'vitest/config'

// chDB binds one data directory per process, so every test file runs in a forked
// process of its own (the `forks` pool isolates files by default).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
})
