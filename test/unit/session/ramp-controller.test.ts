/**
 * The ramp controller on its own, on virtual time, with a device that records every AMP it is
 * sent: steps one rise window apart, each from a Checked value and no more than the slew allowance,
 * the commanded amplitude moved only on an acknowledgement, nothing more after an interruption,
 * and "at target" only once every channel is on and there.
 */
import { describe, expect, it } from 'vitest';
import type { Protocol } from '../../../src/domain/protocols/derive.js';
import { type AmplitudeChange, type Checked, checkStimulation, isChecked } from '../../../src/domain/safety/guard.js';
import { HARD_LIMITS } from '../../../src/domain/safety/limits.js';
import type { DeviceLimits } from '../../../src/domain/stimulation.js';
import type { DeviceError } from '../../../src/device/errors.js';
import type { DeviceInfo } from '../../../src/device/identity.js';
import { phaseLimits, phaseParams } from '../../../src/session/plan.js';
import { type ChannelControl, RAMP_STEP_MS, type RampContext, RampController } from '../../../src/session/ramp.js';
import type { SessionState } from '../../../src/session/states.js';
import { TWO_CHANNEL_LIMITS } from '../../support/device-fixtures.js';
import { kneeProtocol } from '../../support/session-harness.js';
import { ManualScheduler, settle } from '../../support/virtual-time.js';

const limits: DeviceLimits = TWO_CHANNEL_LIMITS;

function setup(
  protocol: Protocol = kneeProtocol(),
  answer: (c: Checked<AmplitudeChange>) => { ok: true; value: undefined } | { ok: false; error: DeviceError } = () => ({ ok: true, value: undefined }),
  infoLimits: DeviceLimits = limits,
) {
  const s = new ManualScheduler();
  const sent: { t: number; ch: number; ma: number; checked: boolean }[] = [];
  const records: { type: string; data: unknown }[] = [];
  const failures: DeviceError[] = [];
  let state: SessionState = 'ramping';
  let epoch = 0;
  let starting = false;
  let reached = 0;
  let pending: Promise<void> | undefined;
  const channels: ChannelControl[] = protocol.channels.map((c) => {
    const checked = checkStimulation(phaseParams(protocol, 0, c.channel, 60_000), { device: limits, protocol: phaseLimits(protocol, 0), electrode: protocol.electrode });
    if (!checked.ok) throw new Error('fixture refused by the guard');
    return { channel: c.channel, region: c.region, side: c.side, sites: c.sites, targetMa: 0, commanded: { amplitudeMa: 0, atMs: 0 }, active: checked.checked, on: true, measuredMa: null, impedance: null };
  });
  const ctx: RampContext = {
    scheduler: s,
    client: {
      info: { limits: infoLimits } as DeviceInfo,
      setAmplitude: (c) => {
        sent.push({ t: s.now(), ch: c.value.channel, ma: c.value.amplitudeMa, checked: isChecked(c) });
        return Promise.resolve(answer(c));
      },
    },
    monitor: { commanding: () => undefined, acknowledged: () => undefined },
    noteWarnings: () => undefined,
    record: (type, data) => records.push({ type, data }),
    state: () => state,
    epoch: () => epoch,
    starting: () => starting,
    protocol: () => protocol,
    phaseIndex: () => 0,
    channels: () => channels,
    failOutput: (e) => {
      failures.push(e);
      state = 'aborted'; // as the runner's abort does
      return Promise.resolve();
    },
    reachedTargets: () => {
      reached += 1;
      state = 'running';
    },
    publish: () => undefined,
  };
  const ramp = new RampController(ctx);
  /** The session loop: a step every 50 ms, promises settled in between. */
  const run = async (ms: number) => {
    for (let t = 0; t < ms; t += 50) {
      s.advance(50);
      pending = ramp.step();
      await settle();
    }
    await pending;
  };
  return {
    s,
    ramp,
    sent,
    records,
    failures,
    channels,
    run,
    get reached() {
      return reached;
    },
    set state(v: SessionState) {
      state = v;
    },
    interrupt: () => (epoch += 1),
    set starting(v: boolean) {
      starting = v;
    },
  };
}

const maxStep = (HARD_LIMITS.amplitudeRiseMaxMaPerS.value * RAMP_STEP_MS) / 1000;

