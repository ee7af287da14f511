import { ThrottleClient } from './client.ts'
import { httpLink } from './http-link.ts'
import { resolveOptions, type ConnectOptions } from './options.ts'

/**
 * Connects to the collector and returns the service's client at once; declare knobs on it,
 * then `await client.ready()` (at most `startupTimeoutMillis`). Throws
 * THROTTLE_ERR_OPTION_INVALID for a bad option; never for the collector being away.
 *
 * ```ts
 * const governor = connect({ url: 'http://127.0.0.1:4318', service: 'checkout', stateFile: '.governor-knobs.json' })
 * const workers = governor.knob('workers', { type: 'int', default: 20, min: 1, max: 200, unit: '{worker}' })
 * await governor.ready()
 * pool.resize(workers.value)
 * ```
 */
export function connect(options: ConnectOptions): ThrottleClient {
  const o = resolveOptions(options)
  return new ThrottleClient({
    service: o.service,
    startupTimeoutMillis: o.startupTimeoutMillis,
    stateFile: o.stateFile,
    onError: o.onError,
    link: (hooks) => httpLink(o, hooks),
  })
}
