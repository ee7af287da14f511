import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import type { Registry } from 'prom-client'
import type { ChangeLog } from './changelog/change-log.ts'
import { RegistryFollower } from './changelog/registry-follower.ts'
import { ControllerService, type ParamsCheck } from './control/controller-service.ts'
import type { KnobService } from './knobs/knob-service.ts'
import type { Settings } from './settings.ts'
import { SloService } from './slo/slo-service.ts'
import type { StoreQueries } from './store/queries.ts'
import { ClickHouseSliReads } from './store/sli-reads.ts'
import { ClickHouseDefinitionVersions } from './store/version-store.ts'
import type { Store } from './store/store.ts'
import { Lease } from './control/lease.ts'
import { ClickHouseLeaseStore } from './store/lease-store.ts'
import { StoreFollower, type FollowerLog } from './store-follower.ts'

/** The name of the lease that makes one collector run every controller. */
export const CONTROLLER_LEASE = 'controllers'

/** How often the controller runner's copies of the SLOs and controllers are reloaded. */
export const DEFINITIONS_RELOAD_MILLIS = 2_000

/** What a collector needs to share its store with other collectors. */
export interface SharedStore {
  lease: Lease
  follower: StoreFollower
  /**
   * The runner's own copies of the definitions, reloaded from the store by the follower;
   * undefined when it does not follow (GOVERNOR_KNOB_FOLLOW_MILLIS=0: one collector), and the
   * runner reads the collector's own.
   */
  slos: SloService | undefined
  controllers: ControllerService | undefined
}

/** What `shareStore` builds on: the collector's store, settings and services. */
export interface ShareOptions {
  store: Store
  settings: Settings
  knobs: KnobService
  changeLog: ChangeLog
  queries: StoreQueries
  checkParams: ParamsCheck
  registry: Registry
  log: FollowerLog
}

/**
 * With a ClickHouse server any number of collectors may share the store, so each one
 * follows the others' knob changes (pushing them to its streams) and the controllers run on
 * whichever holds the lease. The runner reads SLOs and controllers from copies of its own,
 * reloaded every DEFINITIONS_RELOAD_MILLIS: written by no request, they never race one.
 *
 * Embedded, one process holds the store (see store/data-dir-lock.ts): every change goes
 * through its own services, so there is nothing to follow and nobody to share a lease with.
 */
export async function shareStore(o: ShareOptions): Promise<SharedStore> {
  const { store, settings } = o
  const ttl = settings.controllerLeaseMillis
  const lease = new Lease({
    store: new ClickHouseLeaseStore(store.client, store.db, store.cluster !== ''),
    name: CONTROLLER_LEASE,
    holder: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    ttlMillis: ttl,
    // Long enough for a rival's claim written at the same moment to be visible.
    settleMillis: Math.min(1_000, Math.round(ttl / 10)),
    now: Date.now,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  })
  const following = settings.knobFollowMillis > 0
  const slos = new SloService(
    new ClickHouseDefinitionVersions(store.client, store.db, 'slo_versions'),
    o.changeLog,
    new ClickHouseSliReads(store.client, store.db),
    o.queries,
  )
  const controllers = new ControllerService(
    new ClickHouseDefinitionVersions(store.client, store.db, 'controller_versions'),
    o.changeLog,
    { knobs: o.knobs, slos, checkParams: o.checkParams },
  )
  if (following) {
    await slos.load()
    await controllers.load()
  }
  const follower = new StoreFollower({
    knobs: new RegistryFollower({ versions: o.knobs.versions, registry: o.knobs, now: Date.now }),
    definitions: [slos, controllers],
    definitionsMillis: DEFINITIONS_RELOAD_MILLIS,
    intervalMillis: settings.knobFollowMillis,
    now: Date.now,
    log: o.log,
    registry: o.registry,
  })
  return { lease, follower, slos: following ? slos : undefined, controllers: following ? controllers : undefined }
}
