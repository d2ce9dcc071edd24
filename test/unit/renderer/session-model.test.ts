import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../../../src/app/contract.js';
import {
  TelemetryBuffer,
  alarmViews,
  channelOutputText,
  endText,
  orderPorts,
  outputSummary,
  progress,
  type Port,
} from '../../../electron/renderer/session-model.js';
import { clock, countdown, dateTime, duration, impedance, ma, num, placement, range, stateText, withUnitText as withUnit } from '../../../src/domain/format.js';
import { formatDuration, formatElapsed, formatOhm } from '../../../src/session/report-model.js';

const port = (p: Partial<Port> & Pick<Port, 'path' | 'kind'>): Port => ({ label: p.path, likelyStimulator: false, ...p });

describe('ports', () => {
  it('lists the simulator first when no stimulator is plugged in', () => {
    const ordered = orderPorts([port({ path: '/dev/ttyS0', kind: 'serial' }), port({ path: 'sim', kind: 'simulator', label: 'Simulated stimulator' })]);
    expect(ordered.map((p) => p.path)).toEqual(['sim', '/dev/ttyS0']);
  });

  it('lists a likely stimulator before the simulator', () => {
    const ordered = orderPorts([
      port({ path: 'sim', kind: 'simulator' }),
      port({ path: '/dev/ttyS0', kind: 'serial' }),
      port({ path: '/dev/ttyUSB0', kind: 'serial', likelyStimulator: true }),
    ]);
    expect(ordered.map((p) => p.path)).toEqual(['/dev/ttyUSB0', 'sim', '/dev/ttyS0']);
  });
});

const channel = (c: Partial<Snapshot['channels'][number]> = {}): Snapshot['channels'][number] => ({
  channel: 1,
  region: 'knee',
  side: 'affected',
  sites: ['a', 'b'],
  targetMa: 4,
  commandedMa: 4,
  measuredMa: 4.2,
  impedance: 1500,
  on: true,
  maxMa: 10,
  deliveredUc: 0,
  ...c,
});

const snapshot = (s: Partial<Snapshot> = {}): Snapshot => ({ state: 'running', latched: false, elapsedS: 0, totalS: 1200, channels: [], electrodes: [], warnings: [], alarms: [], ...s });

describe('output status: words as well as colour', () => {
  it('says OUTPUT ON with the measured amplitude, or Output off', () => {
    expect(channelOutputText(channel())).toBe('OUTPUT ON 4.2 mA');
    expect(channelOutputText(channel({ measuredMa: null, commandedMa: 3 }))).toBe('OUTPUT ON 3.0 mA');
    expect(channelOutputText(channel({ on: false }))).toBe('Output off');
  });

  it('summarises the device: the highest channel, and how many are on', () => {
    expect(outputSummary(undefined)).toEqual({ on: false, text: 'Output off' });
    expect(outputSummary(snapshot({ channels: [channel(), channel({ channel: 2, measuredMa: 5.1 })] }))).toEqual({ on: true, text: 'OUTPUT ON 5.1 mA' });
    expect(outputSummary(snapshot({ channels: [channel(), channel({ channel: 2, on: false })] })).text).toBe('OUTPUT ON 4.2 mA (1 of 2 channels)');
    expect(outputSummary(snapshot({ channels: [channel({ on: false })] })).on).toBe(false);
  });

  it('computes time remaining and progress', () => {
    expect(progress({ elapsedS: 300, totalS: 1200 })).toEqual({ remainingS: 900, fraction: 0.25 });
    expect(progress({ elapsedS: 1300, totalS: 1200 })).toEqual({ remainingS: 0, fraction: 1 });
    expect(progress({ elapsedS: 0, totalS: 0 })).toEqual({ remainingS: 0, fraction: 0 });
  });

  it('says how a session ended', () => {
    expect(endText({ state: 'completed', reason: 'protocol time elapsed' })).toBe('Session completed: protocol time elapsed.');
    expect(endText({ state: 'stopped' })).toBe('Session stopped.');
    expect(endText({ state: 'running' })).toBe('');
  });
});

