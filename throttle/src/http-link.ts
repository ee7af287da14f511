import { Declarer } from './declarer.ts'
import type { Link, LinkHooks } from './link.ts'
import { LiveConnection } from './live-connection.ts'
import type { ResolvedOptions } from './options.ts'

/** The collector over HTTP: declarations (PUT) and the live stream (or polling). */
export function httpLink(o: ResolvedOptions, hooks: LinkHooks): Link {
  const common = {
    baseUrl: o.baseUrl,
    service: o.service,
    headers: o.headers,
    fetch: o.fetch,
    requestTimeoutMillis: o.requestTimeoutMillis,
  }
  const declarer = new Declarer({
    ...common,
    bodyOf: hooks.bodyOf,
    onAnswer: (_name, knob) => hooks.knob(knob, 'declaration'),
    onRefused: hooks.refused,
    onUnreachable: hooks.unreachable,
  })
  const connection = new LiveConnection({
    ...common,
    random: o.random,
    backoff: {
      initialDelayMillis: o.reconnectInitialDelayMillis,
      maxDelayMillis: o.reconnectMaxDelayMillis,
      multiplier: 2,
    },
    streamIdleTimeoutMillis: o.streamIdleTimeoutMillis,
    pollAfterStreamFailures: o.pollAfterStreamFailures,
    pollIntervalMillis: o.pollIntervalMillis,
    streamRetryIntervalMillis: o.streamRetryIntervalMillis,
    onSnapshot: hooks.snapshot,
    onKnob: (knob) => hooks.knob(knob, 'stream'),
    onStatus: (status) => {
      // The collector is back: deliver the declarations that found it away.
      if (status === 'streaming' || status === 'polling') declarer.retry()
      hooks.status(status)
    },
    report: hooks.report,
  })
  return {
    start: () => connection.start(),
    declare: (name) => declarer.declare(name),
    close: () => {
      declarer.close()
      connection.close()
    },
  }
}
