/**
 * The snapshot projector on its own: it builds exactly the views of views.ts (the strict schemas
 * accept it, and a domain object with an extra field does not leak one), from the clock's
 * stimulation time, the current phase, and each channel as the runner holds it.
 */
import { describe, expect, it } from 'vitest';
import { builtInProtocol } from '../../../src/domain/protocols/library/index.js';
import type { Warning } from '../../../src/domain/safety/violation.js';
import type { DeviceInfo } from '../../../src/device/identity.js';
import { SessionClock } from '../../../src/session/clock.js';
import { type ProjectorInput, projectSnapshot } from '../../../src/session/snapshot.js';
import { SnapshotSchema } from '../../../src/session/views.js';
import { ManualScheduler } from '../../support/virtual-time.js';

const dense = builtInProtocol('dense-disperse-2-100')!.protocol;
const device = {
  model: 'EDN-SIM',
  firmware: '1.0.0',
  serial: 'SIM-1',
  bootId: 'B1',
  protocolVersion: 1,
  channels: 2,
  limits: {
    channels: 2,
    frequencyHz: { min: 1, max: 200 },
    pulseWidthUs: { min: 50, max: 500 },
    amplitudeMa: { min: 0, max: 20 },
    maxChargePerPhaseUc: 10,
    maxDurationS: 3600,
    complianceV: 60,
    watchdogMs: 1000,
    // A field the view does not name (a future firmware's): it must not reach the view.
    calibratedAt: '2026-01-01',
  },
} as unknown as DeviceInfo;

function input(over: Partial<ProjectorInput> = {}): ProjectorInput {
  const s = new ManualScheduler();
  return {
    state: 'idle',
    reason: undefined,
    latched: false,
    transport: 'simulator',
    device: undefined,
    protocol: undefined,
    sessionId: undefined,
    journal: undefined,
    clock: new SessionClock(s),
    channels: [],
    electrodes: [],
    warnings: [],
    alarms: [],
    ...over,
  };
}

describe('projectSnapshot', () => {
  it('with nothing connected: the idle view, no optional fields present', () => {
    const v = projectSnapshot(input());
    expect(v).toEqual({ state: 'idle', latched: false, elapsedS: 0, totalS: 0, channels: [], electrodes: [], warnings: [], alarms: [] });
    expect(SnapshotSchema.parse(v)).toEqual(v);
  });

  it('a running session: phase time from the clock, the pattern frequency at that time, channels in view shape', () => {
    const s = new ManualScheduler();
    const clock = new SessionClock(s);
    const dwellMs = (dense.phases[0]!.pattern as { dwellS: number }).dwellS * 1000;
    clock.run(3_600_000, () => undefined);
    s.advance(dwellMs + 500); // into the second dwell: the high frequency
    const warning = { limit: 'shannonKWarn', field: 'amplitudeMa', value: 1.6, threshold: 1.5, unit: '', source: 'S', message: 'm', extra: 1 } as Warning;
    const v = projectSnapshot(
      input({
        state: 'running',
        device,
        protocol: dense,
        sessionId: 'S1',
        journal: '/data/S1.jsonl',
        clock,
        channels: [
          { channel: 1, region: 'knee', side: 'left', sites: ['a'], targetMa: 2, commandedMa: 1.8, measuredMa: 1.79, impedance: 1500, on: true, deliveredUc: 3.2 },
          { channel: 2, region: 'knee', side: 'right', sites: [], targetMa: 2, commandedMa: undefined, measuredMa: null, impedance: null, on: false, deliveredUc: 0 },
        ],
        warnings: [warning],
        electrodes: [{ channel: 1, impedanceOhm: 1500, ok: true }],
        alarms: [{ id: 'A1', priority: 'medium', cause: 'c', action: 'a', atMs: 5 }],
      }),
    );
    expect(SnapshotSchema.parse(v)).toEqual(v); // strict: no extra field anywhere
    expect(v.device?.limits).not.toHaveProperty('calibratedAt');
    expect(v.warnings[0]).not.toHaveProperty('extra');
    expect(v.phase).toMatchObject({ index: 0, count: dense.phases.length, elapsedS: (dwellMs + 500) / 1000 });
    const pattern = dense.phases[0]!.pattern as { highHz: number };
    expect(v.phase?.frequencyHz).toBe(pattern.highHz);
    expect(v.elapsedS).toBe((dwellMs + 500) / 1000);
    expect(v.channels.map((c) => [c.commandedMa, c.maxMa])).toEqual([
      [1.8, dense.phases[0]!.amplitude.maxMa],
      [0, dense.phases[0]!.amplitude.maxMa],
    ]);
    expect(v.device?.transport).toBe('simulator');
  });

  it('the view is a copy: changing what the runner holds later does not change a published view', () => {
    const sites = ['a'];
    const v = projectSnapshot(input({ channels: [{ channel: 1, region: 'knee', side: 'left', sites, targetMa: 1, commandedMa: 1, measuredMa: null, impedance: null, on: true, deliveredUc: 0 }] }));
    sites.push('b');
    expect(v.channels[0]!.sites).toEqual(['a']);
  });
});
