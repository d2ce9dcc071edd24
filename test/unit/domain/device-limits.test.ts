/**
 * The device's limits are one schema (issue 10 §3): the domain's, which the contract sends and the
 * journal records. A second hand-written copy would drift (one of the three took any channel
 * count while the others took 1-8).
 */
import { describe, expect, it } from 'vitest';
import { DeviceLimitsSchema as contractLimits, DeviceSchema } from '../../../src/app/contract.js';
import { DeviceLimitsSchema, type DeviceLimits } from '../../../src/domain/stimulation.js';
import { DATA_SCHEMAS } from '../../../src/session/journal-records.js';

const sim: DeviceLimits = {
  channels: 4,
  frequencyHz: { min: 1, max: 100 },
  pulseWidthUs: { min: 50, max: 500 },
  amplitudeMa: { min: 0, max: 20 },
  maxChargePerPhaseUc: 10,
  maxDurationS: 3600,
  complianceV: 60,
  watchdogMs: 1000,
};

describe('DeviceLimits, defined once', () => {
  it('is the same schema in the contract and in the journal record of the session start', () => {
    expect(contractLimits).toBe(DeviceLimitsSchema);
    expect(DeviceSchema.shape.limits).toBe(DeviceLimitsSchema);
    expect(DATA_SCHEMAS['session-start'].shape.device.shape.limits).toBe(DeviceLimitsSchema);
  });

  it('takes what a device may report and refuses what the wire cannot carry, naming the field', () => {
    expect(DeviceLimitsSchema.parse(sim)).toEqual(sim);
    for (const channels of [0, 9, 2.5]) {
      const r = DeviceLimitsSchema.safeParse({ ...sim, channels });
      expect(r.success).toBe(false);
      expect(r.error?.issues[0]?.path).toEqual(['channels']);
    }
    const { watchdogMs, ...missing } = sim;
    expect(watchdogMs).toBe(1000);
    expect(DeviceLimitsSchema.safeParse(missing).error?.issues[0]?.path).toEqual(['watchdogMs']);
    expect(DeviceLimitsSchema.safeParse({ ...sim, extra: 1 }).success).toBe(false);
  });
});
