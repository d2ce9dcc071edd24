/**
 * The mutants left alive in device-intake.ts by its own test (MUTATION.md, the session group),
 * killed through the part's interface with a fake client and fake collaborators, on virtual time:
 * listening again after unwatch; a silent channel's silence journaled (rounded); no HELLO again
 * with no session (idle, connecting) or with the port gone; the device's boot id at the last
 * handshake used when the lost session cleared the client's, and a restart said with its next
 * action; a HELLO that fails said with its cause and next action; no restart said for the same
 * boot id; a TEL or DONE on a channel that is not the protocol's, a TEL with no phase prepared or
 * on a channel never commanded, handled without an error; a FAULT after the session was aborted
 * raising its own alarm.
 * Left (equivalent): the `BOOT` case emptied or never matched, since it is the switch's last case
 * and only returns, so falling out of the switch does the same.
 */
import { Subject, config } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DeviceEvent } from '../../../firmware-protocol/index.js';
import type { DeviceError, Result } from '../../../src/device/errors.js';
import type { DeviceInfo } from '../../../src/device/identity.js';
import { DeviceIntake } from '../../../src/session/device-intake.js';
import type { AbortAlarm } from '../../../src/session/session-context.js';
import type { MonitorVerdict } from '../../../src/session/output-monitor.js';
import type { ChannelControl } from '../../../src/session/ramp.js';
import type { SessionState } from '../../../src/session/states.js';
import type { TelemetrySample } from '../../../src/session/views.js';
import { ManualScheduler, settle } from '../../support/virtual-time.js';

function channel(n: number, commanded = true): ChannelControl {
  return {
    channel: n, region: 'knee', side: 'left', sites: [], targetMa: 2,
    commanded: commanded ? { amplitudeMa: 1.5, atMs: 0 } : undefined,
    active: undefined, on: true, measuredMa: null, impedance: null,
  };
}

interface Options {
  state?: SessionState;
  phase?: { maxMa: number; remainingMs: number } | undefined;
  channels?: ChannelControl[];
  info?: DeviceInfo | undefined;
  replies?: Result<DeviceInfo>[];
}

/** The log holds, in order, each HELLO (connect), e-stop, abort and monitor call that left the intake. */
function setup(opts: Options = {}) {
  const s = new ManualScheduler();
  const events = new Subject<DeviceEvent>();
  const failures = new Subject<DeviceError>();
  const traffic = new Subject<{ dir: 'tx' | 'rx'; line: string }>();
  const log: string[] = [];
  const records: { type: string; data: unknown }[] = [];
  const raised: { priority: string; cause: string; action: string; channel: number | undefined }[] = [];
  const aborts: { reason: string; alarm: AbortAlarm | undefined }[] = [];
  const samples: TelemetrySample[] = [];
  const maxMaSeen: number[] = [];
  let verdict: MonitorVerdict | undefined;
  let aborting = false;
  let finishAbort: () => void = () => undefined;
  const replies = [...(opts.replies ?? [])];
  const channels = opts.channels ?? [channel(1), channel(2)];
  const phase = 'phase' in opts ? opts.phase : { maxMa: 4, remainingMs: 60_000 };
  const ctl: { state: SessionState } = { state: opts.state ?? 'running' };
  const client = {
    events$: events,
    failures$: failures,
    traffic$: traffic,
    info: 'info' in opts ? opts.info : ({ bootId: 'B1' } as DeviceInfo),
    failure: undefined as DeviceError | undefined,
    estop: () => log.push('estop'),
    connect: (): Promise<Result<DeviceInfo>> => {
      log.push('connect');
      return Promise.resolve(replies.shift() ?? { ok: true, value: { bootId: 'B1' } as DeviceInfo });
    },
  };
  const intake = new DeviceIntake({
    scheduler: s,
    client,
    monitor: {
      telemetry: (ch, _setUa, _measuredUa, _at, protocolMaxMa) => {
        log.push(`monitor tel ${ch}`);
        maxMaSeen.push(protocolMaxMa);
        return verdict;
      },
      off: (ch) => log.push(`monitor off ${ch}`),
    },
    journal: {
      record: (type, data) => records.push({ type, data }),
      telemetry: () => log.push('tel-summary'),
      traffic: (dir, line) => log.push(`${dir} ${line}`),
    },
    channels: () => channels,
    state: () => ctl.state,
    aborting: () => aborting,
    phase: () => phase,
    abort: (reason, _portGone, alarm) => {
      aborts.push({ reason, alarm });
      log.push('abort');
      aborting = true;
      return new Promise<void>((resolve) => {
        finishAbort = () => {
          aborting = false;
          ctl.state = 'aborted';
          resolve();
        };
      });
    },
    raise: (priority, cause, action, ch) => raised.push({ priority, cause, action, channel: ch }),
    publish: () => undefined,
    telemetry: (sample) => samples.push(sample),
  });
  intake.watch('B1');
  return {
    s, events, failures, intake, log, records, raised, aborts, samples, channels, client, ctl, maxMaSeen,
    setVerdict: (v: MonitorVerdict | undefined) => (verdict = v),
    finishAbort: () => finishAbort(),
  };
}

