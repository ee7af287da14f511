/** Deploy impact analysis: before against after, per watched metric, stored in the change log. */
export { DeployImpact, type DeployImpactOptions, type ImpactAnswer } from './deploy-impact.ts'
export {
  ImpactScheduler,
  type ImpactAnalyser,
  type ImpactSchedulerOptions,
  type SchedulerLog,
  type TickOutcome,
} from './impact-scheduler.ts'
export { ImpactMetrics } from './impact-metrics.ts'
export { ANALYSIS_KIND, impactEventId } from './report.ts'
export { THRESHOLDS, judge, type UTest } from './verdict.ts'
export type { ImpactReport, MetricImpact, SignalKind, Verdict } from './types.ts'
