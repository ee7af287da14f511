import { readFileSync } from 'node:fs'
import { mkdir, open, rename, unlink } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { KnobValue } from './declaration.ts'
import { ThrottleError } from './errors.ts'
import type { KnobInfo } from './knob.ts'

/** Marks the file's layout; a file of another layout is reported and ignored. */
const FORMAT = 'governor.throttle.state/1'

/** A knob's last known good value, with the change that produced it. */
export interface StoredKnob {
  value: KnobValue
  info: Omit<KnobInfo, 'source'>
}

/**
 * Reads the state file. A missing file is an empty state; a file that cannot be read or
 * parsed, or that belongs to another service, is an empty state and an error to report.
 */
export function readStateFile(
  path: string,
  service: string,
): { knobs: Map<string, StoredKnob>; error?: ThrottleError } {
  const knobs = new Map<string, StoredKnob>()
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { knobs }
    return { knobs, error: corrupt(path, `cannot be read (${(err as Error).message})`, err) }
  }
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    return { knobs, error: corrupt(path, `is not JSON (${(err as Error).message})`, err) }
  }
  const d = doc as Record<string, unknown>
  if (
    typeof doc !== 'object' ||
    doc === null ||
    d.format !== FORMAT ||
    typeof d.knobs !== 'object' ||
    d.knobs === null
  ) {
    return { knobs, error: corrupt(path, `is not a state file of this library (format ${FORMAT})`) }
  }
  if (d.service !== service)
    return {
      knobs,
      error: corrupt(path, `holds the knobs of service ${JSON.stringify(d.service)}, not ${JSON.stringify(service)}`),
    }
  for (const [name, raw] of Object.entries(d.knobs as Record<string, unknown>)) {
    const k = raw as Record<string, unknown> | null
    const v = k?.value
    if (typeof v !== 'number' && typeof v !== 'boolean' && typeof v !== 'string')
      return { knobs: new Map(), error: corrupt(path, `has no valid value for knob ${name}`) }
    const str = (x: unknown) => (typeof x === 'string' ? x : undefined)
    const mode = k!.mode === 'manual' || k!.mode === 'auto' || k!.mode === 'pinned' ? k!.mode : undefined
    knobs.set(name, {
      value: v,
      info: {
        mode,
        version: typeof k!.version === 'number' ? k!.version : undefined,
        changeId: str(k!.change_id),
        changedBy: str(k!.changed_by),
        reason: str(k!.reason),
        changedAt: str(k!.changed_at),
      },
    })
  }
  return { knobs }
}

/** The file's text for these knobs. */
export function stateFileText(service: string, knobs: ReadonlyMap<string, StoredKnob>, now: Date): string {
  const out: Record<string, unknown> = {}
  for (const [name, k] of [...knobs].sort(([a], [b]) => (a < b ? -1 : 1))) {
    out[name] = {
      value: k.value,
      mode: k.info.mode,
      version: k.info.version,
      change_id: k.info.changeId,
      changed_by: k.info.changedBy,
      reason: k.info.reason,
      changed_at: k.info.changedAt,
    }
  }
  return JSON.stringify({ format: FORMAT, service, saved_at: now.toISOString(), knobs: out }, null, 2) + '\n'
}

/**
 * Writes the state file atomically: the text goes to a temporary file beside it, is synced,
 * and the temporary file is renamed over the old one, so a reader (the next start, after a
 * crash at any point) sees the old file or the new one, never half of one. Writes requested
 * while one runs are coalesced into one more write of the latest state.
 */
export class StateFileWriter {
  readonly #path: string
  readonly #text: () => string
  readonly #report: (err: ThrottleError) => void
  #running: Promise<void> | undefined
  #dirty = false
  #seq = 0

  constructor(path: string, text: () => string, report: (err: ThrottleError) => void) {
    this.#path = path
    this.#text = text
    this.#report = report
  }

  /** Asks for a write of the current state. */
  schedule(): void {
    this.#dirty = true
    this.#running ??= this.#drain().finally(() => {
      this.#running = undefined
    })
  }

  /** Resolves when every requested write is done (or failed and was reported). */
  async flush(): Promise<void> {
    while (this.#running !== undefined) await this.#running
  }

  async #drain(): Promise<void> {
    while (this.#dirty) {
      this.#dirty = false
      const tmp = `${this.#path}.${process.pid}.${++this.#seq}.tmp`
      try {
        await mkdir(dirname(this.#path), { recursive: true })
        const fh = await open(tmp, 'w', 0o644)
        try {
          await fh.writeFile(this.#text())
          await fh.sync()
        } finally {
          await fh.close()
        }
        await rename(tmp, this.#path)
      } catch (err) {
        await unlink(tmp).catch(() => {})
        this.#report(
          new ThrottleError(
            'THROTTLE_ERR_STATE_FILE_WRITE',
            `state file ${this.#path} could not be written: ${(err as Error).message}`,
            { cause: err },
          ),
        )
      }
    }
  }
}

function corrupt(path: string, what: string, cause?: unknown): ThrottleError {
  return new ThrottleError(
    'THROTTLE_ERR_STATE_FILE_CORRUPT',
    `state file ${path} ${what}; it is ignored and will be rewritten`,
    { cause },
  )
}
