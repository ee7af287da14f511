import { BOOLEAN, NULLABLE_STRING, someOf, STRINGS } from './schema.ts'

export type RoleJson = 'ingest' | 'deploy' | 'operate' | 'read'

/** `GET /api/v1/whoami`: the caller's token name and the roles it is granted. */
export interface WhoamiJson {
  /** No tokens configured: every caller may do everything. */
  open: boolean
  name: string | null
  roles: RoleJson[]
  /** The services an ingest@<service> token is scoped to; absent for other tokens. */
  services?: string[]
}

export const WHOAMI_JSON_SCHEMA = someOf(
  {
    open: BOOLEAN,
    name: NULLABLE_STRING,
    roles: { type: 'array', items: { type: 'string', enum: ['ingest', 'deploy', 'operate', 'read'] } },
    services: STRINGS,
  } satisfies Record<keyof WhoamiJson, object>,
  ['services'],
)
