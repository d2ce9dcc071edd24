/**
 * Titration on its own, on virtual time, wired to the ramp controller and a device client over a
 * fake port, so the assertions are on the AMP frames that reached the device: a step only moves
 * targets (titrate itself writes nothing), the ramp then rises within the slew allowance one rise
 * window apart, a step down is commanded at once, a channel that cannot take the step keeps its
 * target and is named, and a refused step changes nothing and records nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { checkStimulation } from '../../../src/domain/safety/guard.js';
import { DeviceClient } from '../../../src/device/client.js';
import { phaseLimits, phaseParams } from '../../../src/session/plan.js';
import { type ChannelControl, RAMP_STEP_MS, RampController } from '../../../src/session/ramp.js';
import type { SessionState } from '../../../src/session/states.js';
import { Titration } from '../../../src/session/titration.js';
import { politeDevice } from '../../support/device-fixtures.js';
import { FakeTransport } from '../../support/fake-transport.js';
import { kneeProtocol } from '../../support/session-harness.js';
import { ManualScheduler, settle } from '../../support/virtual-time.js';

let clients: DeviceClient[] = [];
afterEach(() => {
  for (const c of clients) c.dispose();
  clients = [];
});

/** The knee protocol (channels 1 and 2, maxMa 10, ramp 0.5 mA/s) running at `startMa` on both channels. */
async function setup(startMa = 1) {
  const s = new ManualScheduler();
  const transport = new FakeTransport();
  const polite = politeDevice();
  /** AMP frames the device received: when, on which channel, in mA. */
  const amps: { t: number; ch: number; ma: number }[] = [];
  transport.device = (req) => {
    if (req.verb === 'AMP') amps.push({ t: s.now(), ch: req.args.ch, ma: req.args.amp / 1000 });
    return polite(req);
  };
  const client = new DeviceClient({ transport, scheduler: s });
  clients.push(client);
  const hello = await client.connect();
  if (!hello.ok) throw new Error('handshake failed');
  const protocol = kneeProtocol();
  const phase = protocol.phases[0]!;
  const channels: ChannelControl[] = protocol.channels.map((c) => {
    const checked = checkStimulation(phaseParams(protocol, 0, c.channel, 600_000), { device: hello.value.limits, protocol: phaseLimits(protocol, 0), electrode: protocol.electrode });
    if (!checked.ok) throw new Error('fixture refused by the guard');
    return { channel: c.channel, region: c.region, side: c.side, sites: c.sites, targetMa: startMa, commanded: { amplitudeMa: startMa, atMs: 0 }, active: checked.checked, on: true, measuredMa: null, impedance: null };
  });
  const records: { type: string; data: unknown }[] = [];
  const state: SessionState = 'running';
  let published = 0;
  const ramp = new RampController({
    scheduler: s,
    client,
    monitor: { commanding: () => undefined, acknowledged: () => undefined },
    noteWarnings: () => undefined,
    record: () => undefined,
    state: () => state,
    epoch: () => 0,
    starting: () => false,
    protocol: () => protocol,
    phaseIndex: () => 0,
    channels: () => channels,
    failOutput: (e) => Promise.reject(new Error(`unexpected failure ${e.code}`)),
    reachedTargets: () => undefined,
    publish: () => undefined,
  });
  const titration = new Titration({
    channels: () => channels,
    phase: () => ({ name: phase.name, maxMa: phase.amplitude.maxMa }),
    journal: { record: (type, data) => records.push({ type, data }) },
    kickRamp: () => ramp.kick(),
    publish: () => (published += 1),
  });
  transport.written.length = 0; // the handshake's HELLO
  /** The session loop: a ramp step every 50 ms, promises settled in between. */
  const run = async (ms: number) => {
    for (let t = 0; t < ms; t += 50) {
      s.advance(50);
      void ramp.step();
      await settle();
    }
  };
  return { s, transport, channels, records, titration, amps, run, published: () => published };
}

/** 0.5 mA/s over one rise window. */
const MAX_STEP_MA = (0.5 * RAMP_STEP_MS) / 1000;

