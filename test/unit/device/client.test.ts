import { afterEach, describe, expect, it } from 'vitest';
import { encode } from '../../../firmware-protocol/index.js';
import type { DeviceError } from '../../../src/device/errors.js';
import { DeviceClient } from '../../../src/device/client.js';
import { ACK_RETRIES, ACK_TIMEOUT_MS } from '../../../src/device/timing.js';
import { checked, checkedAmp, HELLO, politeDevice } from '../../support/device-fixtures.js';
import { FakeTransport } from '../../support/fake-transport.js';
import { ManualScheduler, settle } from '../../support/virtual-time.js';

let clients: DeviceClient[] = [];
afterEach(() => {
  for (const c of clients) c.dispose();
  clients = [];
});

function setup(device: FakeTransport['device'] = politeDevice()) {
  const scheduler = new ManualScheduler();
  const transport = new FakeTransport();
  transport.device = device;
  const client = new DeviceClient({ transport, scheduler });
  clients.push(client);
  return { scheduler, transport, client };
}

async function connected(device: FakeTransport['device'] = politeDevice()) {
  const s = setup(device);
  const r = await s.client.connect();
  expect(r.ok).toBe(true);
  return s;
}

describe('DeviceClient handshake', () => {
  it('learns identity and limits in domain units', async () => {
    const { client } = setup();
    const r = await client.connect();
    expect(r.ok && r.value).toMatchObject({
      model: 'EDN-TEST',
      bootId: 'AAAA0001',
      limits: { channels: 4, frequencyHz: { min: 1, max: 150 }, amplitudeMa: { min: 0, max: 20 }, maxChargePerPhaseUc: 12, watchdogMs: 1000 },
    });
  });

  it('H6 refuses a device that speaks no accepted version, saying so', async () => {
    const { client } = setup((req) => [{ type: 'err', seq: req.seq, args: { code: 'VERSION', msg: 'speaks 2..3' } }]);
    const r = await client.connect();
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatchObject({ code: 'HandshakeRefused' });
    expect(!r.ok && r.error.code === 'HandshakeRefused' && r.error.detail).toMatch(/no protocol version in 1..1.*speaks 2..3/);
  });

  it('H6 refuses a HELLO reply with a limit missing, naming it', async () => {
    const { client, transport } = setup(() => undefined);
    const pending = client.connect();
    const full = encode({ type: 'ok', seq: 0, verb: 'HELLO', args: HELLO });
    // Rebuild the line without qmax (and a fresh CRC).
    const { frame } = await import('../../../firmware-protocol/index.js');
    transport.receive(frame(full.slice(0, full.lastIndexOf(' *')).replace(' qmax=12000', '')));
    const r = await pending;
    expect(!r.ok && r.error).toMatchObject({ code: 'BadReply', verb: 'HELLO', decodeCode: 'BAD_ARG' });
    expect(!r.ok && r.error.code === 'BadReply' && r.error.detail).toMatch(/missing argument 'qmax'/);
  });

  it('refuses a device whose watchdog window is longer than 1000 ms', async () => {
    const { client } = setup(politeDevice({ wdog: 1500 }));
    const r = await client.connect();
    expect(!r.ok && r.error.code === 'HandshakeRefused' && r.error.detail).toMatch(/watchdog window is 1500 ms/);
  });
});

describe('DeviceClient requests', () => {
  it('retries with the same seq and gives up with AckTimeout after the documented attempts', async () => {
    const { client, transport, scheduler } = await connected();
    transport.device = () => undefined; // the device goes deaf
    const before = transport.written.length;
    let result: Awaited<ReturnType<typeof client.request>> | undefined;
    void client.request('STATUS', {}).then((r) => (result = r));
    scheduler.advance(ACK_TIMEOUT_MS * (ACK_RETRIES + 1) - 1);
    await settle();
    expect(result).toBeUndefined();
    scheduler.advance(1);
    await settle();
    expect(result).toMatchObject({ ok: false, error: { code: 'AckTimeout', verb: 'STATUS', attempts: ACK_RETRIES + 1 } });
    const sent = transport.written.slice(before);
    expect(sent).toHaveLength(ACK_RETRIES + 1);
    expect(new Set(sent).size).toBe(1); // the same line, the same seq, every time
  });

  it('a late reply to a retried request is taken once; a duplicate is counted as stale', async () => {
    const { client, transport, scheduler } = await connected();
    transport.device = () => undefined;
    const p = client.request('STATUS', {});
    scheduler.advance(ACK_TIMEOUT_MS); // one retry
    const seq = transport.requests().at(-1)!.seq;
    const reply = encode({ type: 'ok', seq, verb: 'STATUS', args: { latched: false, boot: HELLO.boot, up: 5 } });
    transport.receive(reply);
    transport.receive(reply);
    const r = await p;
    expect(r.ok).toBe(true);
    expect(client.counters.staleReplies).toBe(1);
  });

  it('H7 verifies SET by the read-back CRC the device echoes', async () => {
    const { client, transport } = await connected();
    const good = await client.stage(checked());
    expect(good.ok).toBe(true);
    transport.device = (req) => (req.verb === 'SET' ? [{ type: 'ok', seq: req.seq, verb: 'SET', args: { ch: 1, crc: '0000' } }] : undefined);
    const bad = await client.stage(checked());
    expect(!bad.ok && bad.error).toMatchObject({ code: 'ReadbackMismatch', channel: 1, stored: '0000' });
  });

  it('H7 encodes amplitudes exactly in µA', async () => {
    const { client, transport } = await connected();
    await client.stage(checked());
    await client.start(checked());
    const r = await client.setAmplitude(checkedAmp({ channel: 1, amplitudeMa: 0.3, atMs: 1000 }, { amplitudeMa: 0.1, atMs: 0 }));
    expect(r.ok).toBe(true);
    expect(transport.written.at(-1)).toMatch(/^\d+ AMP ch=1 amp=300 \*/);
  });

  it('refuses stimulation before a handshake', async () => {
    const { client, transport } = setup();
    const r = await client.stage(checked());
    expect(!r.ok && r.error.code).toBe('NotConnected');
    expect(transport.written).toHaveLength(0);
  });

  it('reports a device refusal with its code', async () => {
    const { client, transport } = await connected();
    transport.device = (req) => [{ type: 'err', seq: req.seq, args: { code: 'LATCHED' } }];
    const r = await client.stage(checked());
    expect(!r.ok && r.error).toMatchObject({ code: 'DeviceRejected', verb: 'SET', deviceCode: 'LATCHED' });
  });
});

