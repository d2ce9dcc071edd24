// DeviceClient at the choke point, as the session-4 device mutation run (MUTATION.md) found it
// untested: a forged Checked value handed to stage/start/setAmplitude, a stimulating verb handed to
// request(), a successful request other than CLEAR (which must not clear the e-stop latch), a
// refused or unsafe handshake, requests and an e-stop after the port is gone, a BOOT before any
// handshake, an ack timeout, a readback mismatch, dispose with requests pending, and lines the
// client cannot use. Each checks the frames that reached the port or the result returned.
import { afterEach, describe, expect, it } from 'vitest';
import { encode, setReadbackCrc, type HostToDevice } from '../../../firmware-protocol/index.js';
import { DeviceClient, type RejectedLine } from '../../../src/device/client.js';
import type { DeviceError } from '../../../src/device/errors.js';
import { ACK_RETRIES, ACK_TIMEOUT_MS } from '../../../src/device/timing.js';
import { checked, checkedAmp, HELLO, politeDevice } from '../../support/device-fixtures.js';
import { FakeTransport } from '../../support/fake-transport.js';
import { ManualScheduler, settle } from '../../support/virtual-time.js';

let clients: DeviceClient[] = [];
afterEach(() => {
  for (const c of clients) c.dispose();
  clients = [];
});

async function setup(connect = true) {
  const transport = new FakeTransport();
  transport.device = politeDevice();
  const scheduler = new ManualScheduler();
  const client = new DeviceClient({ transport, scheduler });
  clients.push(client);
  if (connect) expect((await client.connect()).ok).toBe(true);
  const failures: DeviceError[] = [];
  client.failures$.subscribe((f) => failures.push(f));
  const rejected: RejectedLine[] = [];
  client.rejected$.subscribe((r) => rejected.push(r));
  return { transport, client, scheduler, failures, rejected };
}

const verbsWritten = (t: FakeTransport) => t.requests().map((r) => r.verb);
const silentOn = (verbs: readonly string[]) => {
  const polite = politeDevice();
  return (req: HostToDevice) => (verbs.includes(req.verb) ? [] : polite(req));
};

describe('H1 H7 a value the guard did not issue never reaches the port', () => {
  const forged = <T extends object>(c: T): T => ({ ...c });
  const detail = 'the value was not issued by the guard (src/domain/safety/guard.ts)';

  it('H1 stage, start and setAmplitude refuse a copied Checked value: Unchecked, no frame', async () => {
    const { client, transport } = await setup();
    const before = transport.written.length;
    expect(await client.stage(forged(checked()))).toEqual({ ok: false, error: { code: 'Unchecked', verb: 'SET', detail } });
    expect(await client.start(forged(checked()))).toEqual({ ok: false, error: { code: 'Unchecked', verb: 'START', detail } });
    expect(await client.setAmplitude(forged(checkedAmp({ channel: 1, amplitudeMa: 0.2, atMs: 200 }, { amplitudeMa: 0, atMs: 0 })))).toEqual({ ok: false, error: { code: 'Unchecked', verb: 'AMP', detail } });
    expect(transport.written.length).toBe(before);
  });

  it.each(['SET', 'START', 'AMP', 'ESTOP', 'HELLO'])('H1 request() refuses %s (only plain verbs pass it), no frame', async (verb) => {
    const { client, transport } = await setup();
    const before = transport.written.length;
    expect(await client.request(verb as never, { ch: 1 } as never)).toEqual({
      ok: false,
      error: { code: 'Unchecked', verb, detail: `${verb} is not sent by request(): only the guard's Checked values reach the device` },
    });
    expect(transport.written.length).toBe(before);
  });

  it('H7 a Checked value the wire cannot carry exactly is refused before anything is written', async () => {
    const { client, transport } = await setup();
    const before = transport.written.length;
    expect(await client.stage(checked({ amplitudeMa: 0.0004 }))).toMatchObject({ ok: false, error: { code: 'Unencodable' } });
    expect(await client.setAmplitude(checkedAmp({ channel: 1, amplitudeMa: 0.0004, atMs: 200 }, { amplitudeMa: 0, atMs: 0 }))).toMatchObject({ ok: false, error: { code: 'Unencodable' } });
    expect(transport.written.length).toBe(before);
  });
});