const tel = (ch: number, i: number): DeviceEvent => ({ type: 'event', event: 'TEL', args: { ch, amp: 1500, i, z: 900, q: 0 } });

// An error thrown inside a subscriber is reported by rxjs on a timer (in the app: an uncaught
// exception); fake timers run that timer here, and config.onUnhandledError collects the error.
let unhandled: unknown[] = [];
beforeEach(() => {
  unhandled = [];
  vi.useFakeTimers();
  config.onUnhandledError = (e) => unhandled.push(e);
});
afterEach(() => {
  config.onUnhandledError = null;
  vi.useRealTimers();
});
function reported(): unknown[] {
  vi.runAllTimers();
  return unhandled;
}

describe('DeviceIntake.watch and unwatch, mutation survivors', () => {
  it('H28 after unwatch nothing is heard; unwatch again is harmless; watch listens again (a new handshake)', () => {
    const t = setup();
    t.intake.unwatch();
    t.events.next({ type: 'event', event: 'FAULT', args: { ch: 1, code: 'OPEN' } });
    expect(t.records).toStrictEqual([]);
    expect(() => t.intake.unwatch()).not.toThrow();
    expect(() => t.intake.watch('B1')).not.toThrow();
    t.events.next({ type: 'event', event: 'FAULT', args: { ch: 1, code: 'OPEN' } });
    expect(t.records).toStrictEqual([{ type: 'fault', data: { channel: 1, code: 'OPEN', message: 'Channel 1 open circuit' } }]);
    expect(t.log).toStrictEqual(['abort']);
  });
});

describe('DeviceIntake.verdict, mutation survivors', () => {
  it('H18 a silent channel: its silence is journaled in whole ms with the cause, and the session aborts', () => {
    const t = setup();
    t.intake.verdict({ finding: 'telemetry-lost', channel: 2, silentMs: 3000.6, cause: 'Channel 2: no telemetry', action: 'check the device' });
    expect(t.records).toStrictEqual([
      { type: 'measurement', data: { channel: 2, finding: 'telemetry-lost', silentMs: 3001, message: 'Channel 2: no telemetry' } },
    ]);
    expect(t.aborts).toStrictEqual([{ reason: 'Channel 2: no telemetry: check the device', alarm: { cause: 'Channel 2: no telemetry', action: 'check the device', channel: 2 } }]);
  });
});

describe('DeviceIntake.rehandshake, mutation survivors', () => {
  it('H28 with no session there is nothing to HELLO again: idle, connecting', async () => {
    for (const state of ['idle', 'connecting'] as const) {
      const t = setup({ state });
      await t.intake.rehandshake();
      expect(t.log).toStrictEqual([]);
      expect(t.raised).toStrictEqual([]);
    }
  });

  it('H28 a watchdog trip whose abort ends with the port gone: no HELLO, nothing raised', async () => {
    const t = setup();
    t.events.next({ type: 'event', event: 'WDOG', args: {} });
    t.client.failure = { code: 'Disconnected', detail: 'port closed' };
    t.finishAbort();
    await settle();
    expect(t.ctl.state).toBe('aborted');
    expect(t.log).toStrictEqual(['abort']);
    expect(t.raised).toStrictEqual([]);
  });

  it('H28 a watchdog trip whose abort ends in a disconnection (idle) sends no HELLO', async () => {
    const t = setup();
    t.events.next({ type: 'event', event: 'WDOG', args: {} });
    t.finishAbort();
    t.ctl.state = 'idle';
    await settle();
    expect(t.log).toStrictEqual(['abort']);
  });

  it('H22 H28 a lost session cleared the client\'s boot id: the one of the last handshake says the device restarted, with the next action', async () => {
    const t = setup({ info: undefined, replies: [{ ok: true, value: { bootId: 'B2' } as DeviceInfo }] });
    t.failures.next({ code: 'SessionLost', verb: 'HB', detail: 'NO_HELLO' });
    t.finishAbort();
    await settle();
    expect(t.log).toStrictEqual(['abort', 'connect']);
    expect(t.raised).toStrictEqual([
      { priority: 'medium', cause: 'The device restarted (boot id B1 -> B2)', action: 'Check the device before the next session', channel: undefined },
    ]);
  });

  it('H22 the client\'s boot id, when it has one, is the one compared (not the last handshake\'s)', async () => {
    const t = setup({ state: 'aborted', info: { bootId: 'B7' } as DeviceInfo, replies: [{ ok: true, value: { bootId: 'B1' } as DeviceInfo }] });
    await t.intake.rehandshake();
    expect(t.raised).toStrictEqual([
      { priority: 'medium', cause: 'The device restarted (boot id B7 -> B1)', action: 'Check the device before the next session', channel: undefined },
    ]);
  });

  it('H28 the same boot id again: the device did not restart, nothing is said', async () => {
    const t = setup({ state: 'aborted' });
    await t.intake.rehandshake();
    expect(t.log).toStrictEqual(['connect']);
    expect(t.raised).toStrictEqual([]);
  });

  it('H28 a HELLO that fails says the session could not be re-established, why, and what to do', async () => {
    const t = setup({ replies: [{ ok: false, error: { code: 'AckTimeout', verb: 'HELLO', seq: 9, attempts: 3, waitedMs: 600 } }] });
    t.events.next({ type: 'event', event: 'WDOG', args: {} });
    t.finishAbort();
    await settle();
    expect(t.log).toStrictEqual(['abort', 'connect']);
    expect(t.raised).toStrictEqual([
      {
        priority: 'medium',
        cause: 'The device session could not be re-established (HELLO (seq 9) got no reply after 3 attempts over 600 ms)',
        action: 'Disconnect and connect again',
        channel: undefined,
      },
    ]);
    expect(reported()).toStrictEqual([]);
  });

  it('H22 after a failed HELLO the last handshake\'s boot id is kept: a later HELLO with a new one says the restart', async () => {
    const t = setup({
      state: 'aborted',
      info: undefined,
      replies: [{ ok: false, error: { code: 'AckTimeout', verb: 'HELLO', seq: 9, attempts: 3, waitedMs: 600 } }, { ok: true, value: { bootId: 'B2' } as DeviceInfo }],
    });
    await t.intake.rehandshake();
    await t.intake.rehandshake();
    expect(t.raised.map((r) => r.cause)).toStrictEqual([
      'The device session could not be re-established (HELLO (seq 9) got no reply after 3 attempts over 600 ms)',
      'The device restarted (boot id B1 -> B2)',
    ]);
  });
});

