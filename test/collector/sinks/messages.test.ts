import { describe, expect, it } from 'vitest'
import { eventJson } from '../../../collector/src/changelog/change-log.ts'
import { buildRequest, slackText, webhookBody } from '../../../collector/src/sinks/messages.ts'
import { deploy, event } from './fixtures.ts'

describe('Slack text', () => {
  it('says who deployed what where, with the commit, the description and a link', () => {
    expect(slackText(deploy())).toBe(
      ':rocket: alice deployed checkout 1.4.2 to production (9f2c1e0) — faster cart totals <https://ci.example.com/builds/1234|details>',
    )
  })

  it('links the commit when there is no deploy page, shortening a full sha', () => {
    const sha = '9f2c1e0b7d3a4c5e6f708192a3b4c5d6e7f80912'
    expect(
      slackText(deploy({ text: '' }, { url: '', commit: sha, repo_url: 'https://github.com/acme/checkout/' })),
    ).toBe(
      `:rocket: alice deployed checkout 1.4.2 to production (<https://github.com/acme/checkout/commit/${sha}|9f2c1e0>)`,
    )
  })

  it('marks rollbacks and failed deploys', () => {
    expect(
      slackText(
        deploy({ title: 'alice rolled checkout back to 1.4.1 in production', text: '' }, { rollback: true, url: '' }),
      ),
    ).toBe(':rewind: alice rolled checkout back to 1.4.1 in production (9f2c1e0)')
    expect(slackText(deploy({ text: '' }, { status: 'failed', url: '' }))).toBe(
      ':x: alice deployed checkout 1.4.2 to production (9f2c1e0) [failed]',
    )
  })

  it('gives other kinds their kind, service, title, first line of text and actor', () => {
    const incident = event({
      kind: 'incident',
      title: 'card payments failing',
      text: 'processor timeouts\nmore detail',
      actor: 'bob',
    })
    expect(slackText(incident)).toBe(
      ':rotating_light: incident on checkout (production): card payments failing — processor timeouts (bob)',
    )
    expect(
      slackText(event({ kind: 'knob', service: '', environment: '', title: 'workers 20 → 40', actor: 'alice' })),
    ).toBe(':control_knobs: knob: workers 20 → 40 (alice)')
    expect(
      slackText(event({ kind: 'analysis', title: 'p99 up 40% after 1.4.2', text: '', data: { url: 'https://g/d/1' } })),
    ).toBe(':mag: analysis on checkout (production): p99 up 40% after 1.4.2 (bob) <https://g/d/1|details>')
  })

  it("says a deploy's impact verdict first: worse, better, unchanged or not enough data", () => {
    const report = {
      deploy_id: 'd1',
      service: 'checkout',
      version: '1.4.2',
      environment: 'production',
      summary: 'checkout 1.4.2: p99 latency worse by 52 %',
      verdict: 'worse',
      metrics: [{ verdict: 'worse' }, { verdict: 'unchanged' }],
      hints: ['p99 of http.server.request.duration is 52 % worse (p = 0.0003): consider turning off cart_cache'],
    }
    const analysis = (data: Record<string, unknown>) =>
      event({ kind: 'analysis', actor: 'governor', title: String(data.summary), text: 'Impact of …', data })
    expect(slackText(analysis(report))).toBe(
      ':red_circle: impact of checkout 1.4.2 in production: *worse* — p99 latency worse by 52 %. ' +
        'Hint: p99 of http.server.request.duration is 52 % worse (p = 0.0003): consider turning off cart_cache',
    )
    expect(
      slackText(
        analysis({
          ...report,
          verdict: 'unchanged',
          summary: 'checkout 1.4.2: no significant change in 2 of 3 metrics',
          hints: [],
        }),
      ),
    ).toBe(
      ':white_circle: impact of checkout 1.4.2 in production: *unchanged* — no significant change in 2 of 3 metrics',
    )
    // Reports stored before the verdict field: from the metrics.
    const { verdict: _, ...old } = report
    expect(
      slackText(
        analysis({
          ...old,
          metrics: [{ verdict: 'better' }],
          hints: [],
          summary: 'checkout 1.4.2: p99 latency better by 20 %',
        }),
      ),
    ).toBe(':large_green_circle: impact of checkout 1.4.2 in production: *better* — p99 latency better by 20 %')
    expect(
      slackText(analysis({ ...old, metrics: [], hints: [], summary: 'checkout 1.4.2: not enough data to judge' })),
    ).toBe(':grey_question: impact of checkout 1.4.2 in production: *not enough data* — not enough data to judge')
  })

  it('escapes Slack control characters and links only http(s) URLs', () => {
    const text = slackText(event({ title: '<!channel> & <b>', text: '', data: { url: 'javascript:alert(1)' } }))
    expect(text).toBe(':memo: note on checkout (production): &lt;!channel&gt; &amp; &lt;b&gt; (bob)')
    expect(slackText(deploy({ text: '' }, { url: 'https://x/a|b>c' }))).toContain('<https://x/a%7Cb%3Ec|details>')
  })
})

describe('webhook body', () => {
  it('is {type, timestamp, data} with the event as the API shows it', () => {
    const e = deploy()
    expect(JSON.parse(webhookBody(e))).toEqual({
      type: 'governor.deploy',
      timestamp: '2023-11-14T22:13:20.000Z',
      data: eventJson(e),
    })
    expect(JSON.parse(webhookBody(event({ kind: 'slo-change' }))).type).toBe('governor.slo_change')
  })

  it('sends Slack sinks {"text"} without signature headers', () => {
    const req = buildRequest(
      { name: 'chat', type: 'slack', url: 'http://x', key: undefined, kinds: undefined, services: undefined },
      deploy(),
      0,
    )
    expect(JSON.parse(req.body)).toEqual({ text: slackText(deploy()) })
    expect(req.headers['webhook-signature']).toBeUndefined()
  })
})
