/**
 * H18: the output monitor alone, on explicit times. Every boundary is tried on both sides, so a
 * changed tolerance, deadline or comparison fails here.
 */
import { describe, expect, it } from 'vitest';
import { OUTPUT_MONITOR, measuredToleranceMa } from '../../../src/domain/safety/limits.js';
import { OutputMonitor } from '../../../src/session/output-monitor.js';

const MAX = 10;
const ua = (ma: number) => Math.round(ma * 1000);

function on(ma = 2, at = 0): OutputMonitor {
  const m = new OutputMonitor();
  m.on(1, 0, at);
  m.commanding(1, ma);
  m.acknowledged(1, ma);
  return m;
}

describe('H18 OutputMonitor', () => {
  it('H18 the tolerance is 0.3 mA plus 5 % of the set point', () => {
    expect(measuredToleranceMa(0)).toBeCloseTo(0.3, 12);
    expect(measuredToleranceMa(10)).toBeCloseTo(0.8, 12);
  });

  it('H18 believes a measurement up to the commanded amplitude plus the tolerance, and no further', () => {
    const tol = measuredToleranceMa(2);
    expect(on().telemetry(1, 2000, ua(2 + tol), 100, MAX)).toBeUndefined();
    expect(on().telemetry(1, 2000, ua(2 + tol) + 1, 100, MAX)).toMatchObject({ finding: 'over-commanded', channel: 1, measuredMa: (ua(2 + tol) + 1) / 1000, limitMa: 2 });
  });

  it("H18 names the most serious limit passed: the ceiling, then the protocol's maximum", () => {
    expect(on(9).telemetry(1, 9000, 20_000 + ua(measuredToleranceMa(20)) + 1, 100, MAX)).toMatchObject({ finding: 'over-ceiling' });
    expect(on(9).telemetry(1, 9000, ua(MAX + measuredToleranceMa(MAX)) + 1, 100, MAX)).toMatchObject({ finding: 'over-protocol', limitMa: MAX });
  });

  it('H18 a set point reported 1 µA above the commanded one is refused', () => {
    expect(on().telemetry(1, 2000, 1990, 100, MAX)).toBeUndefined();
    expect(on().telemetry(1, 2001, 1990, 100, MAX)).toMatchObject({ finding: 'setpoint-above-commanded', measuredMa: 2.001 });
  });

  it('H18 an increase counts from when it is sent; a decrease only once it is acknowledged', () => {
    const m = on(2);
    m.commanding(1, 2.2);
    expect(m.telemetry(1, 2200, 2200, 100, MAX)).toBeUndefined(); // applied before its reply came
    m.acknowledged(1, 2.2);
    m.commanding(1, 0.5);
    expect(m.telemetry(1, 2200, 2200, 200, MAX)).toBeUndefined(); // not yet acknowledged
    m.acknowledged(1, 0.5);
    expect(m.telemetry(1, 2200, 2200, 300, MAX)).toMatchObject({ finding: 'over-commanded', limitMa: 0.5 });
  });

  it('H18 telemetry silent for more than telemetryMissingMs while on, not at it', () => {
    const m = on(2, 1000);
    m.telemetry(1, 2000, 2000, 1100, MAX);
    expect(m.check(1100 + OUTPUT_MONITOR.telemetryMissingMs.value)).toEqual([]);
    expect(m.check(1101 + OUTPUT_MONITOR.telemetryMissingMs.value)).toEqual([expect.objectContaining({ finding: 'telemetry-lost', channel: 1, silentMs: OUTPUT_MONITOR.telemetryMissingMs.value + 1 })]);
    expect(m.check(5000)).toEqual([]); // said once
    const off = on(2, 0);
    off.off(1, 50);
    expect(off.check(10_000)).toEqual([]); // off: nothing expected
  });

  it('H18 current implausibly low for lowCurrentMs in a row; a good sample in between restarts the count', () => {
    const low = ua((OUTPUT_MONITOR.lowCurrentPercent.value / 100) * 4) - 1;
    const m = on(4);
    for (let t = 100; t < 100 + OUTPUT_MONITOR.lowCurrentMs.value; t += 100) expect(m.telemetry(1, 4000, low, t, MAX)).toBeUndefined();
    expect(m.telemetry(1, 4000, low, 100 + OUTPUT_MONITOR.lowCurrentMs.value, MAX)).toMatchObject({ finding: 'current-low', limitMa: 4 });
    const n = on(4);
    for (let t = 100; t <= 900; t += 100) n.telemetry(1, 4000, low, t, MAX);
    expect(n.telemetry(1, 4000, 4000, 1000, MAX)).toBeUndefined();
    for (let t = 1100; t <= 2000; t += 100) expect(n.telemetry(1, 4000, low, t, MAX), `${t} ms`).toBeUndefined();
    expect(n.check(2050)).toEqual([]);
    expect(n.check(2100)).toEqual([expect.objectContaining({ finding: 'current-low' })]); // 1000 ms since 1100
    // below lowCurrentMinMa the check does not apply
    const small = on(OUTPUT_MONITOR.lowCurrentMinMa.value - 0.1);
    for (let t = 100; t <= 3000; t += 100) expect(small.telemetry(1, 900, 0, t, MAX)).toBeUndefined();
  });

  it('H18 current after off: judged from offGraceMs on, every sample, the first one not a repeat', () => {
    const m = on(2);
    m.off(1, 1000);
    expect(m.telemetry(1, 0, 1990, 1000 + OUTPUT_MONITOR.offGraceMs.value - 1, MAX)).toBeUndefined();
    expect(m.telemetry(1, 0, ua(measuredToleranceMa(0)), 1000 + OUTPUT_MONITOR.offGraceMs.value, MAX)).toBeUndefined(); // within tolerance of 0
    expect(m.telemetry(1, 0, 1990, 1000 + OUTPUT_MONITOR.offGraceMs.value, MAX)).toMatchObject({ finding: 'current-while-off', repeat: false });
    expect(m.telemetry(1, 0, 1990, 1300, MAX)).toMatchObject({ finding: 'current-while-off', repeat: true });
  });
});
