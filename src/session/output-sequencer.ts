/**
 * The output sequencer: when output goes on and off, and how one phase hands over to the next.
 * - `begin` stages every channel at 0 mA for the rest of the phase (each program through the guard
 *   first: a refusal aborts before anything of it is sent), STARTs it, starts the phase timer on
 *   the session clock and hands over to the ramp;
 * - `stopOutput` STOPs every channel (one frame: output off at once, the programs discarded);
 *   `pause` does so with the clock held, `stop` then ends the session as stopped;
 * - at the phase's end the channels stop; the last phase completes the session, any other one
 *   moves to the next phase (its targets capped at the next phase's maxMa) and begins again.
 * Every interruption (`interrupt`) increments the epoch, so an answer that arrives after it finds
 * its continuation stale and does nothing. The runner's state is reached only through the context.
 */
import { checkStimulation } from '../domain/safety/guard.js';
import type { DeviceClient } from '../device/client.js';
import { type DeviceError, describeDeviceError } from '../device/errors.js';
import type { DeviceInfo } from '../device/identity.js';
import type { SessionClock } from './clock.js';
import type { RecordDataInput } from './journal-records.js';
import { phaseDurationMs, phaseLimits, phaseParams } from './plan.js';
import { type SessionResult, deviceError, done, illegal, limitExceeded, refuse } from './results.js';
import type { SessionContext } from './session-context.js';

export type BeginCause = 'start' | 'resume' | 'phase';
export type StopCause = 'pause' | 'stop' | 'ramp-down';

export interface OutputSequencerContext
  extends Pick<SessionContext, 'scheduler' | 'state' | 'protocol' | 'channels' | 'enter' | 'endSession' | 'abort' | 'noteWarnings' | 'publish'> {
  readonly client: Pick<DeviceClient, 'info' | 'stage' | 'start' | 'request'>;
  readonly clock: Pick<SessionClock, 'phaseIndex' | 'phaseRemainingMs' | 'run' | 'interrupt' | 'nextPhase' | 'elapsedMs'>;
  readonly monitor: { on(channel: number, startMa: number, atMs: number): void; allOff(atMs: number): void };
  readonly journal: {
    record<K extends 'amplitude' | 'phase' | 'phase-end'>(type: K, data: RecordDataInput<K>): void;
    started(channel: number): void;
  };
  /** The ramp takes over (a step now, toward the targets). */
  readonly kickRamp: () => void;
}

export class OutputSequencer {
  readonly #ctx: OutputSequencerContext;
  #epoch = 0;
  #starting = false;

  constructor(ctx: OutputSequencerContext) {
    this.#ctx = ctx;
  }

  /** Incremented whenever output is interrupted; stale async continuations check it. */
  get epoch(): number {
    return this.#epoch;
  }

  /** True while `begin` stages and starts the channels. */
  get starting(): boolean {
    return this.#starting;
  }

  /** Hold the clock and cancel the phase timer; async work begun before this is now stale. */
  interrupt(): void {
    this.#epoch += 1;
    this.#ctx.clock.interrupt();
  }

