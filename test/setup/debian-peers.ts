import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'

/**
 * The real programs some tests run beside Governor, from Debian's packages: a browser for
 * the web UI, Prometheus as the reference PromQL answers are compared with.
 */
export const PEERS = [
  { pkg: 'chromium', bin: '/usr/bin/chromium', for: 'the web UI tests (test/ui/)' },
  {
    pkg: 'prometheus',
    bin: '/usr/bin/prometheus',
    for: 'the PromQL comparison with Prometheus (test/e2e/promql-vs-prometheus.test.ts)',
  },
] as const

/** Whether a peer's program is on this machine. */
export function hasPeer(pkg: (typeof PEERS)[number]['pkg']): boolean {
  return existsSync(PEERS.find((p) => p.pkg === pkg)!.bin)
}

/**
 * vitest's global setup: installs the missing peers with apt-get when this process may (root,
 * apt-get present); otherwise says loudly which tests will not run. With
 * GOVERNOR_REQUIRE_PEERS=1 (CI) a peer that cannot be installed fails the run instead.
 */
export default function setup(): void {
  const missing = PEERS.filter((p) => !existsSync(p.bin))
  if (missing.length === 0) return
  const canInstall = process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')
  if (canInstall) {
    process.stderr.write(
      `installing Debian's ${missing.map((p) => p.pkg).join(', ')} for ${missing.map((p) => p.for).join(' and ')}…\n`,
    )
    try {
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
      execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env })
      execFileSync('apt-get', ['install', '-y', '-qq', ...missing.map((p) => p.pkg)], { stdio: 'ignore', env })
    } catch (err) {
      process.stderr.write(`apt-get failed: ${(err as Error).message}\n`)
    }
  }
  const still = PEERS.filter((p) => !existsSync(p.bin))
  if (still.length === 0) return
  const lines = still.map((p) => `  ${p.bin} (Debian package ${p.pkg}) is missing: ${p.for} will NOT run`)
  const how = `install them with: apt-get install -y ${still.map((p) => p.pkg).join(' ')}`
  if (process.env.GOVERNOR_REQUIRE_PEERS === '1')
    throw new Error(`GOVERNOR_REQUIRE_PEERS=1 and\n${lines.join('\n')}\n${how}`)
  process.stderr.write(`\n${'!'.repeat(72)}\n${lines.join('\n')}\n  ${how}\n${'!'.repeat(72)}\n\n`)
}
