import { createHash, createHmac } from 'node:crypto'

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com, spec v1.0.0, symmetric
 * scheme): the secret is `whsec_` + base64 of the key; the signature is
 * `v1,` + base64(HMAC-SHA256(key, "{webhook-id}.{webhook-timestamp}.{body}")).
 */

const PREFIX = 'whsec_'
/** The spec asks for at least 24 random bytes and at most 64. */
const MIN_KEY_BYTES = 24
const MAX_KEY_BYTES = 64

/** The HMAC key of a `whsec_<base64>` secret; throws naming the problem (never the secret). */
export function parseWebhookSecret(secret: string): Buffer {
  if (!secret.startsWith(PREFIX)) throw new Error('secret must start with "whsec_" (a Standard Webhooks secret)')
  const b64 = secret.slice(PREFIX.length)
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 === 1)
    throw new Error('secret must be "whsec_" followed by base64')
  const key = Buffer.from(b64, 'base64')
  if (key.length < MIN_KEY_BYTES || key.length > MAX_KEY_BYTES) {
    throw new Error(
      `secret decodes to ${key.length} bytes; Standard Webhooks asks for ${MIN_KEY_BYTES} to ${MAX_KEY_BYTES}`,
    )
  }
  return key
}

/** The `webhook-signature` value of one attempt. `timestampSeconds` is the attempt's `webhook-timestamp`. */
export function signWebhook(key: Buffer, id: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`, 'utf8').digest('base64')
  return `v1,${mac}`
}

/**
 * The `webhook-id` of a delivery (one event to one sink): the same on every retry and
 * after a restart, so receivers can use it as an idempotency key. Hashed, because event
 * ids may be client idempotency keys and the spec forbids a "." in the id.
 */
export function webhookId(sink: string, eventId: string): string {
  return `msg_${createHash('sha256').update(`${sink}\n${eventId}`).digest('base64url').slice(0, 27)}`
}
