/**
 * The session loop: one tick every TICK_MS on the injected scheduler, spaced from a fixed origin,
 * and the heartbeat that feeds the device's watchdog, sent on a tick only while the runner says
 * the session is healthy. A hung or failed host therefore stops heartbeats and the device switches
 * off on its own within its watchdog window. What each tick does besides (the output monitor, the
 * ramp, the journal, the snapshot) is the runner's `onTick`; a heartbeat the device does not
 * answer, or refuses, is handed to `onHeartbeatFailure` with the reason in words.
 */
import type { Subscription } from 'rxjs';
import { HARD_LIMITS } from '../domain/safety/limits.js';
import { type DeviceError, describeDeviceError } from '../device/errors.js';
import type { SessionContext } from './session-context.js';

/** The session loop period, ms: heartbeat cadence and ramp steps are multiples of it. */
export const TICK_MS = 50;
/** How often the heartbeat is sent: the domain's limit table holds the number and its reason. */
export const HEARTBEAT_MS = HARD_LIMITS.heartbeatIntervalMs.value;

export interface SessionLoopContext extends Pick<SessionContext, 'scheduler'> {
  /** HB on the client's own lane (DeviceClient.heartbeat). */
  readonly heartbeat: () => Promise<{ ok: true } | { ok: false; error: DeviceError }>;
  /** Whether the watchdog may be fed now (the link has not failed, the journal can write). */
  readonly healthy: () => boolean;
  /** Everything else a tick does, after the heartbeat decision. */
  readonly onTick: (now: number) => void;
  /** The device did not answer a heartbeat, or refused one: the session must end. */
  readonly onHeartbeatFailure: (reason: string) => void;
}

export class SessionLoop {
  readonly #ctx: SessionLoopContext;
  #loop: Subscription | undefined;
  #lastHeartbeatAt = -Infinity;

  constructor(ctx: SessionLoopContext) {
    this.#ctx = ctx;
  }

  get running(): boolean {
    return this.#loop !== undefined;
  }

  /** (Re)start ticking from now; the first tick is TICK_MS away and carries a heartbeat. */
  start(): void {
    this.stop();
    this.#lastHeartbeatAt = -Infinity;
    const scheduler = this.#ctx.scheduler;
    // Each tick schedules the next as a fresh action (a virtual scheduler chains rescheduled
    // actions into one another, which a 60-minute session would turn into a very deep chain).
    // Ticks are spaced from a fixed origin (origin + k x TICK_MS), so timers that fire a little
    // early or late never accumulate into a slipped heartbeat.
    const origin = scheduler.now();
    let k = 0;
    const next = (): void => {
      k += 1;
      const delay = Math.max(0, origin + k * TICK_MS - scheduler.now());
      this.#loop = scheduler.schedule(() => {
        next();
        this.#tick();
      }, delay);
    };
    next();
  }

  stop(): void {
    this.#loop?.unsubscribe();
    this.#loop = undefined;
  }

  #tick(): void {
    const now = this.#ctx.scheduler.now();
    // Half a tick of tolerance: a tick that fires slightly early still carries its heartbeat.
    if (this.#ctx.healthy() && now - this.#lastHeartbeatAt >= HEARTBEAT_MS - TICK_MS / 2) {
      this.#lastHeartbeatAt = now;
      void this.#ctx.heartbeat().then((r) => {
        if (r.ok || r.error.code === 'Cancelled') return;
        // No answer, or any refusal: a device in session with us always answers HB with OK.
        if (r.error.code === 'AckTimeout') this.#ctx.onHeartbeatFailure(`the device stopped answering heartbeats (${describeDeviceError(r.error)})`);
        else if (r.error.code !== 'SessionLost') this.#ctx.onHeartbeatFailure(`the device refused a heartbeat (${describeDeviceError(r.error)})`);
      });
    }
    this.#ctx.onTick(now);
  }
}
