/**
 * The mutants left alive in ramp.ts by its own tests (MUTATION.md, the session group). The slew
 * rule and the titration plan exactly at their boundaries (a fall of TOLERANCE, a rise that
 * floors to TOLERANCE above the commanded amplitude, a step landing exactly on the phase maximum,
 * a target exactly at TOLERANCE going down, a step of 0); and the controller on virtual time with
 * a device that holds each AMP until the test answers it: one step at a time, nothing without a
 * device, channels off or not started left alone, a step interrupted while its AMP was on the
 * wire leaving no trace, the record's cause, the guard's whole refusal, and "at target" only
 * when every channel is there.
 */
import { describe, expect, it } from 'vitest';
import { type AmplitudeChange, type Checked, checkStimulation } from '../../../src/domain/safety/guard.js';
import { TOLERANCE } from '../../../src/domain/safety/limits.js';
import type { DeviceLimits } from '../../../src/domain/stimulation.js';
import type { DeviceInfo } from '../../../src/device/identity.js';
import { phaseLimits, phaseParams } from '../../../src/session/plan.js';
import { type ChannelControl, RAMP_STEP_MS, type RampContext, RampController, floorMa, nextRampAmplitude, planTitration } from '../../../src/session/ramp.js';
import type { SessionState } from '../../../src/session/states.js';
import { TWO_CHANNEL_LIMITS } from '../../support/device-fixtures.js';
import { kneeProtocol } from '../../support/session-harness.js';
import { ManualScheduler, settle } from '../../support/virtual-time.js';

const protocol = kneeProtocol();
const limits = phaseLimits(protocol, 0);

describe('H11 nextRampAmplitude at its boundaries', () => {
  it('H11 a target TOLERANCE below the commanded amplitude is at target: nothing is sent', () => {
    expect(nextRampAmplitude({ amplitudeMa: 1, atMs: 0 }, 1 - TOLERANCE, 10_000, limits)).toBeUndefined();
  });

  it('H11 a target exactly TOLERANCE above the commanded amplitude is at target, even where flooring to µA would round up', () => {
    const from = 1 - 1.5e-9;
    const target = from + TOLERANCE;
    expect(floorMa(target)).toBe(1); // a step would be taken to 1 mA, above the target
    expect(nextRampAmplitude({ amplitudeMa: from, atMs: 0 }, target, 10_000, limits)).toBeUndefined();
  });

  it('H11 a rise that floors to exactly TOLERANCE above the commanded amplitude is not sent', () => {
    const from = 1 - TOLERANCE;
    expect(from + TOLERANCE).toBe(1); // the boundary itself
    expect(nextRampAmplitude({ amplitudeMa: from, atMs: 0 }, 1.0005, 10_000, limits)).toBeUndefined();
    expect(nextRampAmplitude({ amplitudeMa: from, atMs: 0 }, 1.0015, 10_000, limits)).toBe(1.001);
  });
});

describe('H29 planTitration at its boundaries', () => {
  it('H29 a step landing exactly on the phase maximum (+ TOLERANCE) is taken', () => {
    const maxMa = 3 - TOLERANCE;
    expect(maxMa + TOLERANCE).toBe(3);
    expect(planTitration([{ channel: 1, targetMa: 2.9 }], 0.1, { name: 'main', maxMa })).toStrictEqual({ targets: [{ channel: 1, targetMa: 3 }], refused: [] });
  });

  it('H29 a target of TOLERANCE counts as 0 mA going down', () => {
    expect(planTitration([{ channel: 1, targetMa: TOLERANCE }], -0.1, { name: 'main', maxMa: 3 })).toStrictEqual({ targets: [], refused: [{ channel: 1, reason: 'channel 1 is already at 0 mA' }] });
  });

  it('H29 a step of 0 at 0 mA is no step down: the target stays, nothing is refused', () => {
    expect(planTitration([{ channel: 1, targetMa: 0 }], 0, { name: 'main', maxMa: 3 })).toStrictEqual({ targets: [{ channel: 1, targetMa: 0 }], refused: [] });
  });
});

