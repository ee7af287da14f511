/** A deploy as the demo records it at start. */
export interface DeployRecord {
  url: string
  /** A `deploy` token; with one, `actor` is optional and the token's name is recorded. */
  token: string | undefined
  service: string
  version: string
  environment: string
  actor: string
  description: string
}

/**
 * Records the deploy of this process in Governor's change log (`POST /api/v1/deploys`), as a
 * CI pipeline would, so its start is on every dashboard. Resolves to the stored deploy;
 * throws with Governor's message when it refuses.
 */
export async function recordDeploy(
  d: DeployRecord,
  fetchFn: typeof fetch = fetch,
): Promise<{ id: string; version: string }> {
  const res = await fetchFn(`${d.url}/api/v1/deploys`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(d.token === undefined ? {} : { authorization: `Bearer ${d.token}` }),
    },
    body: JSON.stringify({
      service: d.service,
      version: d.version,
      environment: d.environment,
      actor: d.actor,
      description: d.description,
    }),
  })
  const body = await res.text()
  if (!res.ok) throw new Error(`recording the deploy failed: ${res.status} ${body}`)
  return JSON.parse(body) as { id: string; version: string }
}
