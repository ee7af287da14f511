import type { ThrottleError } from './errors.ts'
import type { ConnectionStatus } from './live-connection.ts'

/** Library-internal: what a client hears from its source of knobs. */
export interface LinkHooks {
  /** Every knob of the service. */
  snapshot(knobs: unknown[]): void
  /** One knob, from the stream, from the answer to a declaration, or set in memory. */
  knob(knob: unknown, origin: 'stream' | 'declaration' | 'memory'): void
  /** A declaration the collector refused (not retried). */
  refused(name: string, err: ThrottleError): void
  /** A declaration that could not be delivered (retried on reconnect). */
  unreachable(name: string, err: ThrottleError): void
  status(status: ConnectionStatus): void
  report(err: ThrottleError): void
  /** The declaration body of a knob. */
  bodyOf(name: string): Record<string, unknown>
}

/** Library-internal: a client's source of knobs (the collector over HTTP, or memory). */
export interface Link {
  start(): void
  declare(name: string): void
  close(): void
}