type Answer = { ok: true; value: undefined } | { ok: false; error: never };

/** The controller with two channels on at 0 mA; each AMP waits in `answers` until answered. */
function setup(opts: { info?: DeviceLimits | null; state?: SessionState } = {}) {
  const s = new ManualScheduler();
  const log: string[] = [];
  const records: { type: string; data: unknown }[] = [];
  const answers: ((a: Answer) => void)[] = [];
  let state: SessionState = opts.state ?? 'ramping';
  let epoch = 0;
  let reached = 0;
  let published = 0;
  const channels: ChannelControl[] = protocol.channels.map((c) => {
    const checked = checkStimulation(phaseParams(protocol, 0, c.channel, 60_000), { device: TWO_CHANNEL_LIMITS, protocol: limits, electrode: protocol.electrode });
    if (!checked.ok) throw new Error('fixture refused by the guard');
    return { channel: c.channel, region: c.region, side: c.side, sites: c.sites, targetMa: 0, commanded: { amplitudeMa: 0, atMs: 0 }, active: checked.checked, on: true, measuredMa: null, impedance: null };
  });
  const info = opts.info === null ? undefined : ({ limits: opts.info ?? TWO_CHANNEL_LIMITS } as DeviceInfo);
  const ctx: RampContext = {
    scheduler: s,
    client: {
      info,
      setAmplitude: (c: Checked<AmplitudeChange>) => {
        log.push(`AMP ${c.value.channel} ${c.value.amplitudeMa}`);
        return new Promise<Answer>((resolve) => answers.push(resolve));
      },
    },
    monitor: { commanding: (ch, ma) => log.push(`commanding ${ch} ${ma}`), acknowledged: (ch, ma) => log.push(`acknowledged ${ch} ${ma}`) },
    noteWarnings: () => undefined,
    record: (type, data) => records.push({ type, data }),
    state: () => state,
    epoch: () => epoch,
    starting: () => false,
    protocol: () => protocol,
    phaseIndex: () => 0,
    channels: () => channels,
    failOutput: () => Promise.resolve(),
    reachedTargets: () => {
      reached += 1;
      state = 'running';
    },
    publish: () => (published += 1),
  };
  const ramp = new RampController(ctx);
  /** Answer every AMP waiting with OK and let the step go on. */
  const ackAll = async () => {
    answers.splice(0).forEach((f) => f({ ok: true, value: undefined }));
    await settle();
  };
  return {
    s,
    ramp,
    log,
    records,
    channels,
    ackAll,
    interrupt: () => (epoch += 1),
    get reached() {
      return reached;
    },
    get published() {
      return published;
    },
  };
}

