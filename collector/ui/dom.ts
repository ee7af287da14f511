/**
 * DOM building without a framework. Text always goes in as text (`textContent`), never as
 * markup, so nothing the API returns can inject anything; and no `style` attribute is ever
 * written, which the Content-Security-Policy would refuse.
 */

/** What `h` takes as children: nodes, text, nothing, or lists of them. */
export type Child = Node | string | number | null | undefined | false | readonly Child[]

/** Attributes, `class`, `data-*`, and `on<event>` listeners. */
export type Props = Record<string, string | number | boolean | null | undefined | ((e: Event) => void)>

/** Creates an element: `h('a', { href: '#/', class: 'nav' }, 'Services')`. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props | null = null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue
    if (typeof value === 'function') el.addEventListener(key.slice(2), value)
    else if (key === 'style')
      throw new Error('style attributes are refused by the Content-Security-Policy: use a class')
    else if (value === true) el.setAttribute(key, '')
    else el.setAttribute(key, String(value))
  }
  append(el, children)
  return el
}

/** Appends children, flattening lists and skipping empty ones. */
export function append(parent: Node, children: readonly Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue
    if (Array.isArray(c)) append(parent, c)
    else parent.appendChild(typeof c === 'object' ? (c as Node) : document.createTextNode(String(c)))
  }
}

/** Replaces every child of `parent`. */
export function replace(parent: Node, ...children: Child[]): void {
  while (parent.firstChild !== null) parent.removeChild(parent.firstChild)
  append(parent, children)
}

/** "3 min ago", "in 2 h": how far `ms` is from now, roughly. */
export function ago(ms: number, now = Date.now()): string {
  const s = Math.round((now - ms) / 1000)
  const abs = Math.abs(s)
  const [n, unit] =
    abs < 60
      ? [abs, 's']
      : abs < 3600
        ? [Math.round(abs / 60), 'min']
        : abs < 86400
          ? [Math.round(abs / 3600), 'h']
          : [Math.round(abs / 86400), 'd']
  return s >= 0 ? `${n} ${unit} ago` : `in ${n} ${unit}`
}

/** A local date and time, to the second: `2026-11-26 14:05:09`. */
export function when(iso: string | number): string {
  const d = new Date(iso)
  const p = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`
}

/** A `<time>` element with the local time and, as its title, how long ago. */
export function timeEl(iso: string, relative = false): HTMLTimeElement {
  const ms = Date.parse(iso)
  return h('time', { datetime: iso, title: relative ? when(ms) : ago(ms) }, relative ? ago(ms) : when(ms))
}

/** A number for people: at most 4 significant digits, no float noise. */
export function num(v: unknown): string {
  if (typeof v !== 'number') return v === null || v === undefined ? '–' : String(v)
  if (!Number.isFinite(v)) return String(v)
  return Math.abs(v) >= 1e4 || Number.isInteger(v)
    ? v.toLocaleString('en-US', { maximumFractionDigits: 0 })
    : String(Number(v.toPrecision(4)))
}

/** A small coloured label: `badge('page', 'bad')`. */
export function badge(text: string, tone: 'ok' | 'warn' | 'bad' | 'info' | 'muted' = 'muted'): HTMLSpanElement {
  return h('span', { class: `badge ${tone}` }, text)
}

/** A block that says what went wrong, in words. */
export function errorBox(err: unknown): HTMLElement {
  return h('p', { class: 'error', role: 'alert' }, err instanceof Error ? err.message : String(err))
}
