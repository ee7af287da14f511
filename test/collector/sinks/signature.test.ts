import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { buildRequest } from '../../../collector/src/sinks/messages.ts'
import { parseWebhookSecret, signWebhook, webhookId } from '../../../collector/src/sinks/signature.ts'
import type { SinkConfig } from '../../../collector/src/sinks/sink-config.ts'
import { event } from './fixtures.ts'

// The known vector of the Standard Webhooks reference library
// (standard-webhooks/libraries/javascript/src/webhook.test.ts, "sign function works").
const SPEC_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
const SPEC_ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek'
const SPEC_TIMESTAMP = 1614265330
const SPEC_PAYLOAD = '{"test": 2432232314}'
const SPEC_SIGNATURE = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='

describe('Standard Webhooks signature', () => {
  it('matches the reference library vector', () => {
    expect(signWebhook(parseWebhookSecret(SPEC_SECRET), SPEC_ID, SPEC_TIMESTAMP, SPEC_PAYLOAD)).toBe(SPEC_SIGNATURE)
  })

  it('keys the HMAC with the base64-decoded secret, not its text', () => {
    const key = parseWebhookSecret(SPEC_SECRET)
    expect(key).toEqual(Buffer.from('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64'))
    expect(key.length).toBe(24)
    const withText = createHmac('sha256', 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')
      .update(`${SPEC_ID}.${SPEC_TIMESTAMP}.${SPEC_PAYLOAD}`)
      .digest('base64')
    expect(signWebhook(key, SPEC_ID, SPEC_TIMESTAMP, SPEC_PAYLOAD)).not.toBe(`v1,${withText}`)
  })

  it.each([
    ['MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', /must start with "whsec_"/],
    ['whsec_not base64!', /followed by base64/],
    ['whsec_c2hvcnQ=', /decodes to 5 bytes/],
  ])('refuses the secret %s', (secret, message) => {
    expect(() => parseWebhookSecret(secret)).toThrow(message)
  })

  it('gives each delivery a stable id without dots', () => {
    const id = webhookId('audit', 'deploy.42')
    expect(id).toBe(webhookId('audit', 'deploy.42'))
    expect(id).not.toBe(webhookId('other', 'deploy.42'))
    expect(id).toMatch(/^msg_[A-Za-z0-9_-]{27}$/)
  })

  it('signs the exact body it sends, with the attempt time in seconds', () => {
    const sink: SinkConfig = {
      name: 'audit',
      type: 'webhook',
      url: 'http://x',
      key: parseWebhookSecret(SPEC_SECRET),
      kinds: undefined,
      services: undefined,
    }
    const e = event({ id: 'e1' })
    const req = buildRequest(sink, e, 1_700_000_000_999)
    expect(req.headers['webhook-id']).toBe(webhookId('audit', 'e1'))
    expect(req.headers['webhook-timestamp']).toBe('1700000000')
    const expected = createHmac('sha256', Buffer.from('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64'))
      .update(`${req.headers['webhook-id']}.1700000000.${req.body}`)
      .digest('base64')
    expect(req.headers['webhook-signature']).toBe(`v1,${expected}`)
    expect(req.headers['content-type']).toBe('application/json')
  })
})
