/**
 * The mutants left alive in titration.ts by its own test (MUTATION.md, the session group), killed
 * through the part's context: a step up that no channel can take is refused naming every channel,
 * each reason apart, with no violation made up (there is none: it is the phase's maximum, not the
 * guard); only a step down kicks the ramp (a fall is commanded at once, a rise waits for the ramp's
 * own rise window).
 */
import { describe, expect, it } from 'vitest';
import type { ChannelControl } from '../../../src/session/ramp.js';
import { Titration } from '../../../src/session/titration.js';

/** Channels 1 and 2 at `targetsMa`, in a phase 'main' of maxMa 10. */
function setup(targetsMa: readonly number[]) {
  const channels: ChannelControl[] = targetsMa.map((targetMa, i) => ({ channel: i + 1, region: 'knee', side: 'left', sites: [], targetMa, commanded: { amplitudeMa: targetMa, atMs: 0 }, active: undefined, on: true, measuredMa: null, impedance: null }));
  const records: { type: string; data: unknown }[] = [];
  let kicks = 0;
  let published = 0;
  const titration = new Titration({
    channels: () => channels,
    phase: () => ({ name: 'main', maxMa: 10 }),
    journal: { record: (type, data) => records.push({ type, data }) },
    kickRamp: () => (kicks += 1),
    publish: () => (published += 1),
  });
  return { titration, channels, records, kicks: () => kicks, published: () => published };
}

describe('Titration, mutation survivors', () => {
  it('H29 a step up no channel can take: LimitExceeded naming each channel apart, no violation, nothing moved, recorded or kicked', () => {
    const t = setup([10, 9.8]);
    const r = t.titration.titrate(0.5);
    expect(r).toStrictEqual({
      ok: false,
      error: {
        code: 'LimitExceeded',
        violations: [],
        message: "10.5 mA is above 10 mA, the maximum of phase 'main'; channel 1 stays at 10 mA; 10.3 mA is above 10 mA, the maximum of phase 'main'; channel 2 stays at 9.8 mA",
      },
    });
    expect(t.channels.map((c) => c.targetMa)).toStrictEqual([10, 9.8]);
    expect(t.records).toStrictEqual([]);
    expect(t.kicks()).toBe(0);
    expect(t.published()).toBe(0);
  });

  it('H29 a step down no channel can take: Invalid naming each channel apart', () => {
    const t = setup([0, 0]);
    expect(t.titration.titrate(-0.1)).toStrictEqual({ ok: false, error: { code: 'Invalid', message: 'channel 1 is already at 0 mA; channel 2 is already at 0 mA' } });
    expect(t.kicks()).toBe(0);
  });

  it('H11 only a step down kicks the ramp: a step up moves the target and leaves the rise to the ramp', () => {
    const t = setup([2, 2]);
    expect(t.titration.titrate(0.5).ok).toBe(true);
    expect(t.titration.titrate(0.1, 2).ok).toBe(true);
    expect(t.kicks()).toBe(0);
    expect(t.channels.map((c) => c.targetMa)).toStrictEqual([2.5, 2.6]);
    expect(t.titration.titrate(-0.1, 1).ok).toBe(true);
    expect(t.kicks()).toBe(1);
    expect(t.titration.titrate(-0.5).ok).toBe(true);
    expect(t.kicks()).toBe(2);
    expect(t.channels.map((c) => c.targetMa)).toStrictEqual([1.9, 2.1]);
    expect(t.published()).toBe(4);
  });
});
