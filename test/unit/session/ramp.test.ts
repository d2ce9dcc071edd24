/**
 * The ramp rules (ramp.ts): falls at once, rises by the slew allowance rounded down to 1 µA, no
 * more often than once per rise window, never above the target; titration moves targets only.
 */
import { describe, expect, it } from 'vitest';
import { HARD_LIMITS } from '../../../src/domain/safety/limits.js';
import type { ProtocolLimits } from '../../../src/domain/stimulation.js';
import { RAMP_STEP_MS, floorMa, isTitrationStep, nextRampAmplitude, planTitration } from '../../../src/session/ramp.js';
import { phaseLimits } from '../../../src/session/plan.js';
import { kneeProtocol } from '../../support/session-harness.js';

const base = phaseLimits(kneeProtocol(), 0);
const at = (rampMaPerS: number): ProtocolLimits => ({ ...base, rampMaPerS });
const RATE = HARD_LIMITS.amplitudeRiseMaxMaPerS.value;

describe('nextRampAmplitude', () => {
  it('the step is one rise window, taken from the limits table', () => {
    expect(RAMP_STEP_MS).toBe(HARD_LIMITS.amplitudeRiseWindowMs.value);
  });

  it('a fall goes straight to the target, even right after the last command', () => {
    expect(nextRampAmplitude({ amplitudeMa: 3, atMs: 1000 }, 1.2, 1001, at(RATE))).toBe(1.2);
    expect(nextRampAmplitude({ amplitudeMa: 3, atMs: 1000 }, 0, 1000, at(RATE))).toBe(0);
  });

  it('a rise waits a whole step after the last command', () => {
    const c = { amplitudeMa: 1, atMs: 1000 };
    expect(nextRampAmplitude(c, 5, 1000 + RAMP_STEP_MS - 1, at(RATE))).toBeUndefined();
    expect(nextRampAmplitude(c, 5, 1000 + RAMP_STEP_MS, at(RATE))).toBeCloseTo(1 + (RATE * RAMP_STEP_MS) / 1000, 9);
  });

  it('a long hold saves up at most one window of rise', () => {
    const c = { amplitudeMa: 1, atMs: 0 };
    expect(nextRampAmplitude(c, 10, 60_000, at(RATE))).toBeCloseTo(1 + (RATE * RAMP_STEP_MS) / 1000, 9);
  });

  it("the protocol's slower ramp wins, rounded down to whole µA (never up)", () => {
    // 0.37 mA/s over 200 ms is 0.074 mA; a step of 0.0007 mA/s x 200 ms would round to nothing.
    expect(nextRampAmplitude({ amplitudeMa: 1, atMs: 0 }, 5, RAMP_STEP_MS, at(0.37))).toBe(1.074);
    expect(nextRampAmplitude({ amplitudeMa: 1, atMs: 0 }, 5, RAMP_STEP_MS, at(0.003))).toBeUndefined();
    expect(floorMa(1.0749999)).toBe(1.074);
    expect(floorMa(1.0749999999)).toBe(1.075); // float noise just under a whole µA
  });

  it('never passes the target, and at the target nothing is due', () => {
    expect(nextRampAmplitude({ amplitudeMa: 1.95, atMs: 0 }, 2, 10_000, at(RATE))).toBe(2);
    expect(nextRampAmplitude({ amplitudeMa: 2, atMs: 0 }, 2, 10_000, at(RATE))).toBeUndefined();
  });
});

describe('planTitration', () => {
  const phase = { name: 'main', maxMa: 3 };

  it('only the offered steps are titration steps', () => {
    expect([0.1, -0.1, 0.5, -0.5].every(isTitrationStep)).toBe(true);
    expect([0, 0.2, 1, -0.05].some(isTitrationStep)).toBe(false);
  });

  it('each channel on its own: one that cannot take the whole step keeps its target and is named', () => {
    const r = planTitration(
      [
        { channel: 1, targetMa: 2.4 },
        { channel: 2, targetMa: 2.6 },
      ],
      0.5,
      phase,
    );
    expect(r.targets).toEqual([{ channel: 1, targetMa: 2.9 }]);
    expect(r.refused).toEqual([{ channel: 2, reason: "3.1 mA is above 3 mA, the maximum of phase 'main'; channel 2 stays at 2.6 mA" }]);
  });

  it('going down stops at 0 mA; a channel already there is named', () => {
    const r = planTitration(
      [
        { channel: 1, targetMa: 0.3 },
        { channel: 2, targetMa: 0 },
      ],
      -0.5,
      phase,
    );
    expect(r.targets).toEqual([{ channel: 1, targetMa: 0 }]);
    expect(r.refused).toEqual([{ channel: 2, reason: 'channel 2 is already at 0 mA' }]);
  });

  it('targets are kept to the wire µA (no float drift after many steps)', () => {
    let t = 0;
    for (let i = 0; i < 29; i++) t = planTitration([{ channel: 1, targetMa: t }], 0.1, phase).targets[0]!.targetMa;
    expect(t).toBe(2.9);
  });
});
