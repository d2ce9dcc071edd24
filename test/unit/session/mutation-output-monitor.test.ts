/**
 * The mutants left alive in output-monitor.ts by its own test (MUTATION.md, the session group),
 * killed through the monitor's interface on explicit times: a channel it does not watch is
 * ignored (nothing thrown, nothing judged), a second off keeps the first off time and the
 * "already reported" mark, one verdict per channel from a TEL line or from the loop's check, a
 * measurement exactly at commanded + tolerance believed, the low-current rule exactly at
 * lowCurrentMinMa and exactly at lowCurrentPercent, and the whole cause of the current-low and
 * current-while-off verdicts (the times they name).
 */
import { describe, expect, it } from 'vitest';
import { OUTPUT_MONITOR, measuredToleranceMa } from '../../../src/domain/safety/limits.js';
import { OutputMonitor } from '../../../src/session/output-monitor.js';

const MAX = 10;
const LOW_MS = OUTPUT_MONITOR.lowCurrentMs.value;
const GRACE = OUTPUT_MONITOR.offGraceMs.value;

/** Channel 1 on since `at`, commanded and acknowledged at `ma`. */
function on(ma: number, at = 0): OutputMonitor {
  const m = new OutputMonitor();
  m.on(1, 0, at);
  m.commanding(1, ma);
  m.acknowledged(1, ma);
  return m;
}

const lowCause = (ma: number, ms: number) => `Channel 1: the device measures almost no current (below ${OUTPUT_MONITOR.lowCurrentPercent.value} % of the commanded ${ma} mA) for ${ms} ms (a lost or faulty output stage)`;
const LOW_ACTION = 'output is off; check the clips, the needles and the device before another session';

describe('H18 OutputMonitor, mutation survivors', () => {
  it('H18 a channel the monitor does not watch is ignored: off, commanding, acknowledged and TEL throw nothing and judge nothing', () => {
    const m = on(2);
    expect(() => m.off(9, 100)).not.toThrow();
    expect(() => m.commanding(9, 5)).not.toThrow();
    expect(() => m.acknowledged(9, 5)).not.toThrow();
    expect(m.telemetry(9, 50_000, 50_000, 100, MAX)).toBeUndefined();
    // channel 1 is untouched by all of it
    expect(m.telemetry(1, 2000, 2000, 100, MAX)).toBeUndefined();
    expect(m.check(200)).toStrictEqual([]);
  });

  it('H18 H5 a second off (the stop, then allOff) keeps the first off time: current 200 ms after the first off is reported, naming 200 ms', () => {
    const m = on(2);
    m.off(1, 1000);
    m.off(1, 1150);
    expect(m.telemetry(1, 0, 1990, 1000 + GRACE, MAX)).toStrictEqual({
      finding: 'current-while-off',
      channel: 1,
      repeat: false,
      measuredMa: 1.99,
      limitMa: 0,
      cause: `Channel 1: the device still measures 1.99 mA ${GRACE} ms after output was switched off`,
      action: 'disconnect the needles from the device now; do not use this device until it has been checked',
    });
    // another off while off does not make the next sample a first report again
    m.allOff(1300);
    expect(m.telemetry(1, 0, 1500, 1400, MAX)).toMatchObject({ finding: 'current-while-off', repeat: true, cause: 'Channel 1: the device still measures 1.5 mA 400 ms after output was switched off' });
  });

  it('H18 one verdict per channel: after an over-current verdict further TEL lines and the loop say nothing (output is going off)', () => {
    const m = on(2);
    expect(m.telemetry(1, 2000, 5000, 100, MAX)).toMatchObject({ finding: 'over-commanded', measuredMa: 5, limitMa: 2 });
    expect(m.telemetry(1, 2000, 5000, 200, MAX)).toBeUndefined();
    expect(m.telemetry(1, 9000, 9000, 300, MAX)).toBeUndefined();
    expect(m.check(300 + OUTPUT_MONITOR.telemetryMissingMs.value + 1)).toStrictEqual([]);
  });

  it('H18 a measurement exactly at commanded + tolerance (and its 1e-9 float slack) is believed', () => {
    const limit = 2 + measuredToleranceMa(2) + 1e-9;
    const measuredUa = limit * 1000;
    expect(measuredUa / 1000).toBe(limit); // the boundary itself, not a float next to it
    expect(on(2).telemetry(1, 2000, measuredUa, 100, MAX)).toBeUndefined();
  });

  it('H18 current-low found by the loop: said once, naming the time since the first low sample', () => {
    const m = on(4);
    for (let t = 100; t <= 1000; t += 100) expect(m.telemetry(1, 4000, 0, t, MAX), `${t} ms`).toBeUndefined();
    expect(m.check(100 + LOW_MS)).toStrictEqual([{ finding: 'current-low', channel: 1, limitMa: 4, cause: lowCause(4, LOW_MS), action: LOW_ACTION }]);
    expect(m.check(1200)).toStrictEqual([]);
    expect(m.telemetry(1, 4000, 0, 1200, MAX)).toBeUndefined();
  });

  it('H18 current-low found on a TEL line: said once, naming the time since the first low sample', () => {
    const m = on(4);
    for (let t = 100; t < 100 + LOW_MS; t += 100) expect(m.telemetry(1, 4000, 0, t, MAX), `${t} ms`).toBeUndefined();
    expect(m.telemetry(1, 4000, 0, 100 + LOW_MS, MAX)).toStrictEqual({ finding: 'current-low', channel: 1, limitMa: 4, cause: lowCause(4, LOW_MS), action: LOW_ACTION });
    expect(m.telemetry(1, 4000, 0, 1200, MAX)).toBeUndefined();
    expect(m.check(1300)).toStrictEqual([]);
  });

  it('H18 the low-current rule applies at exactly lowCurrentMinMa', () => {
    const min = OUTPUT_MONITOR.lowCurrentMinMa.value;
    const m = on(min);
    for (let t = 100; t < 100 + LOW_MS; t += 100) expect(m.telemetry(1, min * 1000, 0, t, MAX)).toBeUndefined();
    expect(m.telemetry(1, min * 1000, 0, 100 + LOW_MS, MAX)).toStrictEqual({ finding: 'current-low', channel: 1, limitMa: min, cause: lowCause(min, LOW_MS), action: LOW_ACTION });
  });

  it('H18 a current of exactly lowCurrentPercent of the commanded amplitude is not low', () => {
    const exactly = (OUTPUT_MONITOR.lowCurrentPercent.value / 100) * 4; // 1 mA of 4 mA
    const m = on(4);
    for (let t = 100; t <= 3000; t += 100) expect(m.telemetry(1, 4000, exactly * 1000, t, MAX), `${t} ms`).toBeUndefined();
    expect(m.check(3050)).toStrictEqual([]);
    const below = on(4);
    for (let t = 100; t < 100 + LOW_MS; t += 100) below.telemetry(1, 4000, exactly * 1000 - 1, t, MAX);
    expect(below.telemetry(1, 4000, exactly * 1000 - 1, 100 + LOW_MS, MAX)).toMatchObject({ finding: 'current-low' });
  });
});
