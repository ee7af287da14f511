import type { Whoami } from './types.ts'

const TOKEN_KEY = 'governor.token'
const ACTOR_KEY = 'governor.actor'

/** An error answer of the API, with its stable code (`GOV_ERR_…`) and status. */
export class ApiError extends Error {
  readonly status: number
  readonly code: string
  constructor(status: number, code: string, message: string) {
    super(message)
    this.status = status
    this.code = code
  }
}

/** The bearer token the user gave, kept in this browser. */
export const token = {
  get: (): string | null => localStorage.getItem(TOKEN_KEY),
  set: (t: string): void => localStorage.setItem(TOKEN_KEY, t.trim()),
  clear: (): void => localStorage.removeItem(TOKEN_KEY),
}

/** The name recorded as actor in open mode (with a token, the token's name is recorded). */
export const actorName = {
  get: (): string => localStorage.getItem(ACTOR_KEY) ?? '',
  set: (a: string): void => localStorage.setItem(ACTOR_KEY, a.trim()),
}

/** Heard whenever the API answers 401: the token is missing or no longer valid. */
export const UNAUTHORIZED = 'governor:unauthorized'

/**
 * Calls the API with the stored token: `api('/knobs')`, `api('/knobs/a/b/value', 'POST', {...})`.
 * Answers the parsed JSON; throws ApiError with the API's message otherwise.
 */
export async function api<T>(path: string, method = 'GET', body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' }
  const t = token.get()
  if (t !== null && t !== '') headers.authorization = `Bearer ${t}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(`/api/v1${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  const json = text === '' ? {} : (JSON.parse(text) as unknown)
  if (!res.ok) {
    const e = (json as { error?: { code?: string; message?: string } }).error
    if (res.status === 401) window.dispatchEvent(new Event(UNAUTHORIZED))
    throw new ApiError(
      res.status,
      e?.code ?? `HTTP_${res.status}`,
      e?.message ?? `${method} ${path}: HTTP ${res.status}`,
    )
  }
  return json as T
}

/** Who the caller is; throws ApiError 401 without a valid token. */
export function whoami(): Promise<Whoami> {
  return api<Whoami>('/whoami')
}

/** Query-string of the defined entries of `params`. */
export function qs(params: Record<string, string | number | undefined>): string {
  const p = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') p.set(k, String(v))
  const s = p.toString()
  return s === '' ? '' : `?${s}`
}
