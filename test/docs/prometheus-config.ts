import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { compressSync } from 'snappy'
import { parse } from 'yaml'
import { encodeWriteRequest } from '../helpers/remote-write.ts'

/** What a Prometheus configuration of the docs needs from the page's Governor. */
export interface PrometheusTarget {
  /** The docs' address of Governor turned into the test's (see `toTestAddress`). */
  readonly address: (text: string) => string
  /** A token of the page's Governor with `role`, for an elided one (`8c1d…`); null in open mode. */
  readonly tokenFor: (role: 'ingest' | 'read') => string | null
}

interface PromConfig {
  remote_write?: { url: string; authorization?: { credentials?: string } }[]
  scrape_configs?: {
    job_name: string
    metrics_path?: string
    authorization?: { credentials?: string }
    static_configs?: { targets: string[] }[]
  }[]
}

/**
 * Checks a Prometheus configuration as Prometheus would use it against Governor: `promtool
 * check config --syntax-only` (files it names, such as `credentials_file`, are the reader's),
 * then every `remote_write` URL takes a snappy-compressed remote write request, and every
 * scrape target answers its metrics path, on the page's Governor. Returns what failed.
 */
export async function checkPrometheusConfig(
  text: string,
  dir: string,
  name: string,
  governor: PrometheusTarget,
): Promise<string[]> {
  const file = join(dir, name)
  writeFileSync(file, text)
  const promtool = await new Promise<{ code: number; out: string }>((resolve) => {
    execFile('promtool', ['check', 'config', '--syntax-only', file], (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : Number((err as { code?: number }).code ?? 1), out: stdout + stderr })
    })
  })
  if (promtool.code !== 0) return [`promtool check config exited with ${promtool.code}:\n${promtool.out}`]
  const config = parse(text) as PromConfig
  const problems: string[] = []
  for (const rw of config.remote_write ?? []) {
    const token =
      usable(rw.authorization?.credentials) ?? (rw.authorization !== undefined ? governor.tokenFor('ingest') : null)
    const body = compressSync(
      Buffer.from(
        encodeWriteRequest([
          { labels: { __name__: 'docs_remote_write_check', job: 'prometheus' }, samples: [[Date.now(), 1]] },
        ]),
      ),
    )
    const res = await fetch(governor.address(rw.url), {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/x-protobuf',
        'content-encoding': 'snappy',
        'x-prometheus-remote-write-version': '0.1.0',
        ...auth(token),
      },
    })
    if (!res.ok) problems.push(`remote_write ${rw.url}: ${res.status} ${await res.text()}`)
  }
  for (const job of config.scrape_configs ?? []) {
    const token =
      usable(job.authorization?.credentials) ?? (job.authorization !== undefined ? governor.tokenFor('read') : null)
    for (const target of (job.static_configs ?? []).flatMap((s) => s.targets)) {
      const res = await fetch(`http://${governor.address(target)}${job.metrics_path ?? '/metrics'}`, {
        headers: auth(token),
      })
      const body = await res.text()
      if (!res.ok || !body.includes('# TYPE'))
        problems.push(`scrape ${job.job_name} of ${target}: ${res.status} ${body.slice(0, 200)}`)
    }
  }
  return problems
}

/** A credential written out in full, not elided with `…`. */
function usable(credentials: string | undefined): string | null {
  return credentials === undefined || credentials.includes('…') ? null : credentials
}

function auth(token: string | null): Record<string, string> {
  return token === null ? {} : { authorization: `Bearer ${token}` }
}
