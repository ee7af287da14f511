/**
 * A signal for one request: aborted by `parent` (the client closing) or after `timeoutMillis`.
 * `done()` removes the listener and the timer, so that a client that polls for months does
 * not pile listeners on its long-lived signal (as `AbortSignal.any` can on older Node 20).
 */
export function requestSignal(parent: AbortSignal, timeoutMillis: number): { signal: AbortSignal; done: () => void } {
  const ac = new AbortController()
  const abort = () => ac.abort()
  if (parent.aborted) ac.abort()
  else parent.addEventListener('abort', abort, { once: true })
  const timer = setTimeout(
    () => ac.abort(new DOMException(`no answer in ${timeoutMillis} ms`, 'TimeoutError')),
    timeoutMillis,
  )
  timer.unref()
  return {
    signal: ac.signal,
    done: () => {
      clearTimeout(timer)
      parent.removeEventListener('abort', abort)
    },
  }
}
