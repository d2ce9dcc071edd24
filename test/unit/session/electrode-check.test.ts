/**
 * The electrode check on its own, with a device client over a fake port, so the assertions are on
 * the IMP frames that reached the device: one IMP per protocol channel, in order, each answer
 * judged (open circuit, too low, above the compliance ceiling at the protocol's maxMa), recorded
 * and shown; the start refused until every channel passed; a session that left
 * checking-electrodes while an IMP was on its way sends and records nothing more; a refused IMP
 * returned as a device error with nothing recorded.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type DeviceToHost, type HostToDevice, encode } from '../../../firmware-protocol/index.js';
import { DeviceClient } from '../../../src/device/client.js';
import { ElectrodeCheck } from '../../../src/session/electrode-check.js';
import type { ChannelControl } from '../../../src/session/ramp.js';
import type { SessionState } from '../../../src/session/states.js';
import { HELLO, politeDevice } from '../../support/device-fixtures.js';
import { FakeTransport } from '../../support/fake-transport.js';
import { kneeProtocol } from '../../support/session-harness.js';
import { ManualScheduler, settle } from '../../support/virtual-time.js';

let clients: DeviceClient[] = [];
afterEach(() => {
  for (const c of clients) c.dispose();
  clients = [];
});

/**
 * The knee protocol (channels 1 and 2, maxMa 10) on a device with HELLO's 80 V compliance; `z`
 * answers each IMP by channel, or leaves it unanswered (undefined) for the test to answer by hand.
 */
async function setup(z: (ch: number) => number | 'OPEN' | { err: 'BAD_ARG' } | undefined = () => 1500) {
  const s = new ManualScheduler();
  const transport = new FakeTransport();
  const polite = politeDevice();
  const held: HostToDevice[] = [];
  transport.device = (req): DeviceToHost[] | undefined => {
    if (req.verb !== 'IMP') return polite(req);
    const answer = z(req.args.ch);
    if (answer === undefined) {
      held.push(req);
      return undefined;
    }
    if (typeof answer === 'object') return [{ type: 'err', seq: req.seq, args: { code: answer.err } }];
    return [{ type: 'ok', seq: req.seq, verb: 'IMP', args: { ch: req.args.ch, z: answer } }];
  };
  const client = new DeviceClient({ transport, scheduler: s });
  clients.push(client);
  if (!(await client.connect()).ok) throw new Error('handshake failed');
  transport.written.length = 0; // the handshake's HELLO
  const protocol = kneeProtocol();
  const channels: ChannelControl[] = protocol.channels.map((c) => ({ channel: c.channel, region: c.region, side: c.side, sites: c.sites, targetMa: 0, commanded: undefined, active: undefined, on: false, measuredMa: null, impedance: null }));
  const records: { type: string; data: unknown }[] = [];
  let state: SessionState = 'checking-electrodes';
  let published = 0;
  const check = new ElectrodeCheck({
    client,
    journal: { record: (type, data) => records.push({ type, data: structuredClone(data) }) },
    state: () => state,
    protocol: () => protocol,
    channels: () => channels,
    publish: () => (published += 1),
  });
  /** What the host wrote to the device, as verb and channel. */
  const frames = () => transport.requests().map((r) => `${r.verb} ${'ch' in r.args ? r.args.ch : ''}`.trim());
  const answer = (req: HostToDevice, value: number) => {
    if (req.verb !== 'IMP') throw new Error(`not an IMP: ${req.verb}`);
    transport.receive(encode({ type: 'ok', seq: req.seq, verb: 'IMP', args: { ch: req.args.ch, z: value } }));
  };
  return {
    check,
    channels,
    records,
    held,
    frames,
    answer,
    published: () => published,
    set state(v: SessionState) {
      state = v;
    },
  };
}

describe('ElectrodeCheck', () => {
  it('H13 one IMP per protocol channel, in order; every result judged, recorded, shown; then the start may go ahead', async () => {
    const h = await setup(() => 1500);
    expect(h.check.startRefusal()).toMatchObject({ ok: false, error: { code: 'ElectrodesNotReady', message: 'cannot start: the electrodes have not been checked' } });
    const r = await h.check.check();
    expect(h.frames()).toEqual(['IMP 1', 'IMP 2']);
    const results = [
      { channel: 1, impedanceOhm: 1500, ok: true },
      { channel: 2, impedanceOhm: 1500, ok: true },
    ];
    expect(r).toEqual({ ok: true, value: results });
    expect(h.check.results).toEqual(results);
    expect(h.channels.map((c) => c.impedance)).toEqual([1500, 1500]);
    expect(h.records).toEqual([{ type: 'electrodes', data: { results } }]);
    expect(h.published()).toBe(1);
    expect(h.check.startRefusal()).toBeUndefined();
  });

  it('H13 an open circuit, a short, or a load above the compliance ceiling at the protocol maxMa blocks the start, naming the channel and what to do', async () => {
    // 80 V / 10 mA = 8000 ohm: 9000 ohm is within the 10 kohm band but beyond what the device can drive.
    for (const [z, reason] of [
      ['OPEN', 'Channel 2 open circuit: check the clip on the needle, then check again'],
      [50, 'Channel 2 impedance 50 ohm is below 100 ohm: the needles or clips may be touching; separate them, then check again'],
      [9000, `Channel 2 impedance 9000 ohm is above 8000 ohm (the device cannot drive 10 mA through it within ${HELLO.vc} V): check needle depth and clip, then check again`],
    ] as const) {
      const h = await setup((ch) => (ch === 2 ? z : 1500));
      const r = await h.check.check();
      expect(r.ok && r.value[1]).toEqual({ channel: 2, impedanceOhm: z, ok: false, reason });
      expect(h.records).toHaveLength(1);
      expect(h.check.startRefusal()).toEqual({ ok: false, error: { code: 'ElectrodesNotReady', message: `cannot start: ${reason}` } });
    }
  });

  it('a session that left checking-electrodes while an IMP was on its way: no more IMP, nothing recorded, refused as not allowed now', async () => {
    const h = await setup(() => undefined);
    const p = h.check.check();
    await settle();
    expect(h.frames()).toEqual(['IMP 1']);
    h.state = 'ready'; // cancelled while the device measures
    h.answer(h.held[0]!, 1500);
    const r = await p;
    expect(!r.ok && r.error).toMatchObject({ code: 'IllegalInState', action: 'checkElectrodes', state: 'ready' });
    await settle();
    expect(h.frames()).toEqual(['IMP 1']);
    expect(h.records).toEqual([]);
    expect(h.published()).toBe(0);
    expect(h.check.results).toEqual([]);
  });

  it('a refused IMP is a device error: nothing recorded, and the last complete check still stands', async () => {
    let refuse = false;
    const h = await setup((ch) => (refuse && ch === 2 ? { err: 'BAD_ARG' } : 1500));
    expect((await h.check.check()).ok).toBe(true);
    refuse = true;
    const r = await h.check.check();
    expect(!r.ok && r.error.code).toBe('Device');
    expect(h.frames()).toEqual(['IMP 1', 'IMP 2', 'IMP 1', 'IMP 2']);
    expect(h.records).toHaveLength(1);
    expect(h.check.results.map((e) => e.ok)).toEqual([true, true]);
    h.check.reset();
    expect(h.check.results).toEqual([]);
    expect(h.check.startRefusal()?.error.code).toBe('ElectrodesNotReady');
  });
});
