import { describe, expect, it } from 'vitest';
import { type ChartRow, buildChartSeries, marksText } from '../../../electron/renderer/chart-model.js';
import { TelemetryBuffer } from '../../../electron/renderer/session-model.js';

const row = (t: number, m1: number, target = 2.5): ChartRow => ({ t, measured: new Map([[1, m1]]), target: new Map([[1, target]]) });

describe('the live chart series around a pause (issue 16 section 6)', () => {
  it('draws off time as 0 mA from the pause to the resume, not a ramp joining the samples', () => {
    const rows = [row(34.9, 2.5), row(35.0, 2.5), row(41.3, 0.2), row(41.4, 0.4)];
    const s = buildChartSeries(rows, [1], [
      { t: 35.05, kind: 'off', channel: 1 },
      { t: 35.05, kind: 'pause' },
      { t: 41.25, kind: 'resume' },
      { t: 41.25, kind: 'on', channel: 1 },
    ]);
    expect(s.columns[0]).toEqual([34.9, 35.0, 35.05, 41.25, 41.3, 41.4]);
    expect(s.columns[1]).toEqual([2.5, 2.5, 0, 0, 0.2, 0.4]);
    expect(s.columns[2]).toEqual([2.5, 2.5, null, null, 2.5, 2.5]);
    expect(s.pauses).toEqual([{ from: 35.05, to: 41.25 }]);
    expect(marksText(s, (v) => v.toFixed(1))).toBe('Marked: paused 35.0–41.3 s (output off).');
  });

  it('an open pause runs to the end; a pause begun before the window starts at the window; phases are marked', () => {
    const s = buildChartSeries([row(10, 1), row(10.1, 1)], [1], [
      { t: 2, kind: 'off', channel: 1 },
      { t: 2, kind: 'pause' },
      { t: 9, kind: 'resume' },
      { t: 9, kind: 'on', channel: 1 },
      { t: 10.05, kind: 'phase', label: 'Phase 2: dense' },
      { t: 10.2, kind: 'off', channel: 1 },
      { t: 10.2, kind: 'pause' },
    ]);
    expect(s.columns[1]).toEqual([1, 1, 0]);
    expect(s.pauses).toEqual([{ from: 10.2, to: undefined }]);
    expect(s.phases).toEqual([{ t: 10.05, label: 'Phase 2: dense' }]);
    const before = buildChartSeries([row(10, 0), row(11, 0)], [1], [{ t: 2, kind: 'off', channel: 1 }, { t: 2, kind: 'pause' }, { t: 10.5, kind: 'resume' }]);
    expect(before.pauses).toEqual([{ from: 10, to: 10.5 }]);
  });

  it('the buffer turns snapshots into marks on the telemetry time base (injected clock)', () => {
    let now = 0;
    const b = new TelemetryBuffer(60, () => now);
    b.setChannels([1]);
    const snap = (state: 'running' | 'paused', on: boolean) => ({ state, channels: [{ channel: 1, on }], phase: { index: 0, count: 1, name: 'A', elapsedS: 0, durationS: 60, frequencyHz: 2 } }) as never;
    expect(b.noteSnapshot(snap('running', true))).toBe(false);
    b.add({ atMs: 5000, channel: 1, measuredMa: 2.5, commandedMa: 2.5, targetMa: 2.5, impedance: 1500 });
    now = 100;
    b.add({ atMs: 5100, channel: 1, measuredMa: 2.5, commandedMa: 2.5, targetMa: 2.5, impedance: 1500 });
    now = 150;
    expect(b.noteSnapshot(snap('paused', false))).toBe(true);
    now = 6150;
    expect(b.noteSnapshot(snap('running', true))).toBe(true);
    now = 6200;
    b.add({ atMs: 11200, channel: 1, measuredMa: 0.3, commandedMa: 0.3, targetMa: 2.5, impedance: 1500 });
    const s = b.series();
    expect(s.columns[0]).toEqual([0, 0.1, 0.15, 6.15, 6.2]);
    expect(s.columns[1]).toEqual([2.5, 2.5, 0, 0, 0.3]);
    expect(s.pauses).toEqual([{ from: 0.15, to: 6.15 }]);
  });
});
