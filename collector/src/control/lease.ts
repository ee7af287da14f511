import { GovernorError } from '../errors.ts'
import type { LeaseClaim, LeaseStore } from '../store/lease-store.ts'

export type { LeaseClaim, LeaseStore } from '../store/lease-store.ts'

/** Who holds a lease: the winner of its highest term. */
export interface LeaseView {
  term: number
  holder: string | undefined
  expiresAt: number
}

/** What this process knows of a lease after its last step. */
export interface LeaseState extends LeaseView {
  leader: boolean
}

/**
 * The holder of a lease as the claims show it: of the highest term, the claim of the least
 * holder id. Every reader that sees the same claims names the same winner, whatever order
 * they arrived in: no clock, no insert order, decides.
 */
export function leaseHolder(claims: readonly LeaseClaim[]): LeaseView {
  let best: LeaseClaim | undefined
  for (const c of claims) {
    if (best === undefined || c.term > best.term || (c.term === best.term && c.holder < best.holder)) best = c
  }
  return best === undefined
    ? { term: 0, holder: undefined, expiresAt: 0 }
    : { term: best.term, holder: best.holder, expiresAt: best.expiresAt }
}

/** What one step does: follow (write nothing), renew my term, or claim the next one. */
export type LeasePlan = { kind: 'follow'; view: LeaseView } | { kind: 'renew' | 'claim'; claim: LeaseClaim }

/**
 * The pure heart of the lease. The holder of the highest term renews it; anyone else
 * follows while that claim has not expired, and claims the next term once it has.
 */
export function planLease(
  claims: readonly LeaseClaim[],
  name: string,
  me: string,
  now: number,
  ttlMillis: number,
): LeasePlan {
  const view = leaseHolder(claims)
  const claim = (term: number): LeaseClaim => ({ name, term, holder: me, expiresAt: now + ttlMillis, writtenAt: now })
  if (view.holder === me) return { kind: 'renew', claim: claim(view.term) }
  if (view.holder !== undefined && view.expiresAt > now) return { kind: 'follow', view }
  return { kind: 'claim', claim: claim(view.term + 1) }
}

/** Whether `me` leads in `term` at `now`, as these claims show. */
export function leadsIn(claims: readonly LeaseClaim[], me: string, term: number, now: number): boolean {
  const v = leaseHolder(claims)
  return v.holder === me && v.term === term && v.expiresAt > now
}

/** A lease's store, name, holder id, duration, and its clock and sleep (injected: tests drive them). */
export interface LeaseOptions {
  store: LeaseStore
  /** What is leased, e.g. `controllers`. */
  name: string
  /** This process's id: unique among every process that may ever claim. */
  holder: string
  ttlMillis: number
  /**
   * Wait between writing a claim and reading who won: a rival's claim written at the same time
   * must be visible by then. Longer than the store's insert latency.
   */
  settleMillis: number
  now: () => number
  sleep: (ms: number) => Promise<void>
}

/**
 * A lease in the store: one holder at a time, for `ttlMillis` unless renewed, taken over by
 * another process once it lapses. Each takeover starts a new term; a decision made under a
 * term is applied only after `assertCurrent(term)` finds it still current (fencing).
 *
 * A step: read the claims of the highest term → plan → write my claim (renew or claim the
 * next term) → after `settleMillis` (a claim) read again → I lead when the winner is me.
 */
export class Lease {
  readonly #o: LeaseOptions
  #state: LeaseState = { leader: false, term: 0, holder: undefined, expiresAt: 0 }
  #lastStep: number | undefined

  constructor(options: LeaseOptions) {
    this.#o = options
  }

  get holder(): string {
    return this.#o.holder
  }

  get state(): LeaseState {
    return this.#state
  }

  /** Whether this process leads now: it won its term and the claim has not expired. */
  held(now: number): boolean {
    return this.#state.leader && now < this.#state.expiresAt
  }

  /** A step is due every third of the lease (so a renewal can fail twice before it lapses). */
  due(now: number): boolean {
    return (
      this.#lastStep === undefined ||
      now - this.#lastStep >= this.#o.ttlMillis / 3 ||
      (!this.#state.leader && now >= this.#state.expiresAt)
    )
  }

  /** One step: renew, claim or follow. A store error rejects (and leaves the process not leading). */
  async step(): Promise<LeaseState> {
    const { store, name, holder, ttlMillis } = this.#o
    const started = this.#o.now()
    this.#lastStep = started
    try {
      const plan = planLease(await store.claims(name), name, holder, started, ttlMillis)
      if (plan.kind === 'follow') {
        this.#state = { ...plan.view, leader: false }
        return this.#state
      }
      await store.write(plan.claim)
      if (plan.kind === 'claim') await this.#o.sleep(this.#o.settleMillis)
      const view = leaseHolder(await store.claims(name))
      this.#state = {
        ...view,
        leader: view.holder === holder && view.term === plan.claim.term && view.expiresAt > this.#o.now(),
      }
      return this.#state
    } catch (err) {
      this.#state = { ...this.#state, leader: false }
      throw err
    }
  }

  /**
   * Throws GOV_ERR_CONTROLLER_STALE_TERM unless this process still leads in `term`, as the store
   * shows it now: the check a knob write makes before it applies a decision of that term.
   */
  async assertCurrent(term: number): Promise<void> {
    const claims = await this.#o.store.claims(this.#o.name)
    if (leadsIn(claims, this.#o.holder, term, this.#o.now())) return
    const v = leaseHolder(claims)
    throw new GovernorError(
      'GOV_ERR_CONTROLLER_STALE_TERM',
      `lease ${this.#o.name} term ${term} of ${this.#o.holder} is not current: term ${v.term} is held by ${v.holder ?? 'nobody'}${v.expiresAt <= this.#o.now() ? ' (expired)' : ''}`,
    )
  }

  /** Gives the lease up (at shutdown), so that another process takes over at once. */
  async release(): Promise<void> {
    if (!this.#state.leader) return
    const now = this.#o.now()
    this.#state = { ...this.#state, leader: false }
    await this.#o.store.write({
      name: this.#o.name,
      term: this.#state.term,
      holder: this.#o.holder,
      expiresAt: now,
      writtenAt: now + 1,
    })
  }
}
