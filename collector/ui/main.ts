import 'uplot/dist/uPlot.min.css'
import './style.css'
import { ApiError, token, UNAUTHORIZED, whoami } from './api.ts'
import { destroyDetachedCharts } from './chart.ts'
import { errorBox, h, replace } from './dom.ts'
import { changesPage } from './pages/changes.ts'
import { controlPage } from './pages/control.ts'
import { knobsPage } from './pages/knobs.ts'
import { servicePage } from './pages/service.ts'
import { servicesPage } from './pages/services.ts'
import { tokenPage } from './pages/token.ts'
import { Router } from './router.ts'
import type { Whoami } from './types.ts'

/**
 * Governor's web UI: hash routes over the JSON API. Who the caller is (`/whoami`) decides
 * whether controls that change anything are built at all.
 */
const router = new Router()
  .add('/', 'services', servicesPage)
  .add('/service/:service', 'services', servicePage)
  .add('/changes', 'changes', changesPage)
  .add('/knobs', 'knobs', knobsPage)
  .add('/control', 'control', controlPage)

const NAV: [string, string, string][] = [
  ['services', '#/', 'Services'],
  ['changes', '#/changes', 'Change log'],
  ['knobs', '#/knobs', 'Knobs'],
  ['control', '#/control', 'SLOs & controllers'],
]

const header = h('header', { class: 'top' })
const main = h('main', { id: 'main' })
document.body.append(header, main)

let who: Whoami | undefined
let rendering = 0

async function render(): Promise<void> {
  const run = ++rendering
  if (who === undefined) {
    try {
      who = await whoami()
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return showToken(err)
      replace(main, errorBox(err))
      return
    }
  }
  const route = router.match(location.hash)
  drawHeader(who, route?.nav)
  if (route === undefined) {
    replace(main, h('p', { class: 'error' }, 'No such page. ', h('a', { href: '#/' }, 'Services')))
    return
  }
  main.setAttribute('aria-busy', 'true')
  const ctx = {
    params: route.params,
    query: route.query,
    who,
    canOperate: who.roles.includes('operate'),
    reload: () => void render(),
  }
  let content: Node
  try {
    content = await route.page(ctx)
  } catch (err) {
    content = errorBox(err)
  }
  if (run !== rendering) return // a later navigation won
  replace(main, content)
  main.removeAttribute('aria-busy')
  destroyDetachedCharts()
}

function drawHeader(w: Whoami, nav: string | undefined): void {
  const session = w.open
    ? h('span', { class: 'who' }, 'open mode')
    : h(
        'span',
        { class: 'who' },
        h('span', { 'data-test': 'token-name' }, w.name ?? ''),
        ` (${w.roles.filter((r) => r !== 'ingest').join(', ')}) `,
        h(
          'button',
          {
            type: 'button',
            class: 'link',
            onclick: () => {
              token.clear()
              who = undefined
              void render()
            },
          },
          'Sign out',
        ),
      )
  replace(
    header,
    h('a', { class: 'brand', href: '#/' }, 'Governor'),
    h(
      'nav',
      null,
      NAV.map(([key, link, label]) =>
        h(
          'a',
          { href: link, class: key === nav ? 'active' : undefined, 'aria-current': key === nav ? 'page' : undefined },
          label,
        ),
      ),
    ),
    session,
  )
}

function showToken(err?: unknown): void {
  who = undefined
  replace(header, h('span', { class: 'brand' }, 'Governor'))
  replace(
    main,
    tokenPage(err, () => void render()),
  )
}

window.addEventListener('hashchange', () => void render())
// A token revoked or replaced while the page is open: ask again.
window.addEventListener(UNAUTHORIZED, () => {
  if (who !== undefined && !who.open) showToken(new Error('the token is no longer accepted'))
})
void render()
