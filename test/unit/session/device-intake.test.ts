/**
 * The fault intake on its own, on virtual time, with a fake client whose streams the test drives:
 * every FAULT journaled (also one arriving during an abort, which gets its own alarm), a DONE
 * more than EARLY_DONE_MS before the phase's end aborts and one within it does not, TEL moves the
 * channel and the chart, WDOG and a lost session HELLO again only once the abort is done, and a
 * monitor verdict is recorded and aborts once.
 */
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { DeviceEvent } from '../../../firmware-protocol/index.js';
import type { DeviceError } from '../../../src/device/errors.js';
import type { DeviceInfo } from '../../../src/device/identity.js';
import { DeviceIntake, EARLY_DONE_MS } from '../../../src/session/device-intake.js';
import type { AbortAlarm } from '../../../src/session/session-context.js';
import type { MonitorVerdict } from '../../../src/session/output-monitor.js';
import type { ChannelControl } from '../../../src/session/ramp.js';
import type { SessionState } from '../../../src/session/states.js';
import type { TelemetrySample } from '../../../src/session/views.js';
import { ManualScheduler, settle } from '../../support/virtual-time.js';

function channel(n: number): ChannelControl {
  return { channel: n, region: 'knee', side: 'left', sites: [], targetMa: 2, commanded: { amplitudeMa: 1.5, atMs: 0 }, active: undefined, on: true, measuredMa: null, impedance: null };
}

function setup(opts: { state?: SessionState; remainingMs?: number; bootIds?: string[] } = {}) {
  const s = new ManualScheduler();
  const events = new Subject<DeviceEvent>();
  const failures = new Subject<DeviceError>();
  const traffic = new Subject<{ dir: 'tx' | 'rx'; line: string }>();
  const log: string[] = [];
  const records: { type: string; data: unknown }[] = [];
  const raised: { priority: string; cause: string; channel: number | undefined }[] = [];
  const aborts: { reason: string; portGone: boolean | undefined; alarm: AbortAlarm | undefined }[] = [];
  const samples: TelemetrySample[] = [];
  const offs: number[] = [];
  let verdict: MonitorVerdict | undefined;
  let state: SessionState = opts.state ?? 'running';
  let aborting = false;
  let remainingMs = opts.remainingMs ?? 60_000;
  let finishAbort: () => void = () => undefined;
  const bootIds = [...(opts.bootIds ?? ['B1'])];
  const channels = [channel(1), channel(2)];
  const intake = new DeviceIntake({
    scheduler: s,
    client: {
      events$: events,
      failures$: failures,
      traffic$: traffic,
      info: { bootId: 'B1' } as DeviceInfo,
      failure: undefined,
      estop: () => log.push('estop'),
      connect: () => {
        log.push('connect');
        return Promise.resolve({ ok: true, value: { bootId: bootIds.shift() ?? 'B1' } as DeviceInfo });
      },
    },
    monitor: {
      telemetry: () => verdict,
      off: (ch) => offs.push(ch),
    },
    journal: {
      record: (type, data) => records.push({ type, data }),
      telemetry: () => log.push('tel-summary'),
      traffic: (dir, line) => log.push(`${dir} ${line}`),
    },
    channels: () => channels,
    state: () => state,
    aborting: () => aborting,
    phase: () => ({ maxMa: 4, remainingMs }),
    abort: (reason, portGone, alarm) => {
      aborts.push({ reason, portGone, alarm });
      log.push('abort');
      aborting = true;
      return new Promise<void>((resolve) => {
        finishAbort = () => {
          aborting = false;
          state = 'aborted';
          log.push('abort done');
          resolve();
        };
      });
    },
    raise: (priority, cause, _action, ch) => raised.push({ priority, cause, channel: ch }),
    publish: () => undefined,
    telemetry: (sample) => samples.push(sample),
  });
  intake.watch('B1');
  return {
    s, events, failures, traffic, intake, log, records, raised, aborts, samples, offs, channels,
    setVerdict: (v: MonitorVerdict | undefined) => (verdict = v),
    setRemaining: (ms: number) => (remainingMs = ms),
    finishAbort: () => finishAbort(),
  };
}

const tel = (ch: number, i: number): DeviceEvent => ({ type: 'event', event: 'TEL', args: { ch, amp: 1500, i, z: 900, q: 0 } });

