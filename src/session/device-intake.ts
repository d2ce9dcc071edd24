/**
 * The fault intake: everything the device says on its own, turned into records and decisions.
 * - TEL: the output monitor judges it against what was commanded, the channel shows it, the
 *   journal summarises it, and the live chart gets a sample;
 * - DONE before the phase is over (more than a second early) is a fault: the device stopped on its
 *   own while the host still expects output;
 * - FAULT and WDOG are recorded first, then end the session; a fault during or after an abort
 *   still gets its own alarm (the abort, already under way, would ignore it);
 * - a link failure (disconnection, reboot, a lost session) ends the session, and once output is
 *   confirmed off after a watchdog trip or a lost session, HELLO again (`rehandshake`) so the next
 *   session does not fail with NO_HELLO;
 * - a monitor verdict (from TEL or from the loop's `check`) is recorded; the first ends the session,
 *   and current on a channel switched off repeats the e-stop and raises its alarm once.
 * The runner's state is reached only through the context's functions.
 */
import type { Observable, Subscription } from 'rxjs';
import type { DeviceEvent } from '../../firmware-protocol/index.js';
import type { DeviceClient } from '../device/client.js';
import { type DeviceError, describeDeviceError } from '../device/errors.js';
import type { DeviceInfo } from '../device/identity.js';
import { faultAlarm } from './alarms.js';
import type { RecordDataInput, TelSample } from './journal-records.js';
import type { MonitorVerdict } from './output-monitor.js';
import { roundMa } from './ramp.js';
import type { SessionContext } from './session-context.js';
import { OUTPUT_STATES } from './states.js';
import type { TelemetrySample } from './views.js';

/** A DONE this long (ms) or more before the host's phase timer is a fault (the device's timer runs from START). */
export const EARLY_DONE_MS = 1000;

export interface DeviceIntakeContext extends Pick<SessionContext, 'scheduler' | 'state' | 'channels' | 'abort' | 'raise' | 'publish'> {
  readonly client: {
    readonly events$: Observable<DeviceEvent>;
    readonly failures$: Observable<DeviceError>;
    readonly traffic$: Observable<{ readonly dir: 'tx' | 'rx'; readonly line: string }>;
    readonly info: DeviceInfo | undefined;
    readonly failure: DeviceError | undefined;
    estop(): unknown;
    connect(): ReturnType<DeviceClient['connect']>;
  };
  readonly monitor: {
    telemetry(channel: number, setpointUa: number, measuredUa: number, atMs: number, protocolMaxMa: number): MonitorVerdict | undefined;
    off(channel: number, atMs: number): void;
  };
  readonly journal: {
    record<K extends 'fault' | 'measurement'>(type: K, data: RecordDataInput<K>): void;
    telemetry(tel: TelSample): void;
    traffic(dir: 'tx' | 'rx', line: string): void;
  };
  /** True while an abort is taking output down. */
  readonly aborting: () => boolean;
  /** The current phase's maxMa and the time it has left (ms), or undefined with no session prepared. */
  readonly phase: () => { readonly maxMa: number; readonly remainingMs: number } | undefined;
  readonly telemetry: (sample: TelemetrySample) => void;
}

export class DeviceIntake {
  readonly #ctx: DeviceIntakeContext;
  #subs: Subscription[] = [];
  /** The device's boot id at the last handshake (kept when a lost session clears the client's). */
  #lastBootId: string | undefined;
  /** The HELLO under way after a lost session or a watchdog trip (one at a time). */
  #rehandshaking: Promise<void> | undefined;

  constructor(ctx: DeviceIntakeContext) {
    this.#ctx = ctx;
  }

  /** Listen to the device (again) after a handshake that returned `bootId`. */
  watch(bootId: string): void {
    this.#lastBootId = bootId;
    this.unwatch();
    const { client, journal } = this.#ctx;
    this.#subs = [
      client.events$.subscribe((e) => this.#onEvent(e)),
      client.failures$.subscribe((f) => {
        const aborted = this.#ctx.abort(describeDeviceError(f), f.code === 'Disconnected');
        if (f.code === 'SessionLost') void aborted.then(() => this.rehandshake());
      }),
      client.traffic$.subscribe((t) => journal.traffic(t.dir, t.line)),
    ];
  }

