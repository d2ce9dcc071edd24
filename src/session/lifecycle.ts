/**
 * The session lifecycle: the device connected, a session prepared (the plan checked against this device, its channels
 * set up with each one's treated side resolved by `resolveSides`, the parts reset), cancelled
 * before output, let go for the next one after its end, the device let go of before output, and
 * the application closing. It holds the
 * prepared plan and its channels, which every other part reaches through the context. The
 * runner asks the action-by-state table before each of these; the state is changed only through
 * the context's `enter`.
 */
import { resolveSides } from '../domain/protocols/treated-side.js';
import type { DeviceClient } from '../device/client.js';
import { describeDeviceError } from '../device/errors.js';
import type { DeviceInfo } from '../device/identity.js';
import { deviceCannotRun } from './plan.js';
import type { ChannelControl } from './ramp.js';
import { type SessionResult, deviceError, done, refuse } from './results.js';
import type { SessionContext } from './session-context.js';
import type { SessionPlan } from './session-records.js';

export interface SessionLifecycleContext extends Pick<SessionContext, 'enter' | 'endSession' | 'publish'> {
  readonly client: Pick<DeviceClient, 'connect' | 'info' | 'latched' | 'failure'>;
  /** The session's journal, closed when the session is let go. */
  readonly records: { close(): void };
  /** What a new session starts without: stimulation time, telemetry summaries. */
  readonly clock: { reset(): void };
  readonly journal: { resetTelemetry(): void };
  /** What a forgotten session leaves nothing of: electrode results, warnings, alarms. */
  readonly electrodes: { reset(): void };
  readonly alarms: { resetWarnings(): void; clearAll(): void };
  /** What the application's close stops: an output step under way, the loop, the device's reports. */
  readonly output: { interrupt(): void };
  /** The loop feeds the watchdog, and the intake watches the device's reports, from the handshake on. */
  readonly loop: { start(): void; stop(): void };
  readonly intake: { watch(bootId: string): void; unwatch(): void };
}

export class SessionLifecycle {
  readonly #ctx: SessionLifecycleContext;
  #plan: SessionPlan | undefined;
  #channels: ChannelControl[] = [];

  constructor(ctx: SessionLifecycleContext) {
    this.#ctx = ctx;
  }

  /** The prepared session's plan, or undefined when none is prepared. */
  get plan(): SessionPlan | undefined {
    return this.#plan;
  }

  /** The prepared session's channels (the parts update them in place); empty when none. */
  get channels(): ChannelControl[] {
    return this.#channels;
  }

  /** Handshake with the device; on success the device's reports are watched and the loop starts feeding its watchdog. */
  async connect(): Promise<SessionResult<DeviceInfo>> {
    const ctx = this.#ctx;
    ctx.enter('connecting');
    const r = await ctx.client.connect();
    if (!r.ok) {
      ctx.enter('idle', describeDeviceError(r.error));
      return deviceError(r.error);
    }
    ctx.intake.watch(r.value.bootId);
    ctx.loop.start();
    ctx.enter('ready');
    return { ok: true, value: r.value };
  }

  /** Check `plan` against the connected device's limits; then its channels, off at 0 mA, and screening. */
  prepare(plan: SessionPlan): SessionResult {
    const ctx = this.#ctx;
    const device = ctx.client.info;
    if (!device) return refuse('NotConnected', 'the device is not connected');
    const cannot = deviceCannotRun(plan.protocol, device);
    if (cannot) return cannot;
    this.#plan = plan;
    const sides = resolveSides(plan.protocol.channels, plan.side);
    this.#channels = plan.protocol.channels.map((c, i) => ({
      channel: c.channel,
      region: c.region,
      side: sides[i] ?? c.side,
      sites: c.sites,
      targetMa: 0,
      commanded: undefined,
      active: undefined,
      on: false,
      measuredMa: null,
      impedance: null,
    }));
    ctx.clock.reset();
    ctx.journal.resetTelemetry();
    ctx.electrodes.reset();
    ctx.alarms.resetWarnings();
    ctx.enter('screening');
    return done;
  }

  /** A prepared session abandoned before output: ready, its journal ended as stopped and closed. */
  cancel(): SessionResult {
    this.#ctx.enter('ready', 'cancelled before output');
    this.#ctx.endSession('stopped', 'cancelled before output');
    this.#forget();
    this.#ctx.publish();
    return done;
  }

  /** After a session ended: ready for the next one, unless the stop is latched or the device gone. */
  newSession(): SessionResult {
    const ctx = this.#ctx;
    if (ctx.client.latched) return refuse('Latched', 'the stop is latched: clear it first');
    if (!ctx.client.info || ctx.client.failure) return refuse('NotConnected', 'the device is not connected: connect again');
    ctx.endSession('stopped', 'closed');
    this.#forget();
    ctx.alarms.clearAll();
    ctx.enter('ready');
    return done;
  }

  /** Let go of the device before any output: the record ended as stopped, the journal closed, the loop stopped, idle. */
  disconnect(): SessionResult {
    const ctx = this.#ctx;
    ctx.endSession('stopped', 'disconnected before output');
    ctx.records.close();
    ctx.loop.stop();
    ctx.enter('idle');
    return done;
  }

  /** The application closes: any output step stopped, the loop stopped, the journal ended as aborted and closed. */
  dispose(): void {
    const ctx = this.#ctx;
    ctx.output.interrupt();
    ctx.loop.stop();
    ctx.endSession('aborted', 'the application closed');
    ctx.records.close();
    ctx.intake.unwatch();
  }

  /** The prepared or ended session is let go: its journal closes, and nothing of it is shown. */
  #forget(): void {
    this.#ctx.records.close();
    this.#plan = undefined;
    this.#channels = [];
    this.#ctx.electrodes.reset();
    this.#ctx.alarms.resetWarnings();
  }
}