describe('H5 the e-stop latch', () => {
  it('H5 only an acknowledged CLEAR clears it: a successful STATUS, HB, STOP or IMP does not', async () => {
    const { client, transport } = await setup();
    expect((await client.estop()).ok).toBe(true);
    for (const verb of ['STATUS', 'HB', 'STOP', 'IMP'] as const) {
      expect((await client.request(verb, (verb === 'STOP' || verb === 'IMP' ? { ch: 1 } : {}) as never)).ok).toBe(true);
      expect(client.latched).toBe(true);
    }
    expect(await client.start(checked())).toMatchObject({ ok: false, error: { code: 'Cancelled' } });
    expect(verbsWritten(transport)).not.toContain('START');
  });

  it('H5 an e-stop in flight when the port goes away resolves as Disconnected (it cannot keep trying)', async () => {
    const { client, transport } = await setup();
    transport.device = silentOn(['ESTOP']);
    const stop = client.estop();
    transport.pull();
    expect(await stop).toMatchObject({ ok: false, error: { code: 'Disconnected' } });
  });

  it('H5 dispose settles every pending request, the e-stop too, as Cancelled', async () => {
    const { client, transport } = await setup();
    transport.device = silentOn(['ESTOP', 'STATUS']);
    const status = client.request('STATUS', {});
    const stop = client.estop();
    client.dispose();
    expect(await status).toEqual({ ok: false, error: { code: 'Cancelled', verb: 'STATUS', reason: 'an e-stop overtook it' } });
    expect(await stop).toEqual({ ok: false, error: { code: 'Cancelled', verb: 'ESTOP', reason: 'the client was closed' } });
  });
});

describe('H6 the handshake', () => {
  it('H6 a device that speaks no accepted version is HandshakeRefused, naming the range and its reason', async () => {
    const { client, transport } = await setup(false);
    transport.device = (req) => [{ type: 'err', seq: req.seq, args: { code: 'VERSION', msg: 'speaks 2' } }];
    expect(await client.connect()).toEqual({ ok: false, error: { code: 'HandshakeRefused', detail: 'the device speaks no protocol version in 1..1 (speaks 2)' } });
    transport.device = (req) => [{ type: 'err', seq: req.seq, args: { code: 'VERSION' } }];
    expect(await client.connect()).toEqual({ ok: false, error: { code: 'HandshakeRefused', detail: 'the device speaks no protocol version in 1..1' } });
    expect(client.info).toBeUndefined();
  });

  it('H6 another refusal of HELLO is passed on as the device said it', async () => {
    const { client, transport } = await setup(false);
    transport.device = (req) => [{ type: 'err', seq: req.seq, args: { code: 'STATE' } }];
    expect(await client.connect()).toMatchObject({ ok: false, error: { code: 'DeviceRejected', deviceCode: 'STATE' } });
  });

  it('H6 H14 a device reporting unsafe limits is refused and stays unconnected: no SET reaches it', async () => {
    const { client, transport } = await setup(false);
    transport.device = politeDevice({ vc: 600 });
    expect(await client.connect()).toMatchObject({ ok: false, error: { code: 'HandshakeRefused' } });
    expect(client.info).toBeUndefined();
    expect(await client.stage(checked())).toEqual({ ok: false, error: { code: 'NotConnected', verb: 'SET' } });
    expect(verbsWritten(transport)).toEqual(['HELLO']);
  });

  it('H22 a BOOT event before any handshake is no reboot', async () => {
    const { client, transport, failures } = await setup(false);
    transport.receive(encode({ type: 'event', event: 'BOOT', args: { boot: 'BBBB0002', proto: 1 } }));
    expect(failures).toEqual([]);
    expect((await client.connect()).ok).toBe(true);
  });
});

