import { checkName } from './declaration.ts'
import { ThrottleError, isThrottleError } from './errors.ts'

interface NumberOption {
  default: number
  min: number
  max: number
  integer?: boolean
  doc: string
}

/**
 * The numeric options of `connect()`, declared once: default, bounds, one line of doc. The
 * unit is in the name. A value outside its bounds throws THROTTLE_ERR_OPTION_INVALID.
 */
export const CONNECT_NUMBER_OPTIONS = {
  startupTimeoutMillis: {
    default: 1_000,
    min: 0,
    max: 600_000,
    doc: 'Longest `ready()` waits for the collector; then the client runs on the state file or the defaults (and keeps trying).',
  },
  requestTimeoutMillis: {
    default: 5_000,
    min: 1,
    max: 600_000,
    doc: 'Longest a declaration, a poll, or the opening of the live stream may take.',
  },
  reconnectInitialDelayMillis: {
    default: 250,
    min: 1,
    max: 600_000,
    doc: 'Bound of the first delay before reconnecting; it doubles with each failed attempt (the delay is drawn between half the bound and the bound).',
  },
  reconnectMaxDelayMillis: { default: 30_000, min: 1, max: 3_600_000, doc: 'Largest bound of a reconnect delay.' },
  streamIdleTimeoutMillis: {
    default: 45_000,
    min: 100,
    max: 3_600_000,
    doc: 'A stream silent this long is taken for dead and reopened (the collector sends a comment every 15 s).',
  },
  pollAfterStreamFailures: {
    default: 3,
    min: 1,
    max: 1_000,
    integer: true,
    doc: 'Stream attempts failed in a row after which the client polls the knob list (with ETag) between attempts.',
  },
  pollIntervalMillis: {
    default: 5_000,
    min: 10,
    max: 3_600_000,
    doc: 'Time between polls while the stream does not work.',
  },
  streamRetryIntervalMillis: {
    default: 60_000,
    min: 10,
    max: 3_600_000,
    doc: 'While polling, how often the stream is tried again.',
  },
} as const satisfies Record<string, NumberOption>

type NumberOptions = { -readonly [K in keyof typeof CONNECT_NUMBER_OPTIONS]: number }

/** Options of `connect()`. */
export interface ConnectOptions extends Partial<NumberOptions> {
  /** The collector, e.g. `http://127.0.0.1:4318`. */
  url: string
  /** This app's `service.name`: the knobs are the service's. */
  service: string
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string
  /**
   * A file that keeps the last known good values (written atomically: a temporary file, then
   * a rename), used when the collector is unreachable at start. A corrupted file is reported
   * and ignored. Unset: nothing is kept.
   */
  stateFile?: string
  /** Called with every error the client reports (bad values refused, connection lost…); it never throws them. */
  onError?: (err: ThrottleError) => void
  /** The source of jitter, a number in [0, 1): tests pass their own. Default `Math.random`. */
  random?: () => number
  /** The `fetch` to use. Default the global one. */
  fetch?: typeof globalThis.fetch
}

/** Options once checked, with their defaults. */
export interface ResolvedOptions extends NumberOptions {
  baseUrl: string
  service: string
  headers: Record<string, string>
  stateFile: string | undefined
  onError: ((err: ThrottleError) => void) | undefined
  random: () => number
  fetch: typeof globalThis.fetch
}

const OTHER_OPTIONS = ['url', 'service', 'token', 'stateFile', 'onError', 'random', 'fetch']

/** Checks the options of `connect()`: throws THROTTLE_ERR_OPTION_INVALID naming the option and the value received. */
export function resolveOptions(options: ConnectOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null)
    throw invalid(`connect() takes an options object, got ${JSON.stringify(options)}`)
  const o = options as unknown as Record<string, unknown>
  const known = [...Object.keys(CONNECT_NUMBER_OPTIONS), ...OTHER_OPTIONS]
  for (const key of Object.keys(o)) {
    if (known.includes(key) || o[key] === undefined) continue
    const near = known.find(
      (k) => k.toLowerCase().startsWith(key.toLowerCase()) || key.toLowerCase().startsWith(k.toLowerCase()),
    )
    throw invalid(`unknown option ${key}${near === undefined ? '' : `; did you mean ${near}?`}`)
  }
  let base: URL
  try {
    base = new URL(String(o.url))
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error('not http')
  } catch {
    throw invalid(`url must be an http or https URL, got ${JSON.stringify(o.url)}`)
  }
  let service: string
  try {
    service = checkName(o.service, 'service')
  } catch (err) {
    throw isThrottleError(err) ? invalid(err.message) : err
  }
  const numbers = {} as NumberOptions
  for (const [key, spec] of Object.entries(CONNECT_NUMBER_OPTIONS) as [keyof NumberOptions, NumberOption][]) {
    const v = o[key] ?? spec.default
    if (
      typeof v !== 'number' ||
      Number.isNaN(v) ||
      v < spec.min ||
      v > spec.max ||
      (spec.integer === true && !Number.isInteger(v))
    ) {
      throw invalid(
        `${key} must be ${spec.integer === true ? 'a whole number' : 'a number'} from ${spec.min} to ${spec.max}, got ${JSON.stringify(v)}`,
      )
    }
    numbers[key] = v
  }
  if (o.token !== undefined && (typeof o.token !== 'string' || o.token === ''))
    throw invalid('token must be a non-empty string')
  if (o.stateFile !== undefined && (typeof o.stateFile !== 'string' || o.stateFile === ''))
    throw invalid(`stateFile must be a path, got ${JSON.stringify(o.stateFile)}`)
  for (const fn of ['onError', 'random', 'fetch']) {
    if (o[fn] !== undefined && typeof o[fn] !== 'function') throw invalid(`${fn} must be a function`)
  }
  const headers: Record<string, string> = {}
  if (typeof o.token === 'string') headers.authorization = `Bearer ${o.token}`
  return {
    ...numbers,
    baseUrl: base.href.replace(/\/+$/, ''),
    service,
    headers,
    stateFile: o.stateFile as string | undefined,
    onError: o.onError as ResolvedOptions['onError'],
    random: (o.random as (() => number) | undefined) ?? Math.random,
    fetch: (o.fetch as typeof globalThis.fetch | undefined) ?? ((input, init) => globalThis.fetch(input, init)),
  }
}

function invalid(message: string): ThrottleError {
  return new ThrottleError('THROTTLE_ERR_OPTION_INVALID', message)
}
