// The device client's refusals at the choke point, checked by what reached the port: no SET,
// START or AMP frame before a handshake, while the e-stop is latched, or after the device
// rebooted or lost the session. Written for the mutation campaign (MUTATION.md): the device
// group's survivors showed only SET was ever tried in these states.
import { afterEach, describe, expect, it } from 'vitest';
import { encode } from '../../../firmware-protocol/index.js';
import { DeviceClient } from '../../../src/device/client.js';
import type { DeviceError } from '../../../src/device/errors.js';
import { checked, checkedAmp, HELLO, politeDevice } from '../../support/device-fixtures.js';
import { FakeTransport } from '../../support/fake-transport.js';
import { ManualScheduler, settle } from '../../support/virtual-time.js';
import { ACK_TIMEOUT_MS } from '../../../src/device/timing.js';

let clients: DeviceClient[] = [];
afterEach(() => {
  for (const c of clients) c.dispose();
  clients = [];
});

async function setup(connect: boolean) {
  const transport = new FakeTransport();
  transport.device = politeDevice();
  const scheduler = new ManualScheduler();
  const client = new DeviceClient({ transport, scheduler });
  clients.push(client);
  if (connect) expect((await client.connect()).ok).toBe(true);
  const failures: DeviceError[] = [];
  client.failures$.subscribe((f) => failures.push(f));
  return { transport, client, failures, scheduler };
}

const stimulating = (t: FakeTransport) => t.requests().filter((r) => r.verb === 'SET' || r.verb === 'START' || r.verb === 'AMP');

/** Each stimulating call of the client, on channel 1. */
const CALLS = {
  SET: (c: DeviceClient) => c.stage(checked({ amplitudeMa: 0 })),
  START: (c: DeviceClient) => c.start(checked({ amplitudeMa: 0 })),
  AMP: (c: DeviceClient) => c.setAmplitude(checkedAmp({ channel: 1, amplitudeMa: 0.2, atMs: 200 }, { amplitudeMa: 0, atMs: 0 })),
} as const;

