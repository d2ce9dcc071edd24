/**
 * The session lifecycle on its own, with every part it reaches faked as a log of calls: connect
 * watches the device and starts the loop only after a handshake that succeeded; prepare
 * refuses a device that is not connected or cannot run the protocol (and then changes nothing),
 * sets up each channel off at 0 mA with its treated side resolved from the plan's side, and resets
 * the parts before entering screening; cancel, newSession, disconnect and dispose end the session's record
 * with the reason each stands for, in the order that keeps the end record inside the journal (the
 * end before the close), and let the session go so nothing of it is shown; newSession is refused,
 * with nothing ended, while the stop is latched or the device is gone.
 */
import { describe, expect, it } from 'vitest';
import { DeviceClient } from '../../../src/device/client.js';
import type { DeviceError, Result } from '../../../src/device/errors.js';
import type { DeviceInfo } from '../../../src/device/identity.js';
import { SessionLifecycle } from '../../../src/session/lifecycle.js';
import type { SessionState } from '../../../src/session/states.js';
import { politeDevice } from '../../support/device-fixtures.js';
import { FakeTransport } from '../../support/fake-transport.js';
import { kneeProtocol } from '../../support/session-harness.js';
import { ManualScheduler } from '../../support/virtual-time.js';

/** The device's identity as a real handshake gives it (`channels` overridden by the HELLO). */
async function deviceInfo(ch = 4): Promise<DeviceInfo> {
  const transport = new FakeTransport();
  transport.device = politeDevice({ ch });
  const client = new DeviceClient({ transport, scheduler: new ManualScheduler() });
  const r = await client.connect();
  client.dispose();
  if (!r.ok) throw new Error('handshake failed');
  return r.value;
}

async function setup(ch = 4, initial: SessionState = 'ready') {
  const log: string[] = [];
  let state: SessionState = initial;
  const info = await deviceInfo(ch);
  const call = (name: string) => () => void log.push(name);
  const client: { info: DeviceInfo | undefined; latched: boolean; failure: DeviceError | undefined; handshake: Result<DeviceInfo>; connect(): Promise<Result<DeviceInfo>> } = {
    info,
    latched: false,
    failure: undefined,
    handshake: { ok: true, value: info },
    connect: () => {
      log.push('client.connect');
      return Promise.resolve(client.handshake);
    },
  };
  const life = new SessionLifecycle({
    client,
    enter: (to, reason) => {
      state = to;
      log.push(`enter ${to}${reason === undefined ? '' : ` (${reason})`}`);
    },
    endSession: (reason, detail) => void log.push(`end ${reason}: ${detail ?? ''}`),
    publish: call('publish'),
    records: { close: call('records.close') },
    clock: { reset: call('clock.reset') },
    journal: { resetTelemetry: call('journal.resetTelemetry') },
    electrodes: { reset: call('electrodes.reset') },
    alarms: { resetWarnings: call('alarms.resetWarnings'), clearAll: call('alarms.clearAll') },
    output: { interrupt: call('output.interrupt') },
    loop: { start: call('loop.start'), stop: call('loop.stop') },
    intake: { watch: (bootId) => void log.push(`intake.watch ${bootId}`), unwatch: call('intake.unwatch') },
  });
  return { life, log, client, state: () => state };
}

describe('SessionLifecycle: connect', () => {
  it('connecting, the handshake, then the device\'s reports watched by its boot id and the loop started before ready', async () => {
    const s = await setup(4, 'idle');
    const r = await s.life.connect();
    expect(r).toEqual({ ok: true, value: s.client.info });
    expect(s.log).toEqual(['enter connecting', 'client.connect', `intake.watch ${s.client.info!.bootId}`, 'loop.start', 'enter ready']);
  });

  it('a refused handshake: back to idle saying why, the device error returned, nothing watched and no loop', async () => {
    const s = await setup(4, 'idle');
    s.client.handshake = { ok: false, error: { code: 'HandshakeRefused', detail: 'the device chose protocol version 9' } };
    const r = await s.life.connect();
    expect(r).toMatchObject({ ok: false, error: { code: 'Device', error: { code: 'HandshakeRefused' } } });
    const message = r.ok ? '' : r.error.message;
    expect(message).toContain('the device chose protocol version 9');
    expect(s.log).toEqual(['enter connecting', 'client.connect', `enter idle (${message})`]);
    expect(s.state()).toBe('idle');
  });
});

