/**
 * The mutants left alive in electrode-check.ts by its own test (MUTATION.md, the session group),
 * killed with a device client over a fake port, by the IMP frames that reached the device and the
 * results: no device is refused before any IMP is sent; the compliance ceiling is judged at the
 * protocol's highest maxMa over all its phases, not its lowest.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Protocol } from '../../../src/domain/protocols/derive.js';
import { DeviceClient } from '../../../src/device/client.js';
import { ElectrodeCheck } from '../../../src/session/electrode-check.js';
import type { ChannelControl } from '../../../src/session/ramp.js';
import { HELLO, politeDevice } from '../../support/device-fixtures.js';
import { FakeTransport } from '../../support/fake-transport.js';
import { kneePhases } from '../../support/short-protocol.js';
import { ManualScheduler } from '../../support/virtual-time.js';

let clients: DeviceClient[] = [];
afterEach(() => {
  for (const c of clients) c.dispose();
  clients = [];
});

const twoPhases = (): Protocol => kneePhases([{ name: 'lower', durationMin: 5, maxMa: 8 }, { name: 'higher', durationMin: 10, maxMa: 10 }]);

/** HELLO's 80 V compliance; every IMP answered with `z` ohm. */
async function setup(z: number, connected = true) {
  const s = new ManualScheduler();
  const transport = new FakeTransport();
  const polite = politeDevice();
  transport.device = (req) => (req.verb === 'IMP' ? [{ type: 'ok', seq: req.seq, verb: 'IMP', args: { ch: req.args.ch, z } }] : polite(req));
  const client = new DeviceClient({ transport, scheduler: s });
  clients.push(client);
  if (connected && !(await client.connect()).ok) throw new Error('handshake failed');
  transport.written.length = 0; // the handshake's HELLO
  const protocol = twoPhases();
  const channels: ChannelControl[] = protocol.channels.map((c) => ({ channel: c.channel, region: c.region, side: c.side, sites: c.sites, targetMa: 0, commanded: undefined, active: undefined, on: false, measuredMa: null, impedance: null }));
  const records: { type: string; data: unknown }[] = [];
  const check = new ElectrodeCheck({
    client,
    journal: { record: (type, data) => records.push({ type, data: structuredClone(data) }) },
    state: () => 'checking-electrodes',
    protocol: () => protocol,
    channels: () => channels,
    publish: () => undefined,
  });
  return { check, records, channels, verbs: () => transport.requests().map((r) => r.verb) };
}

describe('ElectrodeCheck, mutation survivors', () => {
  it('H13 no device: refused as NotConnected before any IMP; nothing recorded, the start still refused', async () => {
    const h = await setup(1500, false);
    expect(await h.check.check()).toStrictEqual({ ok: false, error: { code: 'NotConnected', message: 'the device is not connected' } });
    expect(h.verbs()).toStrictEqual([]);
    expect(h.records).toStrictEqual([]);
    expect(h.channels.map((c) => c.impedance)).toStrictEqual([null, null]);
    expect(h.check.startRefusal()).toStrictEqual({ ok: false, error: { code: 'ElectrodesNotReady', message: 'cannot start: the electrodes have not been checked' } });
  });

  it('H13 H14 the compliance ceiling is taken at the highest maxMa of all phases (10 mA: 8000 ohm), not the lowest (8 mA: 10000 ohm)', async () => {
    const h = await setup(9000);
    const r = await h.check.check();
    expect(h.verbs()).toStrictEqual(['IMP', 'IMP']);
    const reason = (ch: number) => `Channel ${ch} impedance 9000 ohm is above 8000 ohm (the device cannot drive 10 mA through it within ${HELLO.vc} V): check needle depth and clip, then check again`;
    expect(r).toStrictEqual({
      ok: true,
      value: [
        { channel: 1, impedanceOhm: 9000, ok: false, reason: reason(1) },
        { channel: 2, impedanceOhm: 9000, ok: false, reason: reason(2) },
      ],
    });
    expect(h.check.startRefusal()).toStrictEqual({ ok: false, error: { code: 'ElectrodesNotReady', message: `cannot start: ${reason(1)}` } });
  });
});
