/** Service level objectives: definitions with versions, their status from the store, the deploy gate. */
export { SloService, SLO_KIND, type Slo } from './slo-service.ts'
export { SloEvaluator, sloState, sloStatus, type BurnReading, type SloState, type SloStatus } from './slo-status.ts'
export {
  parseSlo,
  describeSlo,
  allowedBadRatio,
  windowMillis,
  type SliSpec,
  type SliType,
  type SloDefinition,
  type ErrorFilter,
  type AttributeFilter,
} from './definition.ts'
export {
  burnPairs,
  burnRate,
  budgetRemaining,
  alertState,
  WORKBOOK_PAIRS,
  MIN_SHORT_WINDOW_MILLIS,
  LONG_PER_SHORT,
  type AlertState,
  type BurnPair,
  type EventCount,
} from './burn-windows.ts'
export { resolveSli, millisPerUnit, SliUnreadableError, type SliSeries, type SliSeriesSource } from './sli-series.ts'
export { gateDecision, gateEvent, GATE_KIND, type GateContext, type GateDecision, type GateSloState } from './gate.ts'
export { loadSloFile, applySloFile, type FileSlo } from './slo-file.ts'
export { formatDuration, parseWindow } from './duration.ts'
