import type { Whoami } from './types.ts'

/** What a page is given: the route's parameters, the hash's query, and who is looking. */
export interface PageContext {
  /** `#/service/checkout` → `{ service: 'checkout' }`. */
  params: Record<string, string>
  /** `#/changes?q=redis` → `q=redis`. */
  query: URLSearchParams
  who: Whoami
  /** Whether the caller may change knobs, SLOs and controllers: controls are built only then. */
  canOperate: boolean
  /** Renders the route again (after a change). */
  reload: () => void
}

/** A page: builds its content, or throws (shown as an error). */
export type Page = (ctx: PageContext) => Promise<Node>

interface Route {
  pattern: RegExp
  keys: string[]
  page: Page
  nav: string
}

/** Hash routes: `#/`, `#/service/:service`, … */
export class Router {
  readonly #routes: Route[] = []

  /** Adds a route; `nav` names the menu entry it highlights. */
  add(path: string, nav: string, page: Page): this {
    const keys: string[] = []
    const source = path.replace(/:([a-z]+)/g, (_, k: string) => {
      keys.push(k)
      return '([^/]+)'
    })
    this.#routes.push({ pattern: new RegExp(`^${source}$`), keys, page, nav })
    return this
  }

  /** The route of the current hash, with its parameters; undefined for an unknown path. */
  match(hash: string): { page: Page; nav: string; params: Record<string, string>; query: URLSearchParams } | undefined {
    const raw = hash.replace(/^#/, '') || '/'
    const [path = '/', search = ''] = raw.split('?', 2)
    for (const r of this.#routes) {
      const m = r.pattern.exec(path)
      if (m === null) continue
      const params: Record<string, string> = {}
      r.keys.forEach((k, i) => {
        params[k] = decodeURIComponent(m[i + 1] ?? '')
      })
      return { page: r.page, nav: r.nav, params, query: new URLSearchParams(search) }
    }
    return undefined
  }
}

/** A hash link: `link('service', 'checkout')` → `#/service/checkout`. */
export function href(...parts: string[]): string {
  return `#/${parts.map(encodeURIComponent).join('/')}`
}
