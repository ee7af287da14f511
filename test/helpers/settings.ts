import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadSettings, type Settings } from '../../collector/src/settings.ts'

/**
 * Settings for a test: an empty data directory of its own, quiet logs, no environment.
 * Ingest has no wait bound (a test about admission sets one): on a busy machine the event
 * loop of a test process can stall for longer than the default 250 ms, and a test that is
 * not about overload must not be refused for it. OTLP/gRPC is off (a test about it gives it a
 * free port): test files run side by side, and only one of them could hold 4317.
 */
export function testSettings(overrides: Partial<Settings> = {}): Settings {
  const dataDir = mkdtempSync(join(tmpdir(), 'governor-test-'))
  return loadSettings({ dataDir, logLevel: 'silent', port: 0, grpcPort: 0, ingestMaxWaitMillis: 0, ...overrides }, {})
}