describe('DeviceIntake', () => {
  it('TEL moves the channel and the chart and is summarised; traffic goes to the journal', () => {
    const t = setup();
    t.s.advance(1234);
    t.events.next(tel(2, 1480));
    expect(t.channels[1]!.measuredMa).toBe(1.48);
    expect(t.channels[1]!.impedance).toBe(900);
    expect(t.channels[0]!.measuredMa).toBeNull();
    expect(t.samples).toEqual([{ atMs: 1234, channel: 2, measuredMa: 1.48, commandedMa: 1.5, targetMa: 2, impedance: 900 }]);
    t.traffic.next({ dir: 'tx', line: 'HB 7' });
    expect(t.log).toEqual(['tel-summary', 'tx HB 7']);
    t.events.next(tel(3, 1000)); // not a channel of this protocol
    expect(t.samples).toHaveLength(1);
  });

  it('a FAULT is journaled before the abort, naming its channel (null for every channel)', () => {
    const t = setup();
    t.events.next({ type: 'event', event: 'FAULT', args: { ch: 1, code: 'OPEN' } });
    expect(t.records).toEqual([{ type: 'fault', data: { channel: 1, code: 'OPEN', message: 'Channel 1 open circuit' } }]);
    expect(t.aborts).toHaveLength(1);
    expect(t.aborts[0]!.alarm).toEqual({ cause: 'Channel 1 open circuit', action: 'check the clip on the needle, then clear', channel: 1 });
    expect(t.raised).toEqual([]); // the abort raises it
    t.events.next({ type: 'event', event: 'FAULT', args: { ch: 0, code: 'OVERCURRENT' } });
    expect(t.records[1]).toMatchObject({ type: 'fault', data: { channel: null, code: 'OVERCURRENT' } });
  });

  it('a second fault during the abort is journaled and gets its own alarm', () => {
    const t = setup();
    t.events.next({ type: 'event', event: 'FAULT', args: { ch: 1, code: 'OPEN' } });
    t.events.next({ type: 'event', event: 'FAULT', args: { ch: 2, code: 'OPEN' } });
    expect(t.records.map((r) => (r.data as { channel: number }).channel)).toEqual([1, 2]);
    expect(t.raised).toEqual([{ priority: 'high', cause: 'Channel 2 open circuit', channel: 2 }]);
  });

  it('a DONE more than EARLY_DONE_MS before the phase ends aborts; one within it does not', () => {
    const t = setup({ remainingMs: EARLY_DONE_MS + 1 });
    t.events.next({ type: 'event', event: 'DONE', args: { ch: 2 } });
    expect(t.channels[1]!.on).toBe(false);
    expect(t.offs).toEqual([2]);
    expect(t.aborts.map((a) => a.reason)).toEqual(['the device ended output on channel 2 before the phase was over']);
    const u = setup({ remainingMs: EARLY_DONE_MS });
    u.events.next({ type: 'event', event: 'DONE', args: { ch: 1 } });
    expect(u.channels[0]!.on).toBe(false);
    expect(u.aborts).toEqual([]);
  });

  it('a DONE while ramping down, or out of output, is no fault', () => {
    for (const state of ['ramping-down', 'paused', 'completed'] as const) {
      const t = setup({ state, remainingMs: 30_000 });
      t.events.next({ type: 'event', event: 'DONE', args: { ch: 1 } });
      expect(t.aborts).toEqual([]);
    }
  });

  it('WDOG: recorded, aborted, and HELLO again only once the abort has finished; a new boot id is said', async () => {
    const t = setup({ bootIds: ['B2'] });
    t.events.next({ type: 'event', event: 'WDOG', args: {} });
    expect(t.records).toEqual([{ type: 'fault', data: { channel: null, code: 'WDOG', message: 'device watchdog tripped' } }]);
    await settle();
    expect(t.log).toEqual(['abort']);
    t.finishAbort();
    await settle();
    expect(t.log).toEqual(['abort', 'abort done', 'connect']);
    expect(t.raised).toEqual([{ priority: 'medium', cause: 'The device restarted (boot id B1 -> B2)', channel: undefined }]);
  });

  it('a lost session aborts and then HELLOs again; a disconnection aborts with the port gone and does not', async () => {
    const t = setup();
    t.failures.next({ code: 'SessionLost', verb: 'HB', detail: 'NO_HELLO' });
    t.finishAbort();
    await settle();
    expect(t.log).toEqual(['abort', 'abort done', 'connect']);
    expect(t.aborts[0]!.portGone).toBe(false);
    expect(t.raised).toEqual([]); // same boot id: nothing to say
    const u = setup();
    u.failures.next({ code: 'Disconnected', detail: 'port closed' });
    u.finishAbort();
    await settle();
    expect(u.aborts[0]!.portGone).toBe(true);
    expect(u.log).toEqual(['abort', 'abort done']);
  });

  it('a verdict is recorded (rounded) and aborts; a repeat is only recorded; current while off e-stops again without an abort', () => {
    const t = setup();
    const v: MonitorVerdict = { finding: 'over-commanded', channel: 1, measuredMa: 2.0004, limitMa: 1.5, cause: 'Channel 1 over', action: 'check' };
    t.setVerdict(v);
    t.events.next(tel(1, 2000));
    expect(t.records).toEqual([{ type: 'measurement', data: { channel: 1, finding: 'over-commanded', measuredMa: 2, limitMa: 1.5, message: 'Channel 1 over' } }]);
    expect(t.aborts).toEqual([{ reason: 'Channel 1 over: check', portGone: false, alarm: { cause: 'Channel 1 over', action: 'check', channel: 1 } }]);
    t.intake.verdict({ ...v, repeat: true });
    expect(t.records).toHaveLength(2);
    expect(t.aborts).toHaveLength(1);
    t.intake.verdict({ finding: 'current-while-off', channel: 2, measuredMa: 0.8, cause: 'Current on channel 2 after off', action: 'remove' });
    expect(t.log.filter((l) => l === 'estop')).toHaveLength(1);
    expect(t.raised).toEqual([{ priority: 'high', cause: 'Current on channel 2 after off', channel: 2 }]);
    expect(t.aborts).toHaveLength(1);
  });

  it('unwatch stops listening', () => {
    const t = setup();
    t.intake.unwatch();
    t.events.next({ type: 'event', event: 'FAULT', args: { ch: 1, code: 'OPEN' } });
    expect(t.records).toEqual([]);
  });
});
