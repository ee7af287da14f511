import type { ChangeListener } from '../changelog/change-log.ts'

export {
  DELIVERY_STATUSES,
  isFinal,
  type DeliveryFilter,
  type DeliveryState,
  type DeliveryStatus,
  type OutboxScan,
  type OutboxStore,
  type ScanCursor,
} from '../model/webhook-delivery.ts'

/** Where new events come from: the change log (`ChangeLog.subscribe`). */
export interface ChangeSource {
  subscribe(listener: ChangeListener): () => void
}