describe('H1 H5 DeviceClient refuses every stimulating verb in a state that allows none', () => {
  it.each(Object.keys(CALLS) as (keyof typeof CALLS)[])('H1 %s before a handshake: NotConnected, nothing written', async (verb) => {
    const { client, transport } = await setup(false);
    expect(await CALLS[verb](client)).toEqual({ ok: false, error: { code: 'NotConnected', verb } });
    expect(transport.written).toHaveLength(0);
  });

  it.each(Object.keys(CALLS) as (keyof typeof CALLS)[])('H5 %s while the e-stop is latched: Cancelled, no frame; allowed again after CLEAR', async (verb) => {
    const { client, transport } = await setup(true);
    expect((await client.estop()).ok).toBe(true);
    expect(await CALLS[verb](client)).toEqual({ ok: false, error: { code: 'Cancelled', verb, reason: 'the e-stop is latched; clear it first' } });
    expect(stimulating(transport)).toHaveLength(0);
    expect((await client.request('CLEAR', {})).ok).toBe(true);
    expect(client.latched).toBe(false);
    expect((await CALLS[verb](client)).ok).toBe(true);
    expect(stimulating(transport).map((r) => r.verb)).toEqual([verb]);
  });

  it('H5 a CLEAR the device refuses leaves the e-stop latched', async () => {
    const { client, transport } = await setup(true);
    expect((await client.estop()).ok).toBe(true);
    transport.device = (req) => [{ type: 'err', seq: req.seq, args: { code: 'STATE' } }];
    expect((await client.request('CLEAR', {})).ok).toBe(false);
    expect(client.latched).toBe(true);
  });

  it('H22 a STATUS reply with a new boot id is a reboot: Rebooted, and no stimulating frame after it', async () => {
    const { client, transport, failures } = await setup(true);
    transport.device = politeDevice({ boot: 'BBBB0002' });
    await client.request('STATUS', {});
    expect(failures).toEqual([{ code: 'Rebooted', previousBootId: HELLO.boot, bootId: 'BBBB0002' }]);
    expect(client.info).toBeUndefined();
    for (const call of Object.values(CALLS)) expect(await call(client)).toMatchObject({ ok: false, error: { code: 'Rebooted' } });
    expect(stimulating(transport)).toHaveLength(0);
  });

  it('H22 a STATUS reply with the same boot id changes nothing', async () => {
    const { client, transport, failures } = await setup(true);
    transport.device = politeDevice({ boot: HELLO.boot });
    await client.request('STATUS', {});
    expect(failures).toEqual([]);
    expect((await CALLS.SET(client)).ok).toBe(true);
  });

  it('H22 NO_HELLO from a device that had a session is SessionLost: the limits are forgotten, nothing stimulating is sent', async () => {
    const { client, transport, failures } = await setup(true);
    transport.device = (req) => [{ type: 'err', seq: req.seq, args: { code: 'NO_HELLO', msg: 'power cycled' } }];
    expect((await client.request('STOP', { ch: 1 })).ok).toBe(false);
    expect(failures).toEqual([{ code: 'SessionLost', verb: 'STOP', detail: 'power cycled' }]);
    expect(client.info).toBeUndefined();
    transport.device = politeDevice();
    for (const call of Object.values(CALLS)) expect(await call(client)).toMatchObject({ ok: false, error: { code: 'SessionLost' } });
    expect(stimulating(transport)).toHaveLength(0);
  });

  it('H18 a reply naming another verb is refused as UnexpectedReply', async () => {
    const { client, transport } = await setup(true);
    transport.device = (req) => [{ type: 'ok', seq: req.seq, verb: 'STOP', args: { ch: 1 } }];
    expect(await CALLS.START(client)).toMatchObject({ ok: false, error: { code: 'UnexpectedReply', verb: 'START', got: 'OK STOP' } });
  });
});

describe('H5 an e-stop in flight outlives a reboot, and is confirmed only by a latched reply', () => {
  const estops = (t: FakeTransport) => t.requests().filter((r) => r.verb === 'ESTOP').length;

  it('H5 H22 a reboot while the ESTOP is unanswered does not settle it: it is repeated until acknowledged', async () => {
    const { client, transport, scheduler } = await setup(true);
    transport.device = () => undefined;
    let result: unknown;
    void client.estop().then((r) => (result = r));
    transport.receive(encode({ type: 'event', event: 'BOOT', args: { boot: 'BBBB0002', proto: 1 } }));
    await settle();
    expect(result).toBeUndefined();
    const before = estops(transport);
    scheduler.advance(ACK_TIMEOUT_MS);
    expect(estops(transport)).toBe(before + 1);
    transport.device = politeDevice();
    scheduler.advance(ACK_TIMEOUT_MS);
    await settle();
    expect(result).toEqual({ ok: true, value: undefined });
  });

  it('H5 a pulled port settles the ESTOP as Disconnected', async () => {
    const { client, transport } = await setup(true);
    transport.device = () => undefined;
    const e = client.estop();
    transport.pull();
    expect(await e).toMatchObject({ ok: false, error: { code: 'Disconnected' } });
  });

  it('H5 an ESTOP answered as not latched is no confirmation: it is repeated', async () => {
    const { client, transport, scheduler } = await setup(true);
    transport.device = (req) => (req.verb === 'ESTOP' ? [{ type: 'ok', seq: req.seq, verb: 'ESTOP', args: { latched: false } }] : []);
    let result: unknown;
    void client.estop().then((r) => (result = r));
    await settle();
    expect(result).toBeUndefined();
    transport.device = politeDevice();
    scheduler.advance(ACK_TIMEOUT_MS);
    await settle();
    expect(result).toEqual({ ok: true, value: undefined });
    expect(estops(transport)).toBe(2);
  });
});
