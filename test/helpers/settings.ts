import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadSettings, type Settings } from '../../collector/src/settings.ts'

/** Settings for a test: an empty data directory of its own, quiet logs, no environment. */
export function testSettings(overrides: Partial<Settings> = {}): Settings {
  const dataDir = mkdtempSync(join(tmpdir(), 'governor-test-'))
  return loadSettings({ dataDir, logLevel: 'silent', port: 0, ...overrides }, {})
}
