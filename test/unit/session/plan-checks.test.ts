/**
 * What the runner checks before a session is prepared (plan.ts `deviceCannotRun`) and how it waits
 * for a confirmation with a time limit (results.ts `within`), on virtual time.
 */
import { describe, expect, it } from 'vitest';
import type { DeviceInfo } from '../../../src/device/identity.js';
import { deviceCannotRun } from '../../../src/session/plan.js';
import { within } from '../../../src/session/results.js';
import { TWO_CHANNEL_LIMITS } from '../../support/device-fixtures.js';
import { kneeProtocol } from '../../support/session-harness.js';
import { ManualScheduler, settle } from '../../support/virtual-time.js';

const device = (over: Partial<DeviceInfo['limits']> = {}, channels = 2): DeviceInfo =>
  ({
    channels,
    limits: {
      ...TWO_CHANNEL_LIMITS,
      channels,
      ...over,
    },
  }) as DeviceInfo;

describe('deviceCannotRun', () => {
  it('a device that can run every phase at its maximum: nothing to say', () => {
    expect(deviceCannotRun(kneeProtocol(), device())).toBeUndefined();
  });

  it('a channel the device does not have is named', () => {
    const p = kneeProtocol();
    const highest = Math.max(...p.channels.map((c) => c.channel));
    const r = deviceCannotRun(p, device({}, highest - 1));
    expect(r?.error).toEqual({ code: 'Incompatible', message: `protocol uses channel ${highest}; this device has ${highest - 1}` });
  });

  it("a phase whose maximum the device's limits refuse is named, with the guard's reason", () => {
    const p = kneeProtocol();
    const r = deviceCannotRun(p, device({ amplitudeMa: { min: 0, max: p.phases[0]!.amplitude.maxMa / 2 } }));
    expect(r?.error.code).toBe('LimitExceeded');
    expect(r?.error.message).toMatch(new RegExp(`^phase '${p.phases[0]!.name}' cannot run on this device: `));
  });
});

describe('within', () => {
  it('the value when it comes in time, undefined when the time runs out first (and the timer is gone)', async () => {
    const s = new ManualScheduler();
    let answer!: (v: string) => void;
    const late = within(s, new Promise<string>((r) => (answer = r)), 800);
    s.advance(799);
    await settle();
    answer('ok');
    expect(await late).toBe('ok');
    expect(s.pending).toBe(0);

    const never = within(s, new Promise<string>(() => undefined), 800);
    s.advance(800);
    expect(await never).toBeUndefined();
  });
});