describe('SessionLifecycle: prepare', () => {
  it('sets up every channel off at 0 mA, resets the parts, then enters screening', async () => {
    const { life, log, state } = await setup();
    const protocol = kneeProtocol();
    expect(life.prepare({ protocol, side: 'left' })).toEqual({ ok: true, value: undefined });
    expect(life.plan?.protocol).toBe(protocol);
    expect(life.channels).toEqual(
      protocol.channels.map((c) => ({ channel: c.channel, region: c.region, side: 'left', sites: c.sites, targetMa: 0, commanded: undefined, active: undefined, on: false, measuredMa: null, impedance: null })),
    );
    expect(log).toEqual(['clock.reset', 'journal.resetTelemetry', 'electrodes.reset', 'alarms.resetWarnings', 'enter screening']);
    expect(state()).toBe('screening');
  });

  it('resolves each "affected" channel to the treated side: bilateral puts the first half left, the rest right (H32)', async () => {
    const { life } = await setup();
    const protocol = kneeProtocol();
    expect(protocol.channels.map((c) => c.side)).toEqual(['affected', 'affected']);
    life.prepare({ protocol, side: 'bilateral' });
    expect(life.channels.map((c) => [c.channel, c.side])).toEqual([
      [1, 'left'],
      [2, 'right'],
    ]);
  });

  it('keeps the protocol\'s own side when the plan names none (H32)', async () => {
    const { life } = await setup();
    life.prepare({ protocol: kneeProtocol() });
    expect(life.channels.map((c) => c.side)).toEqual(['affected', 'affected']);
  });

  it('refuses without a connected device, and changes nothing', async () => {
    const { life, log, client, state } = await setup();
    client.info = undefined;
    const r = life.prepare({ protocol: kneeProtocol(), side: 'right' });
    expect(r).toMatchObject({ ok: false, error: { code: 'NotConnected', message: 'the device is not connected' } });
    expect([life.plan, life.channels, log, state()]).toEqual([undefined, [], [], 'ready']);
  });

  it('refuses a protocol the device cannot run (a channel it does not have), and changes nothing', async () => {
    const { life, log, state } = await setup(1);
    const r = life.prepare({ protocol: kneeProtocol(), side: 'right' });
    expect(r).toMatchObject({ ok: false, error: { code: 'Incompatible', message: 'protocol uses channel 2; this device has 1' } });
    expect([life.plan, life.channels, log, state()]).toEqual([undefined, [], [], 'ready']);
  });
});

describe('SessionLifecycle: cancel, newSession, disconnect, dispose', () => {
  async function prepared() {
    const s = await setup();
    s.life.prepare({ protocol: kneeProtocol(), side: 'left' });
    s.log.length = 0;
    return s;
  }

  it('cancel: ready with the reason, the record ended as stopped before the journal closes, nothing of the session left', async () => {
    const { life, log, state } = await prepared();
    expect(life.cancel()).toEqual({ ok: true, value: undefined });
    expect(log).toEqual([
      'enter ready (cancelled before output)',
      'end stopped: cancelled before output',
      'records.close',
      'electrodes.reset',
      'alarms.resetWarnings',
      'publish',
    ]);
    expect([life.plan, life.channels, state()]).toEqual([undefined, [], 'ready']);
  });

  it('newSession: the record ended as closed, the journal closed, every alarm cleared, then ready', async () => {
    const { life, log, state } = await prepared();
    expect(life.newSession()).toEqual({ ok: true, value: undefined });
    expect(log).toEqual(['end stopped: closed', 'records.close', 'electrodes.reset', 'alarms.resetWarnings', 'alarms.clearAll', 'enter ready']);
    expect([life.plan, life.channels, state()]).toEqual([undefined, [], 'ready']);
  });

  it('newSession is refused while the stop is latched, with nothing ended or forgotten', async () => {
    const { life, log, client } = await prepared();
    client.latched = true;
    expect(life.newSession()).toMatchObject({ ok: false, error: { code: 'Latched', message: 'the stop is latched: clear it first' } });
    expect(log).toEqual([]);
    expect(life.plan).toBeDefined();
    expect(life.channels).toHaveLength(2);
  });

  it('newSession is refused when the device is gone (no identity, or a failed link), with nothing ended', async () => {
    const { life, log, client } = await prepared();
    client.failure = { code: 'Disconnected', detail: 'the port closed' };
    expect(life.newSession()).toMatchObject({ ok: false, error: { code: 'NotConnected', message: 'the device is not connected: connect again' } });
    client.failure = undefined;
    client.info = undefined;
    expect(life.newSession()).toMatchObject({ ok: false, error: { code: 'NotConnected' } });
    expect(log).toEqual([]);
    expect(life.plan).toBeDefined();
  });

  it('disconnect: the record ended as stopped before the journal closes, the loop stopped, then idle', async () => {
    const { life, log, state } = await prepared();
    expect(life.disconnect()).toEqual({ ok: true, value: undefined });
    expect(log).toEqual(['end stopped: disconnected before output', 'records.close', 'loop.stop', 'enter idle']);
    expect(state()).toBe('idle');
  });

  it('dispose: any output step interrupted and the loop stopped before the record ends as aborted, then the journal closes and the device is no longer watched', async () => {
    const { life, log } = await prepared();
    life.dispose();
    expect(log).toEqual(['output.interrupt', 'loop.stop', 'end aborted: the application closed', 'records.close', 'intake.unwatch']);
  });
});
