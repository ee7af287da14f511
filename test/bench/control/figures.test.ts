import { describe, expect, it } from 'vitest'
import { capacityAt, checkBars, figures } from '../../../bench/control/figures.ts'
import { RunRecorder } from '../../../bench/control/metrics.ts'
import { scenarios } from '../../../bench/control/scenarios.ts'

const scenario = (name: string) => scenarios().find((s) => s.name === name)!

describe('figures of a run', () => {
  it('takes capacity window by window: halved slots halve it, a slower service lowers it', () => {
    expect(capacityAt(scenario('capacity-halved'), 10)).toBe(1600)
    expect(capacityAt(scenario('capacity-halved'), 30)).toBe(800)
    expect(capacityAt(scenario('spiky-dependency'), 10)).toBeCloseTo(1600 / 3, 10) // a slow second
    expect(capacityAt(scenario('spiky-dependency'), 12)).toBe(1600)
    expect(capacityAt(scenario('drift-deploy'), 65)).toBeCloseTo(1000, 10)
  })

  it('divides goodput over the measured span by the capacity of that span, and counts retries over the whole run', () => {
    const sc = scenario('capacity-halved') // measured over seconds 30–45: 800 a second
    const recorder = new RunRecorder(sc.seconds, sc.sloMillis, sc.timeoutMillis)
    for (let s = 0; s < sc.seconds; s++) {
      for (let i = 0; i < 400; i++) recorder.complete(s * 1000 + i, i < 300 ? 100 : 500) // 400 good, 300 within the SLO
      recorder.attempt(s * 1000, true, true)
      recorder.attempt(s * 1000, false, false)
    }
    const f = figures(sc, { recorder, utilisation: 1, meanLatency: 0, knob: [] })
    expect(f.goodput).toBeCloseTo(0.5, 10)
    expect(f.goodputSlo).toBeCloseTo(300 / 800, 10)
    expect(f.retryAmplification).toBe(2)
    expect(f.shedShare).toBe(0.5)
    expect(f.timeToShed).toBe(1) // the first second of the overload already sheds half
    expect(f.timeToRecover).toBe(Infinity) // and it never stops
  })

  it('checks the bars against their thresholds', () => {
    const good = {
      goodput: 0.96,
      goodputSlo: 0.95,
      p99: 100,
      windowsWithinSlo: 0.99,
      timeToShed: 3,
      timeToRecover: 30,
      limitCv: 0.05,
      retryAmplification: 1,
      shedShare: 0.001,
      utilisation: 1,
    }
    expect(checkBars(good, good).every((b) => b.met)).toBe(true)
    const bad = {
      ...good,
      goodput: 0.94,
      windowsWithinSlo: 0.98,
      timeToShed: 4,
      timeToRecover: 31,
      limitCv: 0.051,
      shedShare: 0.0011,
    }
    expect(checkBars(bad, bad).map((b) => b.met)).toEqual([false, false, false, false, false, false])
    expect(
      checkBars(good, good, { ...good, shedShare: 0.01 })
        .map((b) => [b.scenario, b.met])
        .at(-1),
    ).toEqual(['slow-dependency-0.5x', true])
    expect(checkBars(good, good, { ...good, shedShare: 0.0101 }).at(-1)!.met).toBe(false)
    const starved = checkBars(good, good, good, { ...good, shedShare: 0.0101 }).at(-1)!
    expect([starved.scenario, starved.met]).toEqual(['cpu-starved-0.3x', false])
  })
})