describe('Titration', () => {
  it('H11 H19 a step up on every channel moves the targets only; the ramp then rises within the slew allowance, one window apart', async () => {
    const h = await setup(1);
    const r = h.titration.titrate(0.5);
    expect(r).toEqual({ ok: true, value: { targets: [{ channel: 1, targetMa: 1.5 }, { channel: 2, targetMa: 1.5 }], refused: [] } });
    expect(h.transport.written).toEqual([]);
    expect(h.records).toEqual([{ type: 'titration', data: { channel: null, deltaMa: 0.5, targetMa: 1.5, channels: [{ channel: 1, targetMa: 1.5 }, { channel: 2, targetMa: 1.5 }] } }]);
    expect(h.published()).toBe(1);
    await h.run(3000);
    for (const ch of [1, 2]) {
      const sent = h.amps.filter((a) => a.ch === ch);
      expect(sent.at(-1)!.ma).toBe(1.5);
      expect(sent.length).toBeGreaterThanOrEqual(Math.ceil(0.5 / MAX_STEP_MA));
      let prev = { t: 0, ma: 1 };
      for (const a of sent) {
        expect(a.ma - prev.ma).toBeLessThanOrEqual(MAX_STEP_MA + 1e-9);
        expect(a.t - prev.t).toBeGreaterThanOrEqual(RAMP_STEP_MS);
        prev = a;
      }
    }
  });

  it('a step on one channel moves only that channel: the other receives no AMP', async () => {
    const h = await setup(1);
    const r = h.titration.titrate(0.1, 2);
    expect(r.ok && r.value.targets).toEqual([{ channel: 2, targetMa: 1.1 }]);
    expect(h.records[0]!.data).toMatchObject({ channel: 2, deltaMa: 0.1, targetMa: 1.1 });
    await h.run(1000);
    expect(h.amps.map((a) => [a.ch, a.ma])).toEqual([[2, 1.1]]);
    expect(h.channels.map((c) => c.targetMa)).toEqual([1, 1.1]);
  });

  it('a step down is commanded at once, without waiting for the rise window or the next tick', async () => {
    const h = await setup(2);
    const at = h.s.now();
    const r = h.titration.titrate(-0.5);
    expect(r.ok).toBe(true);
    expect(h.amps).toEqual([]); // titrate wrote nothing itself: the kicked ramp does, on the scheduler
    h.s.advance(0);
    await settle();
    expect(h.amps).toEqual([
      { t: at, ch: 1, ma: 1.5 },
      { t: at, ch: 2, ma: 1.5 },
    ]);
  });

  it('H29 an "all channels" step one channel cannot take: the others move, that one keeps its target, named with the reason', async () => {
    const h = await setup(9.6);
    h.channels[1]!.targetMa = 9.5;
    const r = h.titration.titrate(0.5);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.targets).toEqual([{ channel: 2, targetMa: 10 }]);
    expect(r.value.refused).toEqual([{ channel: 1, reason: "10.1 mA is above 10 mA, the maximum of phase 'periosteal EDN'; channel 1 stays at 9.6 mA" }]);
    expect(h.records[0]!.data).toMatchObject({ channel: null, targetMa: 10, refused: [{ channel: 1 }] });
    expect(h.channels.map((c) => c.targetMa)).toEqual([9.6, 10]);
    await h.run(2000);
    expect(h.amps.every((a) => a.ch === 2 && a.ma <= 10)).toBe(true);
    expect(h.amps.at(-1)).toMatchObject({ ch: 2, ma: 10 });
  });

  it('refused as a whole when no channel can take it (above the maximum: LimitExceeded; below 0 mA: Invalid); nothing moves, nothing is recorded or sent', async () => {
    const h = await setup(10);
    const up = h.titration.titrate(0.1);
    expect(!up.ok && up.error.code).toBe('LimitExceeded');
    expect(!up.ok && up.error.message).toContain('channel 1 stays at 10 mA');
    const low = await setup(0);
    const down = low.titration.titrate(-0.1, 1);
    expect(!down.ok && down.error).toEqual({ code: 'Invalid', message: 'channel 1 is already at 0 mA' });
    for (const x of [h, low]) {
      await x.run(1000);
      expect(x.records).toEqual([]);
      expect(x.amps).toEqual([]);
      expect(x.published()).toBe(0);
    }
    expect(h.channels.map((c) => c.targetMa)).toEqual([10, 10]);
  });

  it('a step that is not one of the offered steps, or a channel not in the protocol, is refused naming it', async () => {
    const h = await setup(1);
    expect(h.titration.titrate(0.2)).toEqual({ ok: false, error: { code: 'Invalid', message: 'titration steps are ±0.1 and ±0.5 mA, not 0.2' } });
    expect(h.titration.titrate(0.1, 3)).toEqual({ ok: false, error: { code: 'Invalid', message: 'channel 3 is not part of this protocol' } });
    expect(h.records).toEqual([]);
    expect(h.channels.map((c) => c.targetMa)).toEqual([1, 1]);
  });
});
