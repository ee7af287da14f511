import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startServer } from '../helpers/server.ts'
import { hasPeer } from '../setup/debian-peers.ts'

/** Debian's chromium, installed by the global setup when it can be; without it these tests are skipped, loudly. */
const BROWSER = hasPeer('chromium')
import { seedService, type Seeded } from './seed.ts'

// The web UI in a real browser (Debian's chromium), against a real Governor with tokens:
// the service page's charts with a deploy marker where the deploy was, a knob changed with
// a reason and found in the change log, and a read-only token that sees no controls.

const TOKENS = { ingest: 'app-token-0a1b2c3d4e5f', ops: 'ops-token-0a1b2c3d4e5f', viewer: 'viewer-token-0a1b2c3d4e' }
const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url))
const LAPTOP = { width: 1280, height: 800 }
const PHONE = { width: 390, height: 844 }

/** The DOM members read inside the page (the tests are type-checked without the DOM's types); the document too. */
interface PageElement {
  dataset: Record<string, string | undefined>
  clientWidth: number
  offsetLeft: number
  querySelector(selector: string): PageElement | null
  querySelectorAll(selector: string): { length: number }
  getBoundingClientRect(): { top: number; bottom: number }
}

let app: FastifyInstance
let url: string
let seeded: Seeded
let browser: Browser
/** Content-Security-Policy violations, script errors and 5xx answers seen by any page: there must be none. */
const problems: string[] = []

beforeAll(async () => {
  if (!BROWSER) return
  mkdirSync(ARTIFACTS, { recursive: true })
  const started = startServer({
    tokens: `app=ingest:${TOKENS.ingest},ops=deploy+operate:${TOKENS.ops},viewer=read:${TOKENS.viewer}`,
    impactIntervalMillis: 0,
  })
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  })
  ;({ app, url } = await started)
  seeded = await seedService(url, TOKENS, 'checkout', Date.now())
})
afterEach(() => {
  if (BROWSER)
    expect(problems.splice(0), 'Content-Security-Policy violations, script errors and 5xx answers').toEqual([])
})
afterAll(async () => {
  await browser?.close()
  await app?.close()
})

async function open(viewport: { width: number; height: number }, token: string): Promise<Page> {
  const page = await browser.newPage({ viewport })
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
  page.on('console', (m) => {
    if (/Content.Security.Policy/i.test(m.text())) problems.push(m.text())
  })
  page.on('response', (r) => {
    if (r.status() >= 500) problems.push(`${r.status()} from ${r.url()}`)
  })
  await page.goto(`${url}/`)
  await page.getByLabel('Token').fill(token)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.waitForSelector('table.services')
  return page
}

async function serviceCharts(page: Page): Promise<void> {
  await page.goto(`${url}/#/service/checkout`)
  await page.waitForSelector('.chart[data-title="Latency"] .marker.deploy')
}

