import type { ChangeEvent } from '../../../collector/src/changelog/types.ts'

/** A change event with plausible defaults. */
export function event(overrides: Partial<ChangeEvent> = {}): ChangeEvent {
  return {
    id: 'ev-1',
    kind: 'note',
    time: 1_700_000_000_000,
    timeEnd: 1_700_000_000_000,
    service: 'checkout',
    environment: 'production',
    actor: 'bob',
    title: 'a note',
    text: '',
    tags: [],
    version: '',
    data: {},
    recordedAt: 1_700_000_000_000,
    ...overrides,
  }
}

/** A deploy event as `recordDeploy` stores it. */
export function deploy(overrides: Partial<ChangeEvent> = {}, data: Record<string, unknown> = {}): ChangeEvent {
  return event({
    kind: 'deploy',
    actor: 'alice',
    version: '1.4.2',
    title: 'alice deployed checkout 1.4.2 to production',
    text: 'faster cart totals',
    data: {
      commit: '9f2c1e0',
      repo_url: '',
      url: 'https://ci.example.com/builds/1234',
      status: 'succeeded',
      rollback: false,
      plan: null,
      ...data,
    },
    ...overrides,
  })
}
