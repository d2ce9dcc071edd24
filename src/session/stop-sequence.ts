/**
 * The two ways output is taken down at once, in the order that matters for the patient: the
 * ESTOP frame is written before anything else happens, then output is marked off everywhere, then
 * the alarm, the state and the record follow.
 * - `abort`: something went wrong (a fault, a lost link, a journal that cannot write). E-stop
 *   first (unless the port is gone, when there is nothing to write to), a high alarm, the
 *   `aborted` state and the session's end record; a second abort while one runs starts nothing
 *   (its own records failing would abort again) but resolves only when the first is done, i.e.
 *   once the device confirmed the e-stop, so what a caller does after an abort (a new HELLO after
 *   a lost session, H28) never runs while output is not yet confirmed off; an abort when no
 *   session is active does nothing but stop the loop if the port went.
 * - `estop`: the clinician's (or a UI's) emergency stop, never refused. It is recorded at once,
 *   and again with the device's confirmation (or the lack of it within ACK_GIVE_UP_MS); the
 *   session's record ends only then, so the confirmation is part of it.
 * - `clear`: CLEAR the device's latch; the alarm and the record say so only once the device did.
 * The runner's state is reached only through the context's functions.
 */
import type { DeviceClient } from '../device/client.js';
import type { DeviceError } from '../device/errors.js';
import { ACK_GIVE_UP_MS } from '../device/timing.js';
import { estopAlarm } from './alarms.js';
import type { RecordDataInput } from './journal-records.js';
import { type SessionResult, deviceError, done, refuse, within } from './results.js';
import type { AbortAlarm, SessionContext } from './session-context.js';
import { OUTPUT_STATES, canTransition } from './states.js';

export interface StopSequenceContext extends Pick<SessionContext, 'scheduler' | 'state' | 'enter' | 'endSession' | 'raise' | 'publish'> {
  readonly client: Pick<DeviceClient, 'request'> & { estop(): Promise<{ ok: true } | { ok: false; error: DeviceError }> };
  readonly journal: {
    record(type: 'estop', data: RecordDataInput<'estop'>): void;
    /** The open journal (an e-stop's confirmation goes only into the journal it began in). */
    readonly current: unknown;
  };
  /** Whether any channel is on (an e-stop with nothing on is recorded but is no alarm). */
  readonly anyOn: () => boolean;
  /** Output off everywhere, at once (output-sequencer.ts `allOff`). */
  readonly allOff: () => void;
  /** The port is gone: the loop has nothing left to feed. */
  readonly stopLoop: () => void;
  /** The latch was cleared by `by`: the alarm board rewrites a showing e-stop alarm (and records it). */
  readonly latchCleared: (by: string) => void;
}

export class StopSequence {
  readonly #ctx: StopSequenceContext;
  /** The abort under way: resolves when it is done (never rejects). */
  #running: Promise<void> | undefined;

  constructor(ctx: StopSequenceContext) {
    this.#ctx = ctx;
  }

  /** True while an abort is taking output down. */
  get aborting(): boolean {
    return this.#running !== undefined;
  }

  /** End the session because something went wrong (see the module's comment). */
  async abort(reason: string, portGone = false, alarm?: AbortAlarm): Promise<void> {
    if (this.#running) return this.#running;
    const state = this.#ctx.state();
    if (state === 'aborted' || state === 'idle' || state === 'connecting') {
      if (state !== 'aborted' && portGone) this.#ctx.stopLoop();
      return;
    }
    // Set before #abortOnce runs: its alarm and records run synchronously and may abort again.
    let finished: () => void = () => undefined;
    this.#running = new Promise<void>((resolve) => (finished = resolve));
    try {
      await this.#abortOnce(reason, portGone, alarm);
    } finally {
      this.#running = undefined;
      finished();
    }
  }

  /** The emergency stop (see the module's comment); never refused, in any state. */
  async estop(source: string): Promise<SessionResult> {
    const ctx = this.#ctx;
    const acked = ctx.client.estop();
    const outputWasOn = ctx.anyOn() || OUTPUT_STATES.has(ctx.state());
    ctx.allOff();
    // With nothing on the stop is sent and recorded, but it is no alarm condition (alarms.ts).
    const alarm = estopAlarm(source, outputWasOn);
    if (alarm) ctx.raise(alarm.priority, alarm.cause, alarm.action, undefined, alarm);
    ctx.journal.record('estop', { source, acked: false });
    const ended = canTransition(ctx.state(), 'stopped');
    if (ended) ctx.enter('stopped', `emergency stop (${source})`);
    const journal = ctx.journal.current;
    const r = await within(ctx.scheduler, acked, ACK_GIVE_UP_MS);
    if (ctx.journal.current === journal) {
      ctx.journal.record('estop', { source, acked: r?.ok ?? false });
      if (ended) ctx.endSession('stopped', `emergency stop (${source})${r?.ok ? '' : ': the device did not confirm'}`);
    }
    ctx.publish();
    if (r === undefined) return refuse('EstopUnconfirmed', 'the device has not confirmed the emergency stop yet; it is being repeated until it does');
    return r.ok ? done : deviceError(r.error);
  }

  /** Clear a latched stop on the device (outputs stay off); only once the device said so is it shown and recorded. */
  async clear(by: string): Promise<SessionResult> {
    const r = await this.#ctx.client.request('CLEAR', {});
    if (!r.ok) return deviceError(r.error);
    // "latched" goes with the latch: a showing e-stop alarm says the stop is cleared.
    this.#ctx.latchCleared(by);
    this.#ctx.publish();
    return done;
  }

  async #abortOnce(reason: string, portGone: boolean, alarm: AbortAlarm | undefined): Promise<void> {
    const ctx = this.#ctx;
    const acked = portGone ? undefined : ctx.client.estop();
    ctx.allOff();
    ctx.raise('high', alarm?.cause ?? reason, alarm?.action ?? 'Check the patient and the device, then clear', alarm?.channel);
    if (canTransition(ctx.state(), 'aborted')) {
      ctx.enter('aborted', reason);
      ctx.endSession('aborted', reason);
    }
    if (portGone) ctx.stopLoop();
    if (acked) await acked;
    ctx.publish();
  }
}