describe('DeviceClient e-stop', () => {
  it('H5 is written at once, ahead of queued requests, which are withdrawn and never sent', async () => {
    const { client, transport } = await connected();
    transport.device = () => undefined; // nothing answers: a SET stays in flight, more queue up
    const inFlight = client.stage(checked());
    const queued = client.request('IMP', { ch: 2 });
    const sentBefore = transport.written.length;
    transport.device = politeDevice();
    const e = client.estop();
    // The ESTOP line is the very next thing written, synchronously within the call.
    expect(transport.written.length).toBe(sentBefore + 1);
    expect(transport.written.at(-1)).toMatch(/^\d+ ESTOP \*/);
    expect((await e).ok).toBe(true);
    expect(await inFlight).toMatchObject({ ok: false, error: { code: 'Cancelled' } });
    expect(await queued).toMatchObject({ ok: false, error: { code: 'Cancelled' } });
    expect(transport.requests().filter((r) => r.verb === 'IMP')).toHaveLength(0);
    expect(client.latched).toBe(true);
  });

  it('H5 is repeated until acknowledged, however long that takes', async () => {
    const { client, transport, scheduler } = await connected();
    transport.device = () => undefined;
    let done = false;
    void client.estop().then(() => (done = true));
    scheduler.advance(ACK_TIMEOUT_MS * 20);
    const estops = transport.written.filter((l) => / ESTOP /.test(l));
    expect(estops.length).toBe(21);
    expect(done).toBe(false);
    transport.device = politeDevice();
    scheduler.advance(ACK_TIMEOUT_MS);
    await settle();
    expect(done).toBe(true);
  });

  it('H5 refuses stimulation while latched, and allows it after CLEAR', async () => {
    const { client } = await connected();
    await client.estop();
    const r = await client.stage(checked());
    expect(!r.ok && r.error.code).toBe('Cancelled');
    expect((await client.request('CLEAR', {})).ok).toBe(true);
    expect((await client.stage(checked())).ok).toBe(true);
  });
});

describe('DeviceClient failures', () => {
  it('reports a pulled port as Disconnected, once, and settles what was waiting', async () => {
    const { client, transport } = await connected();
    transport.device = () => undefined;
    const failures: DeviceError[] = [];
    client.failures$.subscribe((f) => failures.push(f));
    const p = client.request('STATUS', {});
    transport.pull();
    expect(await p).toMatchObject({ ok: false, error: { code: 'Disconnected' } });
    expect(failures.map((f) => f.code)).toEqual(['Disconnected']);
    expect((await client.stage(checked())).ok).toBe(false);
  });

  it('H22 treats a new boot id as a reboot, and refuses stimulation until a new handshake', async () => {
    const { client, transport } = await connected();
    const failures: DeviceError[] = [];
    client.failures$.subscribe((f) => failures.push(f));
    transport.receive(encode({ type: 'event', event: 'BOOT', args: { boot: 'BBBB0002', proto: 1 } }));
    expect(failures).toEqual([{ code: 'Rebooted', previousBootId: 'AAAA0001', bootId: 'BBBB0002' }]);
    expect((await client.stage(checked())).ok).toBe(false);
  });

  it('counts garbage without crashing and keeps working', async () => {
    const { client, transport } = await connected();
    transport.receive('\u0000\u00ff garbage *ZZZZ');
    transport.receive('1 OK HB *0000');
    transport.input$.next({ kind: 'overflow', droppedBytes: 5000 });
    expect(client.counters.rejected).toBe(3);
    expect((await client.request('STATUS', {})).ok).toBe(true);
  });
});

describe('DeviceClient e-stop, again', () => {
  it('a second e-stop after CLEAR is written and acknowledged (the device answers inside write)', async () => {
    const { client, transport } = await connected();
    expect((await client.estop()).ok).toBe(true);
    expect((await client.request('CLEAR', {})).ok).toBe(true);
    const before = transport.written.filter((l) => / ESTOP /.test(l)).length;
    expect((await client.estop()).ok).toBe(true);
    expect(transport.written.filter((l) => / ESTOP /.test(l)).length).toBe(before + 1);
    expect(client.latched).toBe(true);
  });
});