  /** Output is off everywhere (an e-stop or an abort): the monitor and the channels say so at once. */
  allOff(): void {
    this.interrupt();
    this.#ctx.monitor.allOff(this.#ctx.scheduler.now());
    for (const c of this.#ctx.channels()) c.on = false;
  }

  /** A command failed: the session aborts (unless an e-stop withdrew it), and the error is returned. */
  async failOutput(error: DeviceError): Promise<SessionResult> {
    if (error.code !== 'Cancelled') await this.#ctx.abort(describeDeviceError(error));
    return deviceError(error);
  }

  /** Stage every channel at 0 mA for the rest of the phase, start it, and hand over to the ramp. */
  async begin(cause: BeginCause): Promise<SessionResult> {
    const device = this.#ctx.client.info;
    if (!device) return refuse('NotConnected', 'the device is not connected');
    const epoch = ++this.#epoch;
    this.#starting = true;
    try {
      return await this.#stageAndStart(cause, epoch, device);
    } finally {
      this.#starting = false;
    }
  }

  /** The clinician pauses: output off at once (STOP), the clock held; `begin('resume')` goes on. */
  async pause(): Promise<SessionResult> {
    this.interrupt();
    this.#ctx.enter('paused');
    return this.stopOutput('pause');
  }

  /** The clinician ends the session early: STOP, then stopped (not latched) and the end record, unless something overtook it. */
  async stop(): Promise<SessionResult> {
    const why = 'stopped by the clinician';
    this.interrupt();
    this.#ctx.enter('ramping-down', why);
    const r = await this.stopOutput('stop');
    if (this.#ctx.state() === 'ramping-down') {
      this.#ctx.enter('stopped', why);
      this.#ctx.endSession('stopped', why);
    }
    return r;
  }

  /** STOP every channel (output off at once; the device discards the programs). */
  async stopOutput(cause: StopCause): Promise<SessionResult> {
    const { monitor, journal, scheduler } = this.#ctx;
    monitor.allOff(scheduler.now());
    for (const c of this.#ctx.channels()) {
      if (c.on || (c.commanded?.amplitudeMa ?? 0) > 0) journal.record('amplitude', { channel: c.channel, targetMa: c.targetMa, commandedMa: 0, cause });
      c.on = false;
      c.commanded = undefined;
      c.active = undefined;
    }
    this.#ctx.publish();
    const r = await this.#ctx.client.request('STOP', {});
    if (!r.ok) {
      // Withdrawn because an e-stop overtook it: the e-stop is taking output down, not a failure.
      if (r.error.code !== 'Cancelled') await this.#ctx.abort(`STOP failed: ${describeDeviceError(r.error)}`);
      return deviceError(r.error);
    }
    return done;
  }

  async #stageAndStart(cause: BeginCause, epoch: number, device: DeviceInfo): Promise<SessionResult> {
    const { client, clock, journal, scheduler } = this.#ctx;
    const protocol = this.#ctx.protocol();
    const phase = protocol.phases[clock.phaseIndex]!;
    const phaseMs = phaseDurationMs(phase);
    const remainingMs = clock.phaseRemainingMs(phaseMs);
    const limits = phaseLimits(protocol, clock.phaseIndex);
    this.#ctx.enter('ramping', cause === 'phase' ? `phase '${phase.name}'` : undefined);
    for (const c of this.#ctx.channels()) {
      const proposal = phaseParams(protocol, clock.phaseIndex, c.channel, remainingMs);
      const checked = checkStimulation(proposal, { device: device.limits, protocol: limits, electrode: protocol.electrode });
      if (!checked.ok) {
        await this.#ctx.abort(`the guard refused channel ${c.channel}: ${checked.violations.map((v) => v.message).join('; ')}`);
        return limitExceeded(checked.violations, 'refused by the guard');
      }
      this.#ctx.noteWarnings(checked.checked.warnings, c.channel);
      const staged = await client.stage(checked.checked);
      if (epoch !== this.#epoch) return illegal(cause, this.#ctx.state());
      if (!staged.ok) return this.failOutput(staged.error);
      const started = await client.start(checked.checked);
      if (epoch !== this.#epoch) return illegal(cause, this.#ctx.state());
      if (!started.ok) return this.failOutput(started.error);
      c.active = checked.checked;
      c.on = true;
      journal.started(c.channel);
      c.commanded = { amplitudeMa: 0, atMs: scheduler.now() };
      this.#ctx.monitor.on(c.channel, checked.checked.value.amplitudeMa, scheduler.now());
      journal.record('amplitude', { channel: c.channel, targetMa: c.targetMa, commandedMa: 0, cause: cause === 'resume' ? 'resume' : 'ramp' });
    }
    clock.run(phaseMs, () => void this.#onPhaseEnd(epoch));
    this.#ctx.publish();
    this.#ctx.kickRamp();
    return done;
  }

  async #onPhaseEnd(epoch: number): Promise<void> {
    if (epoch !== this.#epoch) return;
    this.interrupt();
    const { clock, journal } = this.#ctx;
    const phases = this.#ctx.protocol().phases;
    const index = clock.phaseIndex;
    journal.record('phase-end', { index, name: phases[index]!.name, atS: clock.elapsedMs() / 1000 });
    if (index >= phases.length - 1) {
      this.#ctx.enter('ramping-down', 'protocol time elapsed');
      const r = await this.stopOutput('ramp-down');
      if (r.ok && this.#ctx.state() === 'ramping-down') {
        this.#ctx.enter('completed', 'protocol time elapsed');
        this.#ctx.endSession('completed', undefined);
      }
      return;
    }
    const stopped = await this.stopOutput('ramp-down');
    if (!stopped.ok) return;
    clock.nextPhase();
    const next = phases[clock.phaseIndex]!;
    for (const c of this.#ctx.channels()) c.targetMa = Math.min(c.targetMa, next.amplitude.maxMa);
    journal.record('phase', { index: clock.phaseIndex, name: next.name, atS: clock.elapsedMs() / 1000 });
    await this.begin('phase');
  }
}