describe('H11 RampController, mutation survivors', () => {
  it('H11 one step at a time: a step asked for while an AMP is on the wire sends nothing', async () => {
    const h = setup();
    h.channels[0]!.targetMa = 1;
    h.s.advance(RAMP_STEP_MS);
    const first = h.ramp.step();
    const second = h.ramp.step();
    await settle();
    expect(h.log).toStrictEqual(['commanding 1 0.1', 'AMP 1 0.1']);
    await h.ackAll();
    await Promise.all([first, second]);
    expect(h.log).toStrictEqual(['commanding 1 0.1', 'AMP 1 0.1', 'acknowledged 1 0.1']);
  });

  it('H11 without a device nothing is sent, the session is not at target and nothing is published', async () => {
    const h = setup({ info: null });
    h.s.advance(RAMP_STEP_MS);
    await expect(h.ramp.step()).resolves.toBeUndefined();
    expect(h.reached).toBe(0);
    expect(h.published).toBe(0);
    h.channels[0]!.targetMa = 1;
    await expect(h.ramp.step()).resolves.toBeUndefined();
    expect(h.log).toStrictEqual([]);
    expect(h.records).toStrictEqual([]);
  });

  it('H11 a channel that is off, or on without a started program, is left alone', async () => {
    const h = setup({ state: 'running' });
    h.channels[0]!.on = false;
    h.channels[0]!.targetMa = 1;
    h.channels[1]!.active = undefined;
    h.channels[1]!.targetMa = 1;
    h.s.advance(RAMP_STEP_MS);
    await h.ramp.step();
    expect(h.log).toStrictEqual([]);
    expect(h.records).toStrictEqual([]);
  });

  it('H11 H10 a step interrupted while its AMP was on the wire leaves the commanded amplitude, the monitor and the records as they were', async () => {
    const h = setup();
    h.channels[0]!.targetMa = 1;
    h.s.advance(RAMP_STEP_MS);
    const step = h.ramp.step();
    await settle();
    h.interrupt();
    await h.ackAll();
    await step;
    expect(h.log).toStrictEqual(['commanding 1 0.1', 'AMP 1 0.1']);
    expect(h.channels[0]!.commanded).toStrictEqual({ amplitudeMa: 0, atMs: 0 });
    expect(h.records).toStrictEqual([]);
  });

  it('H10 a rise while running is recorded as a titration, while ramping as the ramp', async () => {
    for (const [state, cause] of [
      ['running', 'titration'],
      ['ramping', 'ramp'],
    ] as const) {
      const h = setup({ state });
      h.channels[0]!.targetMa = 1;
      h.s.advance(RAMP_STEP_MS);
      const step = h.ramp.step();
      await h.ackAll();
      await step;
      expect(h.records).toStrictEqual([{ type: 'amplitude', data: { channel: 1, targetMa: 1, commandedMa: 0.1, cause } }]);
      expect(h.channels[0]!.commanded).toStrictEqual({ amplitudeMa: 0.1, atMs: RAMP_STEP_MS });
    }
  });

  it('H1 H10 a step the guard refuses for two reasons is recorded with both, joined by "; "', async () => {
    const h = setup({ info: { ...TWO_CHANNEL_LIMITS, amplitudeMa: { min: 0, max: 0.05 }, maxChargePerPhaseUc: 0.001 } });
    h.channels[0]!.targetMa = 1;
    h.s.advance(RAMP_STEP_MS);
    await h.ramp.step();
    expect(h.log).toStrictEqual([]);
    expect(h.records).toStrictEqual([
      {
        type: 'warning',
        data: {
          channel: 1,
          limit: 'guard',
          message: '0.1 mA is above the 0.05 mA maximum amplitude (allowed 0-0.05 mA) of this device [device HELLO]; charge per phase 0.025 µC is above the 0.001 µC maximum charge per phase of this device [device HELLO]',
        },
      },
    ]);
  });

  it('H11 not at target while one channel is still rising, though the other is there', async () => {
    const h = setup();
    h.channels[1]!.targetMa = 1;
    h.s.advance(RAMP_STEP_MS);
    const step = h.ramp.step();
    await h.ackAll();
    await step;
    expect(h.log).toStrictEqual(['commanding 2 0.1', 'AMP 2 0.1', 'acknowledged 2 0.1']);
    expect(h.reached).toBe(0);
  });

  it('H11 a target TOLERANCE away from the commanded amplitude is not "at target"', async () => {
    const h = setup();
    h.channels[0]!.targetMa = TOLERANCE;
    h.s.advance(RAMP_STEP_MS);
    await h.ramp.step();
    expect(h.log).toStrictEqual([]);
    expect(h.reached).toBe(0);
    h.channels[0]!.targetMa = 0;
    await h.ramp.step();
    expect(h.reached).toBe(1);
  });

  it('H11 a channel on with no amplitude commanded yet counts as at 0 mA (the step does not fail)', async () => {
    const h = setup();
    h.channels[0]!.commanded = undefined;
    await expect(h.ramp.step()).resolves.toBeUndefined();
    expect(h.log).toStrictEqual([]);
    expect(h.reached).toBe(1);
    expect(h.published).toBe(1);
  });
});