describe('H4 H28 after the port is gone', () => {
  it('H28 connect and every request return Disconnected at once, and nothing is written', async () => {
    const { client, transport } = await setup();
    transport.pull();
    await settle();
    expect(client.failure).toEqual({ code: 'Disconnected', detail: 'fake: the port went away' });
    const before = transport.written.length;
    expect(await client.connect()).toMatchObject({ ok: false, error: { code: 'Disconnected', detail: 'fake: the port went away' } });
    expect(await client.request('STATUS', {})).toMatchObject({ ok: false, error: { code: 'Disconnected' } });
    expect(await client.heartbeat()).toMatchObject({ ok: false, error: { code: 'Disconnected' } });
    expect(transport.written.length).toBe(before);
  });
});

describe('H7 H18 replies', () => {
  it('H7 a request never answered gives up after the retries with an AckTimeout saying how long it waited', async () => {
    const { client, transport, scheduler } = await setup();
    transport.device = silentOn(['STATUS']);
    const r = client.request('STATUS', {});
    for (let i = 0; i <= ACK_RETRIES; i++) scheduler.advance(ACK_TIMEOUT_MS);
    const attempts = ACK_RETRIES + 1;
    expect(await r).toEqual({ ok: false, error: { code: 'AckTimeout', verb: 'STATUS', seq: expect.any(Number) as number, attempts, waitedMs: attempts * ACK_TIMEOUT_MS } });
    expect(verbsWritten(transport).filter((v) => v === 'STATUS')).toHaveLength(attempts);
  });

  it('H18 a SET whose stored CRC differs from the one sent is a ReadbackMismatch naming both', async () => {
    const { client, transport } = await setup();
    const polite = politeDevice();
    transport.device = (req) => (req.verb === 'SET' ? [{ type: 'ok', seq: req.seq, verb: 'SET', args: { ch: req.args.ch, crc: '0000' } }] : polite(req));
    const r = await client.stage(checked());
    expect(r).toMatchObject({ ok: false, error: { code: 'ReadbackMismatch', channel: 1, stored: '0000' } });
    expect(r.ok ? '' : r.error.code === 'ReadbackMismatch' ? r.error.sent : '').toMatch(/^[0-9A-F]{4}$/);
  });

  it('H5 an ESTOP answered as not latched is rejected, naming the field, and the e-stop repeats', async () => {
    const { client, transport, scheduler, rejected } = await setup();
    transport.device = (req) => (req.verb === 'ESTOP' ? [{ type: 'ok', seq: req.seq, verb: 'ESTOP', args: { latched: false } }] : []);
    void client.estop();
    expect(rejected).toEqual([{ code: 'ECHO_MISMATCH', detail: 'ESTOP answered with latched=0', line: expect.stringContaining('ESTOP') as string }]);
    scheduler.advance(ACK_TIMEOUT_MS);
    expect(verbsWritten(transport).filter((v) => v === 'ESTOP')).toHaveLength(2);
  });
});