  unwatch(): void {
    for (const s of this.#subs) s.unsubscribe();
    this.#subs = [];
  }

  /**
   * The device's telemetry contradicts what it was commanded (output-monitor.ts): every such sample
   * is recorded; the first ends the session (e-stop, high alarm naming both values, abort). Current
   * on a channel that was switched off raises its alarm once and repeats the e-stop.
   */
  verdict(v: MonitorVerdict): void {
    this.#ctx.journal.record('measurement', {
      channel: v.channel,
      finding: v.finding,
      ...(v.measuredMa === undefined ? {} : { measuredMa: roundMa(v.measuredMa) }),
      ...(v.limitMa === undefined ? {} : { limitMa: roundMa(v.limitMa) }),
      ...(v.silentMs === undefined ? {} : { silentMs: Math.round(v.silentMs) }),
      message: v.cause,
    });
    if (v.repeat) return;
    if (v.finding === 'current-while-off') {
      void this.#ctx.client.estop();
      this.#ctx.raise('high', v.cause, v.action, v.channel);
      this.#ctx.publish();
      return;
    }
    void this.#ctx.abort(`${v.cause}: ${v.action}`, false, { cause: v.cause, action: v.action, channel: v.channel });
  }

  /**
   * Re-establish the device session (HELLO) after the device ended it (a watchdog trip, a silent
   * reset), so a new session can start without reconnecting by hand. Output stays off: the e-stop
   * is latched until CLEAR, and a new boot id means the device restarted (said so, never resumed).
   */
  rehandshake(): Promise<void> {
    // One HELLO at a time: a watchdog trip and the lost session it causes both ask for one.
    this.#rehandshaking ??= this.#rehandshakeOnce().finally(() => (this.#rehandshaking = undefined));
    return this.#rehandshaking;
  }

  async #rehandshakeOnce(): Promise<void> {
    const { client, raise } = this.#ctx;
    const state = this.#ctx.state();
    if (state === 'idle' || state === 'connecting' || client.failure?.code === 'Disconnected') return;
    const before = client.info?.bootId ?? this.#lastBootId;
    const r = await client.connect();
    if (!r.ok) {
      raise('medium', `The device session could not be re-established (${describeDeviceError(r.error)})`, 'Disconnect and connect again', undefined);
    } else {
      if (before !== undefined && r.value.bootId !== before) {
        raise('medium', `The device restarted (boot id ${before} -> ${r.value.bootId})`, 'Check the device before the next session', undefined);
      }
      this.#lastBootId = r.value.bootId;
    }
    this.#ctx.publish();
  }

  #onEvent(e: DeviceEvent): void {
    const ctx = this.#ctx;
    const now = ctx.scheduler.now();
    switch (e.event) {
      case 'TEL': {
        const c = ctx.channels().find((x) => x.channel === e.args.ch);
        if (!c) return;
        const verdict = ctx.monitor.telemetry(c.channel, e.args.amp, e.args.i, now, ctx.phase()?.maxMa ?? 0);
        if (verdict) this.verdict(verdict);
        c.measuredMa = e.args.i / 1000;
        c.impedance = e.args.z;
        ctx.journal.telemetry(e.args);
        ctx.telemetry({ atMs: now, channel: c.channel, measuredMa: c.measuredMa, commandedMa: c.commanded?.amplitudeMa ?? 0, targetMa: c.targetMa, impedance: e.args.z });
        return;
      }
      case 'DONE': {
        const c = ctx.channels().find((x) => x.channel === e.args.ch);
        if (c) c.on = false;
        ctx.monitor.off(e.args.ch, now);
        // The device ends output on its own at the staged duration, which is never before the
        // host's phase timer; a DONE while the runner still expects output is a fault.
        const state = ctx.state();
        const phase = ctx.phase();
        if (OUTPUT_STATES.has(state) && state !== 'ramping-down' && phase && phase.remainingMs > EARLY_DONE_MS) {
          void ctx.abort(`the device ended output on channel ${e.args.ch} before the phase was over`);
        }
        return;
      }
      case 'FAULT': {
        const ch = e.args.ch;
        const alarm = faultAlarm(e.args.code, ch);
        ctx.journal.record('fault', { channel: ch === 0 ? null : ch, code: e.args.code, message: alarm.cause });
        // A second fault during or after the abort (channel 2 open after channel 1) still gets
        // its own alarm: the abort below would ignore it.
        if (ctx.aborting() || ctx.state() === 'aborted') {
          ctx.raise('high', alarm.cause, alarm.action, alarm.channel);
          ctx.publish();
        }
        void ctx.abort(`${alarm.cause}: ${alarm.action}`, false, alarm);
        return;
      }
      case 'WDOG':
        ctx.journal.record('fault', { channel: null, code: 'WDOG', message: 'device watchdog tripped' });
        // The watchdog ended the device's session with this host too (PROTOCOL.md §11): once output
        // is confirmed off, HELLO again before anything else.
        void ctx.abort('the device watchdog tripped: it heard nothing valid from this computer for its whole window; output is off').then(() => this.rehandshake());
        return;
      case 'BOOT':
        return; // the client turns a new boot id into a Rebooted failure
    }
  }
}