describe('DeviceIntake events, mutation survivors', () => {
  it('H18 a TEL on a channel that is not the protocol\'s is ignored, without an error', () => {
    const t = setup();
    t.events.next(tel(3, 1000));
    expect(t.log).toStrictEqual([]);
    expect(t.samples).toStrictEqual([]);
    expect(reported()).toStrictEqual([]);
  });

  it('H18 a TEL with no phase prepared is judged against a maximum of 0 mA and still shown', () => {
    const t = setup({ phase: undefined });
    t.s.advance(500);
    t.events.next(tel(1, 200));
    expect(t.maxMaSeen).toStrictEqual([0]);
    expect(t.samples).toStrictEqual([{ atMs: 500, channel: 1, measuredMa: 0.2, commandedMa: 1.5, targetMa: 2, impedance: 900 }]);
    expect(reported()).toStrictEqual([]);
  });

  it('H18 a TEL on a channel never commanded is shown with 0 mA commanded', () => {
    const t = setup({ channels: [channel(1, false)] });
    t.events.next(tel(1, 300));
    expect(t.samples).toStrictEqual([{ atMs: 0, channel: 1, measuredMa: 0.3, commandedMa: 0, targetMa: 2, impedance: 900 }]);
    expect(t.channels[0]!.measuredMa).toBe(0.3);
    expect(reported()).toStrictEqual([]);
  });

  it('H18 H12 a DONE on a channel that is not the protocol\'s still tells the monitor output is off there, and is early', () => {
    const t = setup();
    t.events.next({ type: 'event', event: 'DONE', args: { ch: 3 } });
    expect(t.log).toStrictEqual(['monitor off 3', 'abort']);
    expect(t.aborts.map((a) => a.reason)).toStrictEqual(['the device ended output on channel 3 before the phase was over']);
    expect(t.channels.map((c) => c.on)).toStrictEqual([true, true]);
    expect(reported()).toStrictEqual([]);
  });

  it('H30 a FAULT after the session was aborted (no abort under way) is journaled and raises its own alarm', () => {
    const t = setup({ state: 'aborted' });
    t.events.next({ type: 'event', event: 'FAULT', args: { ch: 2, code: 'OPEN' } });
    expect(t.records).toStrictEqual([{ type: 'fault', data: { channel: 2, code: 'OPEN', message: 'Channel 2 open circuit' } }]);
    expect(t.raised).toStrictEqual([{ priority: 'high', cause: 'Channel 2 open circuit', action: 'check the clip on the needle, then clear', channel: 2 }]);
  });

  it('a FAULT in a running session is left to the abort to raise', () => {
    const t = setup({ state: 'running' });
    t.events.next({ type: 'event', event: 'FAULT', args: { ch: 2, code: 'OPEN' } });
    expect(t.raised).toStrictEqual([]);
    expect(t.aborts).toHaveLength(1);
  });
});