describe('H22 H28 what ends a session and what does not', () => {
  it('H28 a device refusal other than NO_HELLO after the handshake ends nothing; NO_HELLO is SessionLost with the request and the reason', async () => {
    const { client, transport, failures } = await setup();
    const polite = politeDevice();
    transport.device = (req) => (req.verb === 'STOP' ? [{ type: 'err', seq: req.seq, args: { code: 'STATE' } }] : polite(req));
    // (no `detail` key at all when the device sent no msg)
    expect(await client.request('STOP', { ch: 1 })).toStrictEqual({ ok: false, error: { code: 'DeviceRejected', verb: 'STOP', seq: expect.any(Number) as number, deviceCode: 'STATE' } });
    expect(failures).toEqual([]);
    expect(client.info).toBeDefined();
    transport.device = (req) => (req.verb === 'STATUS' ? [{ type: 'err', seq: req.seq, args: { code: 'NO_HELLO' } }] : polite(req));
    await client.request('STATUS', {});
    expect(failures).toStrictEqual([{ code: 'SessionLost', verb: 'STATUS', detail: '' }]);
  });

  it('H28 a NO_HELLO answer to a new HELLO is a refused handshake, not a lost session', async () => {
    const { client, transport, failures } = await setup();
    transport.device = (req) => [{ type: 'err', seq: req.seq, args: { code: 'NO_HELLO' } }];
    expect(await client.connect()).toMatchObject({ ok: false, error: { code: 'DeviceRejected', deviceCode: 'NO_HELLO' } });
    expect(failures).toEqual([]);
  });

  it('H22 a control request in flight when the device reports a new boot id settles as Rebooted', async () => {
    const { client, transport, failures } = await setup();
    transport.device = silentOn(['STATUS']);
    const status = client.request('STATUS', {});
    transport.receive(encode({ type: 'event', event: 'BOOT', args: { boot: 'BBBB0002', proto: 1 } }));
    expect(await status).toEqual({ ok: false, error: { code: 'Rebooted', previousBootId: HELLO.boot, bootId: 'BBBB0002' } });
    expect(failures.map((f) => f.code)).toEqual(['Rebooted']);
  });

  it('H5 an ESTOP acknowledged after a CLEAR was acknowledged leaves the client latched (the device latched last)', async () => {
    const { client, transport } = await setup();
    const polite = politeDevice();
    const held: HostToDevice[] = [];
    transport.device = (req) => {
      if (req.verb === 'ESTOP') {
        held.push(req);
        return [];
      }
      return polite(req);
    };
    const stop = client.estop();
    expect((await client.request('CLEAR', {})).ok).toBe(true);
    expect(client.latched).toBe(false);
    for (const r of held) for (const reply of polite(r)) transport.receive(encode(reply));
    expect((await stop).ok).toBe(true);
    expect(client.latched).toBe(true);
  });
});

describe('H7 H18 what stage() returns and what request() cannot encode', () => {
  it('H18 a staged SET returns the CRC the device stored (equal to the one sent)', async () => {
    const { client, transport } = await setup();
    const r = await client.stage(checked());
    const set = transport.requests().find((q) => q.verb === 'SET');
    expect(set).toBeDefined();
    expect(r).toEqual({ ok: true, value: { crc: set && set.verb === 'SET' ? setReadbackCrc(set.args) : '' } });
  });

  it('H7 a plain request whose arguments cannot be encoded is Unencodable, and nothing is written', async () => {
    const { client, transport } = await setup();
    const before = transport.written.length;
    const r = await client.request('STOP', { ch: 'one' } as never);
    expect(r).toMatchObject({ ok: false, error: { code: 'Unencodable' } });
    expect(r.ok ? '' : r.error.code === 'Unencodable' ? r.error.detail : '').toContain('STOP');
    expect(transport.written.length).toBe(before);
  });
});

describe('H15 lines the client cannot use', () => {
  it('H15 an over-long line, a garbage line and an empty line: rejected, rejected with the line, ignored; all counted', async () => {
    const { client, transport, rejected } = await setup();
    const before = client.counters;
    transport.input$.next({ kind: 'overflow', droppedBytes: 4096 });
    transport.receive('garbage');
    transport.receive('');
    transport.receive('\r');
    expect(rejected).toEqual([{ code: 'TOO_LONG', detail: 'dropped a line of more than 4096 bytes' }, expect.objectContaining({ line: 'garbage' })]);
    expect(rejected[1]!.code).not.toBe('');
    const after = client.counters;
    expect(after.rejected - before.rejected).toBe(2);
    expect(after.linesIn - before.linesIn).toBe(3);
  });

  it('H7 a device error naming no request is reported with what it means', async () => {
    const { transport, rejected } = await setup();
    transport.receive(encode({ type: 'err', seq: null, args: { code: 'BAD_CRC' } }));
    expect(rejected).toEqual([{ code: 'DEVICE_BAD_CRC', detail: 'the device rejected a frame it could not attribute', line: expect.stringContaining('ERR') as string }]);
  });

  it('H7 every line written is counted', async () => {
    const { client } = await setup();
    const before = client.counters.linesOut;
    await client.request('STATUS', {});
    await client.heartbeat();
    expect(client.counters.linesOut - before).toBe(2);
    expect(HELLO.boot).toBe('AAAA0001');
  });
});