describe('RampController', () => {
  it('rises one rise window apart, each step a Checked value within the slew allowance, and is at target once there', async () => {
    const h = setup();
    for (const c of h.channels) c.targetMa = 1;
    await h.run(10_000);
    const ch1 = h.sent.filter((x) => x.ch === 1);
    expect(ch1.length).toBeGreaterThanOrEqual(Math.ceil(1 / maxStep));
    expect(ch1.every((x) => x.checked)).toBe(true);
    expect(ch1.at(-1)!.ma).toBe(1);
    for (let i = 1; i < ch1.length; i++) {
      expect(ch1[i]!.t - ch1[i - 1]!.t).toBeGreaterThanOrEqual(RAMP_STEP_MS);
      expect(ch1[i]!.ma - ch1[i - 1]!.ma).toBeLessThanOrEqual(maxStep + 1e-9);
    }
    expect(h.reached).toBe(1);
    expect(h.channels.map((c) => c.commanded?.amplitudeMa)).toEqual(h.channels.map(() => 1));
    expect(h.records.filter((r) => r.type === 'amplitude').at(-1)!.data).toMatchObject({ commandedMa: 1, cause: 'ramp' });
  });

  it('not at target while channels are still being started', async () => {
    const h = setup();
    h.starting = true;
    await h.run(200);
    expect(h.reached).toBe(0);
    h.starting = false;
    await h.run(50);
    expect(h.reached).toBe(1); // targets are 0: reached as soon as nothing is starting
  });

  it('a refused AMP leaves the commanded amplitude where the device last acknowledged it and hands over the failure', async () => {
    const h = setup(kneeProtocol(), (c) => (c.value.amplitudeMa > 0.5 ? { ok: false, error: { code: 'AckTimeout', verb: 'AMP', seq: 1, attempts: 4 } as unknown as DeviceError } : { ok: true, value: undefined }));
    h.channels[0]!.targetMa = 2;
    await h.run(5000);
    expect(h.failures).toHaveLength(1);
    expect(h.channels[0]!.commanded!.amplitudeMa).toBeLessThanOrEqual(0.5);
    expect(h.channels[0]!.commanded!.amplitudeMa).toBeGreaterThan(0);
  });

  it('after an interruption nothing more is sent or recorded by a step under way; outside ramping/running nothing is sent', async () => {
    const h = setup();
    h.channels[0]!.targetMa = 2;
    await h.run(1000);
    const before = h.sent.length;
    h.interrupt();
    h.state = 'paused';
    await h.run(2000);
    expect(h.sent.length).toBe(before);
  });

  it('a fall is sent at once, without waiting for the rise window', async () => {
    const h = setup();
    h.channels[0]!.targetMa = 1;
    await h.run(10_000);
    const at = h.s.now();
    h.channels[0]!.targetMa = 0.3;
    h.ramp.kick();
    h.s.advance(0);
    await settle();
    expect(h.sent.at(-1)).toMatchObject({ t: at, ch: 1, ma: 0.3 });
  });

  it('a step the guard refuses is held and said once per channel: two channels refused in turn give one warning each, not one per step (H1 H10)', async () => {
    // The device says (after HELLO) it can give at most 0.5 mA: every step above it is refused by
    // the guard. Before the fix one "last refusal" was shared by all channels, so two channels
    // refused in turn wrote a warning on every step (or hid the second channel's, were they equal).
    const h = setup(kneeProtocol(), undefined, { ...limits, amplitudeMa: { min: 0, max: 0.5 } });
    for (const c of h.channels) c.targetMa = 2;
    await h.run(10_000);
    expect(h.channels.length).toBe(2);
    expect(h.sent.every((x) => x.ma <= 0.5)).toBe(true);
    const warnings = h.records.filter((r) => r.type === 'warning').map((r) => r.data as { channel: number; limit: string; message: string });
    expect(warnings.map((w) => w.channel).sort()).toEqual([1, 2]);
    expect(warnings.every((w) => w.limit === 'guard' && w.message.length > 0)).toBe(true);
    for (const c of h.channels) expect(c.commanded!.amplitudeMa).toBeCloseTo(0.5, 6);
    expect(h.reached).toBe(0);
  });
});
