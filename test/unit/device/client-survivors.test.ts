// DeviceClient behaviour the device group's mutation survivors showed untested (MUTATION.md): the
// heartbeat lane's busy flag, failures reported once per kind, the order of the traffic log when
// an in-process device answers inside write(), a device error it cannot attribute, and a second
// estop() while the first is unanswered. Each checks the frames written or the values returned.
import { afterEach, describe, expect, it } from 'vitest';
import { encode, type HostToDevice } from '../../../firmware-protocol/index.js';
import { DeviceClient, type RejectedLine, type TrafficRecord } from '../../../src/device/client.js';
import type { DeviceError } from '../../../src/device/errors.js';
import { ACK_TIMEOUT_MS } from '../../../src/device/timing.js';
import { checked, politeDevice } from '../../support/device-fixtures.js';
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
  const traffic: TrafficRecord[] = [];
  client.traffic$.subscribe((t) => traffic.push(t));
  if (connect) expect((await client.connect()).ok).toBe(true);
  const failures: DeviceError[] = [];
  client.failures$.subscribe((f) => failures.push(f));
  const rejected: RejectedLine[] = [];
  client.rejected$.subscribe((r) => rejected.push(r));
  return { transport, client, failures, rejected, traffic, scheduler };
}

/** A device that holds its answers to `verbs` until the test releases them. */
function holding(verbs: readonly string[]) {
  const polite = politeDevice();
  const held: HostToDevice[] = [];
  return {
    held,
    device: (req: HostToDevice) => {
      if (verbs.includes(req.verb)) {
        held.push(req);
        return [];
      }
      return polite(req);
    },
    release: (t: FakeTransport) => {
      for (const r of held.splice(0)) for (const reply of polite(r)) t.receive(encode(reply));
    },
  };
}

const verbs = (t: FakeTransport, verb: string) => t.requests().filter((r) => r.verb === verb);

describe('H4 the heartbeat lane', () => {
  it('H4 a heartbeat still unanswered makes the next one busy with no second HB frame; after the ack the next is sent', async () => {
    const { client, transport } = await setup();
    const dev = holding(['HB']);
    transport.device = dev.device;
    const first = client.heartbeat();
    expect(await client.heartbeat()).toEqual({ ok: true, value: 'busy' });
    expect(verbs(transport, 'HB')).toHaveLength(1);
    dev.release(transport);
    expect(await first).toEqual({ ok: true, value: 'acked' });
    transport.device = politeDevice();
    expect(await client.heartbeat()).toEqual({ ok: true, value: 'acked' });
    expect(verbs(transport, 'HB')).toHaveLength(2);
  });
});

describe('H4 H22 H28 failures are reported once per kind', () => {
  const noHello = (req: HostToDevice) => (req.verb === 'STATUS' ? [{ type: 'err' as const, seq: req.seq, args: { code: 'NO_HELLO' as const } }] : politeDevice()(req));

  it('H28 a second NO_HELLO is not a second SessionLost, but a cable pull after it is still reported', async () => {
    const { client, transport, failures } = await setup();
    transport.device = noHello;
    await client.request('STATUS', {});
    await client.request('STATUS', {});
    expect(failures.map((f) => f.code)).toEqual(['SessionLost']);
    transport.pull();
    await settle();
    expect(failures.map((f) => f.code)).toEqual(['SessionLost', 'Disconnected']);
  });

  it('H28 NO_HELLO before any handshake is a refusal of that request, not a lost session', async () => {
    const { client, transport, failures } = await setup(false);
    transport.device = noHello;
    expect(await client.request('STATUS', {})).toMatchObject({ ok: false, error: { code: 'DeviceRejected', deviceCode: 'NO_HELLO' } });
    expect(failures).toEqual([]);
  });
});

describe('H10 H18 the traffic log reads in causal order', () => {
  it('H18 a reply given inside write() is logged after the frame it answers', async () => {
    const { client, traffic } = await setup();
    traffic.length = 0;
    expect((await client.stage(checked({ amplitudeMa: 0 }))).ok).toBe(true);
    expect(traffic.map((t) => `${t.dir} ${t.line.split(' ').slice(0, 3).join(' ')}`)).toEqual([expect.stringMatching(/^tx .*SET/), expect.stringMatching(/^rx .*SET/)]);
    // and the client is not left holding input: a later reply from the device is read at once
    expect((await client.request('STATUS', {})).ok).toBe(true);
  });
});

describe('H7 a device error that names no request', () => {
  it('H7 is reported as a rejected line and leaves the request in flight to be retried', async () => {
    const { client, transport, rejected, scheduler } = await setup();
    const dev = holding(['STATUS']);
    transport.device = dev.device;
    const pending = client.request('STATUS', {});
    transport.receive(encode({ type: 'err', seq: null, args: { code: 'BAD_CRC' } }));
    expect(rejected).toEqual([expect.objectContaining({ code: 'DEVICE_BAD_CRC' })]);
    expect(client.counters.deviceErrors).toBe(1);
    expect(client.counters.staleReplies).toBe(0);
    scheduler.advance(ACK_TIMEOUT_MS);
    expect(verbs(transport, 'STATUS')).toHaveLength(2);
    dev.release(transport);
    expect((await pending).ok).toBe(true);
  });
});

describe('H5 e-stop re-entrancy', () => {
  it('H5 a second estop() while the first is unanswered writes no second frame and shares its result; latched at once', async () => {
    const { client, transport } = await setup();
    const dev = holding(['ESTOP']);
    transport.device = dev.device;
    const a = client.estop();
    const b = client.estop();
    expect(b).toBe(a);
    expect(verbs(transport, 'ESTOP')).toHaveLength(1);
    expect(client.latched).toBe(true);
    expect(await client.start(checked({ amplitudeMa: 0 }))).toMatchObject({ ok: false, error: { code: 'Cancelled' } });
    dev.release(transport);
    expect(await a).toEqual({ ok: true, value: undefined });
    // once answered, a new estop() is a new frame
    transport.device = politeDevice();
    expect(await client.estop()).toEqual({ ok: true, value: undefined });
    expect(verbs(transport, 'ESTOP')).toHaveLength(2);
  });
});