describe('alarms', () => {
  it('orders by priority then age, and names priority, cause and next action in words', () => {
    const views = alarmViews([
      { id: 'A1', priority: 'low', cause: 'Information', action: 'Note it', atMs: 1 },
      { id: 'A2', priority: 'medium', cause: 'impedance drifting', action: 'check the clip', atMs: 5, channel: 2 },
      { id: 'A3', priority: 'high', cause: 'Channel 2 open circuit', action: 'check the clip on the needle, then clear', atMs: 9, channel: 2 },
      { id: 'A4', priority: 'high', cause: 'Device lost', action: 'Check the cable', atMs: 3 },
    ]);
    expect(views.map((v) => v.id)).toEqual(['A4', 'A3', 'A2', 'A1']);
    expect(views[1]).toEqual({
      id: 'A3',
      priority: 'high',
      priorityText: 'High priority alarm',
      icon: 'stop',
      title: 'Channel 2 open circuit',
      action: 'Next: check the clip on the needle, then clear',
    });
    expect(views[2]!.title).toBe('Channel 2: impedance drifting');
    expect(views[2]!.icon).toBe('warning');
    expect(views[3]!.priorityText).toBe('Low priority alarm');
  });
});

describe('the telemetry buffer behind the live chart', () => {
  const t = (atMs: number, ch: number, measuredMa: number, targetMa = 5) => ({ atMs, channel: ch, measuredMa, commandedMa: measuredMa, targetMa, impedance: 1500 });

  it('aligns channels sampled in the same tick into one row', () => {
    const b = new TelemetryBuffer(60);
    expect(b.setChannels([2, 1])).toBe(true);
    expect(b.setChannels([1, 2])).toBe(false);
    b.add(t(1000, 1, 1));
    b.add(t(1010, 2, 1.5));
    b.add(t(1100, 1, 2));
    b.add(t(1100, 3, 9)); // not a channel of this session
    b.add(t(1105, 2, 2.5));
    expect(b.columns()).toEqual([
      [0, 0.1],
      [1, 2],
      [5, 5],
      [1.5, 2.5],
      [5, 5],
    ]);
  });

  it('keeps only the window', () => {
    const b = new TelemetryBuffer(1);
    b.setChannels([1]);
    for (let ms = 0; ms <= 3000; ms += 100) b.add(t(ms, 1, ms / 1000));
    const [x] = b.columns();
    expect(x![0]).toBe(2);
    expect(x!.at(-1)).toBe(3);
    b.clear();
    expect(b.columns()).toEqual([[]]);
  });
});

describe('formatting: every number with its unit', () => {
  it('formats amplitudes, values, ranges and times', () => {
    expect(ma(4.25)).toBe('4.3 mA');
    expect(ma(null)).toBe('— mA');
    expect(num(0.3)).toBe('0.3');
    expect(num(40)).toBe('40');
    expect(withUnit(250, 'us')).toBe('250 µs');
    expect(withUnit(6.631, 'uC/cm2', 2)).toBe('6.63 µC/cm²');
    expect(withUnit(1.2345, 'k', 2)).toBe('1.23');
    expect(range(1, 150, 'Hz')).toBe('1–150 Hz');
    expect(clock(754)).toBe('12:34');
    expect(clock(3725)).toBe('1:02:05');
    expect(clock(-5)).toBe('0:00');
    // Elapsed counts whole seconds passed; a countdown reads 0:00 only when nothing remains.
    expect([clock(307.9), countdown(307.1), countdown(0.4), countdown(0), countdown(60)]).toEqual(['5:07', '5:08', '0:01', '0:00', '1:00']);
    expect(duration(3725)).toBe('1 h 2 min 5 s');
    expect(duration(15)).toBe('15 s');
    expect(duration(1200)).toBe('20 min');
    expect(duration(90)).toBe('1 min 30 s');
    expect(impedance(1500)).toBe('1.5 kΩ');
    expect(impedance(850)).toBe('850 Ω');
    expect(impedance('OPEN')).toBe('open circuit');
    expect(impedance(null)).toBe('not measured');
    expect(placement('ankle-foot', 'left')).toBe('left ankle or foot');
    expect(placement('knee', 'right')).toBe('right knee');
    expect(placement('low-back', 'midline')).toBe('low back (midline)');
    expect(placement('knee', 'affected')).toBe('knee (affected side)');
    expect(stateText('checking-electrodes')).toBe('Electrode check');
    expect(dateTime(null)).toBe('—');
    expect(dateTime('not a date')).toBe('not a date');
    expect(dateTime('2025-03-04T14:05:00')).toBe('2025-03-04 14:05');
  });

  it('are the report\'s too: the screen and the report print a time, a duration and an impedance alike', () => {
    for (const s of [0, 59.9, 307, 3725]) expect(formatElapsed(s)).toBe(clock(s));
    expect(formatElapsed(307)).toBe('5:07');
    for (const s of [0, 90, 1200, 3725]) expect(formatDuration(s)).toBe(duration(s));
    for (const z of [850, 1500, 'OPEN', null] as const) expect(formatOhm(z)).toBe(impedance(z));
  });
});