describe.skipIf(!BROWSER)('web UI', () => {
  it('lists the service with its last deploy, SLO and knob mode', async () => {
    const page = await open(LAPTOP, TOKENS.ops)
    const row = page.locator('tr[data-service="checkout"]')
    await expect(row.locator('.deploy').textContent()).resolves.toMatch(/^1\.4\.2 by alice via ops, 20 min ago/)
    await expect(row.locator('.slo-chip').allTextContents()).resolves.toEqual([
      expect.stringMatching(/^instant: budget spent/),
      expect.stringMatching(/^latency: (budget spent|ok|ticket|page)/),
      expect.stringMatching(/^queue: no data$/),
    ])
    // A spent budget is red whatever the burn rates say (the gate denies), a metric never sent is grey.
    await expect(row.locator('.slo-chip', { hasText: 'instant:' }).getAttribute('class')).resolves.toMatch(/\bbad\b/)
    await expect(row.locator('.slo-chip', { hasText: 'queue:' }).getAttribute('class')).resolves.toMatch(/\bmuted\b/)
    await expect(row.locator('.knob-list li').textContent()).resolves.toBe('workers 20 manual')
    await page.screenshot({ path: `${ARTIFACTS}services.png`, fullPage: true })
    await page.close()
  })

  it('shows the service page with the last deploy up top and a deploy marker where the deploy is on the chart', async () => {
    const page = await open(LAPTOP, TOKENS.ops)
    await serviceCharts(page)
    await expect(page.locator('[data-test="last-deploy"] .big').textContent()).resolves.toBe('1.4.2 20 min ago')
    for (const title of ['Latency', 'Errors', 'Throughput']) {
      await expect(page.locator(`.chart[data-title="${title}"] canvas`).count(), title).resolves.toBe(1)
    }
    // The marker stands where the deploy's time falls on the chart's x scale, and inside the plot.
    const chart = page.locator('.chart[data-title="Latency"]')
    const marker = chart.locator('.marker.deploy')
    await expect(marker.getAttribute('data-time')).resolves.toBe(String(seeded.deployAt))
    const geometry = await chart.evaluate((el: PageElement) => {
      const over = el.querySelector('.u-over')!
      const m = el.querySelector('.marker.deploy')!
      const box = (e: PageElement) => ({ top: e.getBoundingClientRect().top, bottom: e.getBoundingClientRect().bottom })
      return {
        min: Number(el.dataset.xMin),
        max: Number(el.dataset.xMax),
        width: over.clientWidth,
        left: m.offsetLeft,
        overBox: box(over),
        markerBox: box(m),
      }
    })
    const expected = ((seeded.deployAt - geometry.min) / (geometry.max - geometry.min)) * geometry.width
    expect(Math.abs(geometry.left - expected)).toBeLessThan(2)
    // 20 minutes before the end of a one-hour range: two thirds of the way across.
    expect(geometry.left / geometry.width).toBeGreaterThan(0.6)
    expect(geometry.left / geometry.width).toBeLessThan(0.72)
    expect(geometry.markerBox.top).toBeGreaterThanOrEqual(geometry.overBox.top - 1)
    expect(geometry.markerBox.bottom).toBeLessThanOrEqual(geometry.overBox.bottom + 1)
    await page.screenshot({ path: `${ARTIFACTS}service.png`, fullPage: true })
    await page.close()
  })

  it("shows each deploy's impact verdict on its row, in the change log and on the service page", async () => {
    const page = await open(LAPTOP, TOKENS.viewer)
    // The window after the deploy (20 min ago) has passed: this analyses and stores it.
    const res = await fetch(`${url}/api/v1/deploys/${encodeURIComponent(seeded.deployId)}/impact`, {
      headers: { authorization: `Bearer ${TOKENS.viewer}` },
    })
    const { verdict } = (await res.json()) as { verdict: string }
    expect(['worse', 'better', 'unchanged', 'not_enough_data']).toContain(verdict)
    await page.goto(`${url}/#/changes?kind=deploy`)
    const row = page.locator(`li.change.kind-deploy[data-id="${seeded.deployId}"] .impact`)
    await expect(row.getAttribute('data-verdict')).resolves.toBe(verdict)
    await expect(row.textContent()).resolves.toBe(`impact ${verdict.replace(/_/g, ' ')}`)
    await serviceCharts(page)
    const onService = page.locator(`li.change.kind-deploy[data-id="${seeded.deployId}"] .impact`)
    await expect(onService.textContent()).resolves.toBe(`impact ${verdict.replace(/_/g, ' ')}`)
    await page.close()
  })

  it('changes a knob with a reason, and the change is in the change log', async () => {
    const page = await open(LAPTOP, TOKENS.ops)
    await serviceCharts(page)
    const card = page.locator('[data-knob="checkout/workers"]')
    await card.getByLabel('Value of workers').fill('32')
    await card.getByLabel('Reason').fill('queue backing up on pay')
    await card.locator('button[data-action="set"]').click()
    await page.locator('[data-knob="checkout/workers"] .knob-value', { hasText: '32' }).waitFor()
    // The change is now a marker on the knob's own chart too.
    await page.waitForSelector('.chart[data-title="knob workers"] .marker.knob')

    await page.goto(`${url}/#/changes`)
    await page.getByLabel('Search the change log').fill('queue backing up')
    await page.getByRole('button', { name: 'Search' }).click()
    await page.waitForURL(/#\/changes\?q=queue\+backing\+up/)
    // The search answers one change of the many in the log (a wrong search times out here).
    await page.waitForFunction(
      () => {
        const doc = (globalThis as unknown as { document: PageElement }).document
        return doc.querySelector('main[aria-busy]') === null && doc.querySelectorAll('main li.change').length === 1
      },
      null,
      { timeout: 5000 },
    )
    const found = page.locator('li.change.kind-knob')
    await expect(found.locator('.title').textContent()).resolves.toMatch(/workers.*20.*32/)
    await expect(found.locator('.actor').textContent()).resolves.toBe('ops')
    await expect(found.locator('.text').textContent()).resolves.toBe('queue backing up on pay')
    await page.screenshot({ path: `${ARTIFACTS}change-log.png`, fullPage: true })
    await page.close()
  })

  it('shows a read-only token no control that would change anything, on a laptop and on a phone', async () => {
    for (const [name, viewport] of [
      ['laptop', LAPTOP],
      ['phone', PHONE],
    ] as const) {
      const page = await open(viewport, TOKENS.viewer)
      await expect(page.locator('[data-test="token-name"]').textContent()).resolves.toBe('viewer')
      for (const route of ['#/knobs', '#/service/checkout', '#/control']) {
        await page.goto(`${url}/${route}`)
        await page.waitForSelector(route === '#/control' ? '.controller' : '[data-knob="checkout/workers"]')
        await expect(page.locator('main form.knob-form, main button[data-action]').count(), route).resolves.toBe(0)
        if (route === '#/control')
          await expect(page.locator('[data-controller="checkout/workers-p99"] .guard').textContent()).resolves.toBe(
            'queue',
          )
        // Readable: nothing wider than the screen.
        const width = await page.evaluate(
          () =>
            (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document
              .documentElement.scrollWidth,
        )
        expect(width, `${route} on a ${name}`).toBeLessThanOrEqual(viewport.width)
      }
      await page.goto(`${url}/#/knobs`)
      await page.locator('[data-knob="checkout/workers"] details.history summary').click()
      await page.locator('[data-knob="checkout/workers"] details.history tbody tr').nth(1).waitFor()
      await expect(page.locator('main button').count()).resolves.toBe(0)
      await page.screenshot({ path: `${ARTIFACTS}knobs-read-only-${name}.png`, fullPage: true })
      if (name === 'phone') {
        await serviceCharts(page)
        await page.screenshot({ path: `${ARTIFACTS}service-phone.png`, fullPage: true })
      }
      await page.close()
    }
    // The same pages for an operator do have the controls: the count above is not vacuous.
    const ops = await open(LAPTOP, TOKENS.ops)
    await ops.goto(`${url}/#/knobs`)
    await ops.waitForSelector('[data-knob="checkout/workers"] form.knob-form')
    await expect(ops.locator('main button[data-action]').count()).resolves.toBeGreaterThanOrEqual(3)
    await ops.close()
  })
})
