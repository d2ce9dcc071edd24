/**
 * SessionRunner: turns a validated protocol, a cleared screening and an explicit start into
 * current at the needles, and a record of it.
 *
 * One loop (`#tick`, every TICK_MS on the injected scheduler) knows whether the session is healthy
 * and only then feeds the device's watchdog with HB; the same loop raises amplitude in
 * slew-limited steps. Every stimulating command passes the guard (src/domain/safety/guard.ts) and
 * is sent from its `Checked` value. Anything that goes wrong with output possibly on (a device
 * fault, a watchdog trip, a reboot, a lost heartbeat, an unanswered command, a journal that cannot
 * write) ends in an e-stop and the `aborted` state, with the reason said in words.
 *
 * The runner coordinates parts that each do one job and are tested on their own: the session
 * clock (clock.ts), the ramp rules (ramp.ts), the alarm board (alarm-board.ts, with the words from
 * alarms.ts), the journaler (journaler.ts), the snapshot projector (snapshot.ts, the shapes in
 * views.ts), the output monitor (output-monitor.ts) and the action-by-state table (states.ts).
 */
import { BehaviorSubject, Subject, type Observable, type SchedulerLike } from 'rxjs';
import { TOLERANCE } from '../domain/safety/limits.js';
import { type ScreeningCleared, clearanceCovers, isScreeningCleared } from '../domain/screening.js';
import { notePrivacyProblem } from '../domain/privacy.js';
import type { Protocol } from '../domain/protocols/derive.js';
import { type TreatedSide, resolveSides } from '../domain/protocols/treated-side.js';
import type { DeviceClient } from '../device/client.js';
import { describeDeviceError } from '../device/errors.js';
import type { DeviceInfo } from '../device/identity.js';
import { AlarmBoard } from './alarm-board.js';
import type { AlarmPriority } from './alarms.js';
import { SessionClock } from './clock.js';
import { SessionLoop } from './session-loop.js';
import { OutputSequencer } from './output-sequencer.js';
import { StopSequence } from './stop-sequence.js';
import { type AbortAlarm, DeviceIntake } from './device-intake.js';
import { type ElectrodeResult, judgeElectrode } from './electrodes.js';
import { DATA_SCHEMAS, type RecordDataInput, protocolRecord } from './journal-records.js';
import { Journaler } from './journaler.js';
import { deviceCannotRun, phaseDurationMs } from './plan.js';
import { type ChannelControl, RampController, type TitrationOutcome, isTitrationStep, planTitration, TITRATION_STEPS_MA } from './ramp.js';
import type { RecorderFactory } from './recorder.js';
import { type Refusal, type SessionResult, deviceError, done, illegal, invalid, journalUnavailable, limitExceeded, refuse } from './results.js';
import { OutputMonitor } from './output-monitor.js';
import { projectSnapshot } from './snapshot.js';
import { type EndReason, OUTPUT_STATES, type SessionAction, type SessionState, TERMINAL_STATES, allowedIn, canTransition } from './states.js';
import type { SessionSnapshot, TelemetrySample } from './views.js';

export { HEARTBEAT_MS, TICK_MS } from './session-loop.js';
export { RAMP_STEP_MS, TITRATION_STEPS_MA, type TitrationOutcome } from './ramp.js';
export { JOURNAL_RETRY_MS } from './journaler.js';
export type { SessionError, SessionResult } from './results.js';
export type { Alarm, ChannelView, SessionSnapshot, TelemetrySample } from './views.js';
export type { AlarmPriority } from './alarms.js';

export interface SessionRunnerOptions {
  readonly client: DeviceClient;
  readonly scheduler: SchedulerLike;
  /** Opens the journal of a new session. Without it nothing is recorded (tests only). */
  readonly recorder?: RecorderFactory;
  /** A fresh session id. */
  readonly newSessionId?: () => string;
  /** Recorded in every session's start record. */
  readonly appVersion?: string;
}

export interface SessionPlan {
  readonly protocol: Protocol;
  /** Initials or staff id of the clinician running the session (optional). */
  readonly clinician?: string;
  /** The treated side of the protocol's "affected" channels (the service checks it: sideChoiceProblem). */
  readonly side?: TreatedSide;
}

export class SessionRunner {
  readonly #client: DeviceClient;
  readonly #newSessionId: () => string;
  readonly #appVersion: string;
  readonly #snapshot: BehaviorSubject<SessionSnapshot>;
  readonly #telemetry = new Subject<TelemetrySample>();
  readonly #clock: SessionClock;
  readonly #alarms: AlarmBoard;
  readonly #journal: Journaler;
  /** What the device says it delivers, against what it was commanded. */
  readonly #monitor = new OutputMonitor();
  /** Raises amplitude in slew-limited steps (ramp.ts: the slew rule lives there). */
  readonly #ramp: RampController;

  #state: SessionState = 'idle';
  #reason: string | undefined;
  #plan: SessionPlan | undefined;
  #screening: ScreeningCleared | undefined;
  #channels: ChannelControl[] = [];
  #electrodes: ElectrodeResult[] = [];
  #sessionId: string | undefined;
  /** The tick and the heartbeat (session-loop.ts). */
  readonly #loop: SessionLoop;
  /** The abort and the e-stop (stop-sequence.ts). */
  readonly #stops: StopSequence;
  /** Output on and off, and one phase after another (output-sequencer.ts). */
  readonly #output: OutputSequencer;
  /** What the device says on its own: telemetry, faults, link failures (device-intake.ts). */
  readonly #intake: DeviceIntake;

  /** The whole state for a UI, on every change. */
  readonly snapshot$: Observable<SessionSnapshot>;
  /** Per-channel telemetry for live charts. */
  readonly telemetry$: Observable<TelemetrySample>;

  constructor(options: SessionRunnerOptions) {
    this.#client = options.client;
    this.#newSessionId = options.newSessionId ?? defaultSessionId(options.scheduler);
    this.#appVersion = options.appVersion ?? '0.1.0';
    this.#clock = new SessionClock(options.scheduler);
    this.#journal = new Journaler({
      scheduler: options.scheduler,
      factory: options.recorder,
      onRecordError: (message) => this.#raise('medium', `A record could not be written (${message})`, 'Report this; the session continues', undefined),
      onFailure: (text) => void this.#abort(`the session journal cannot be written (${text}; its records are held in memory and written when it can); output is off`),
    });
    this.#alarms = new AlarmBoard(
      () => options.scheduler.now(),
      (r) => this.#journal.record(r.type, r.data),
    );
    this.#ramp = new RampController({
      scheduler: options.scheduler,
      client: options.client,
      monitor: this.#monitor,
      noteWarnings: (w, ch) => this.#alarms.noteWarnings(w, ch),
      record: (type, data) => this.#journal.record(type, data),
      state: () => this.#state,
      epoch: () => this.#output.epoch,
      starting: () => this.#output.starting,
      protocol: () => this.#plan!.protocol,
      phaseIndex: () => this.#clock.phaseIndex,
      channels: () => this.#channels,
      failOutput: (e) => this.#output.failOutput(e),
      reachedTargets: () => this.#enter('running'),
      publish: () => this.#publish(),
    });
    this.#loop = new SessionLoop({
      scheduler: options.scheduler,
      heartbeat: () => this.#client.heartbeat(),
      // A journal that fails during a session stops the heartbeat (output must not go on
      // unrecorded); after the session's end it no longer matters to the device.
      healthy: () => !this.#client.failure && !this.#journal.failingSession,
      onTick: (now) => this.#onTick(now),
      onHeartbeatFailure: (reason) => void this.#abort(reason),
    });
    this.#output = new OutputSequencer({
      scheduler: options.scheduler,
      client: options.client,
      clock: this.#clock,
      monitor: this.#monitor,
      journal: this.#journal,
      noteWarnings: (w, ch) => this.#alarms.noteWarnings(w, ch),
      protocol: () => this.#plan!.protocol,
      channels: () => this.#channels,
      state: () => this.#state,
      enter: (to, reason) => this.#enter(to, reason),
      abort: (reason) => this.#abort(reason),
      endSession: (reason, detail) => this.#endSessionIfOpen(reason, detail),
      kickRamp: () => this.#ramp.kick(),
      publish: () => this.#publish(),
    });
    this.#stops = new StopSequence({
      scheduler: options.scheduler,
      client: options.client,
      journal: this.#journal,
      state: () => this.#state,
      anyOn: () => this.#channels.some((c) => c.on),
      allOff: () => this.#output.allOff(),
      enter: (to, reason) => this.#enter(to, reason),
      endSession: (reason, detail) => this.#endSessionIfOpen(reason, detail),
      raise: (priority, cause, action, channel, rule) => void this.#alarms.raise(priority, cause, action, channel, rule),
      stopLoop: () => this.#loop.stop(),
      publish: () => this.#publish(),
    });
    this.#intake = new DeviceIntake({
      scheduler: options.scheduler,
      client: options.client,
      monitor: this.#monitor,
      journal: this.#journal,
      channels: () => this.#channels,
      state: () => this.#state,
      aborting: () => this.#stops.aborting,
      phase: () => (this.#plan ? { maxMa: this.#phase().amplitude.maxMa, remainingMs: this.#clock.phaseRemainingMs(phaseDurationMs(this.#phase())) } : undefined),
      abort: (reason, portGone, alarm) => this.#abort(reason, portGone, alarm),
      raise: (priority, cause, action, channel) => void this.#raise(priority, cause, action, channel),
      publish: () => this.#publish(),
      telemetry: (sample) => this.#telemetry.next(sample),
    });
    this.#snapshot = new BehaviorSubject(this.#view());
    this.snapshot$ = this.#snapshot.asObservable();
    this.telemetry$ = this.#telemetry.asObservable();
  }

  get state(): SessionState {
    return this.#state;
  }

  get snapshot(): SessionSnapshot {
    return this.#snapshot.value;
  }

  // ---- connection -------------------------------------------------------------------------------

  /** Handshake with the device; on success the session loop starts feeding its watchdog. */
  async connect(): Promise<SessionResult<DeviceInfo>> {
    const refused = this.#require('connect');
    if (refused) return refused;
    this.#enter('connecting');
    const r = await this.#client.connect();
    if (!r.ok) {
      this.#enter('idle', describeDeviceError(r.error));
      return deviceError(r.error);
    }
    this.#intake.watch(r.value.bootId);
    this.#loop.start();
    this.#enter('ready');
    return { ok: true, value: r.value };
  }

  /** Stop the loop and let go of the device (output must already be off). */
  disconnect(): SessionResult {
    const refused = this.#require('disconnect');
    if (refused) return refused;
    this.#endSessionIfOpen('stopped', 'disconnected before output');
    this.#closeJournal();
    this.#loop.stop();
    this.#enter('idle');
    return done;
  }

  // ---- preparing a session ------------------------------------------------------------------------

  /**
   * Choose the protocol and patient; checks every phase against this device's limits at its maxMa
   * before anything else, so a protocol the device cannot deliver is refused here.
   */
  prepare(plan: SessionPlan): SessionResult {
    const refused = this.#require('prepare');
    if (refused) return refused;
    const device = this.#client.info;
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
    this.#clock.reset();
    this.#journal.resetTelemetry();
    this.#electrodes = [];
    this.#alarms.resetWarnings();
    this.#enter('screening');
    return done;
  }

  /**
   * The screening cleared this patient for this exact protocol version (only the domain's
   * `evaluateScreening` issues a `ScreeningCleared`): the session's journal opens with everything
   * known so far, and the electrodes are checked. No screening, no start.
   */
  async submitScreening(screening: ScreeningCleared): Promise<SessionResult<readonly ElectrodeResult[]>> {
    const refused = this.#require('submitScreening');
    if (refused) return refused;
    if (!isScreeningCleared(screening)) return refuse('NotCleared', 'screening has not cleared this patient');
    if (!clearanceCovers(screening, this.#plan!.protocol)) {
      return refuse('NotCleared', `the screening cleared protocol ${screening.protocolId} (${screening.protocolHash.slice(0, 12)}), not ${this.#plan!.protocol.id} (${this.#plan!.protocol.hash.slice(0, 12)}): screen again`);
    }
    this.#screening = screening;
    const opened = this.#openSession();
    if (!opened.ok) return opened;
    this.#enter('checking-electrodes');
    return this.checkElectrodes();
  }

  /** IMP on every channel of the protocol. Any result outside the band blocks the start. */
  async checkElectrodes(): Promise<SessionResult<readonly ElectrodeResult[]>> {
    const refused = this.#require('checkElectrodes');
    if (refused) return refused;
    const plan = this.#plan!;
    const device = this.#client.info!;
    const results: ElectrodeResult[] = [];
    for (const c of this.#channels) {
      const r = await this.#client.request('IMP', { ch: c.channel });
      if (this.#state !== 'checking-electrodes') return this.#illegal('checkElectrodes');
      if (!r.ok) return deviceError(r.error);
      c.impedance = r.value.z;
      const maxMa = Math.max(...plan.protocol.phases.map((p) => p.amplitude.maxMa));
      results.push(judgeElectrode(c.channel, r.value.z, device.limits.complianceV, maxMa));
    }
    this.#electrodes = results;
    this.#journal.record('electrodes', { results });
    this.#publish();
    return { ok: true, value: results };
  }

  // ---- output -----------------------------------------------------------------------------------

  /**
   * Start output: every channel is staged at 0 mA and started, then raised toward `targetMa` at
   * the protocol's ramp (never above 1 mA/s). A target above the phase's maxMa is refused before
   * anything is sent.
   */
  async start(options: { readonly targetMa: number }): Promise<SessionResult> {
    const refused = this.#require('start');
    if (refused) return refused;
    if (this.#electrodes.length === 0 || this.#electrodes.some((e) => !e.ok)) {
      const why = this.#electrodes.find((e) => !e.ok)?.reason ?? 'the electrodes have not been checked';
      return refuse('ElectrodesNotReady', `cannot start: ${why}`);
    }
    const phase = this.#plan!.protocol.phases[0]!;
    if (!(options.targetMa >= 0) || options.targetMa > phase.amplitude.maxMa + TOLERANCE) {
      return limitExceeded([], `target ${options.targetMa} mA is outside 0..${phase.amplitude.maxMa} mA, the maximum of phase '${phase.name}'`);
    }
    for (const c of this.#channels) c.targetMa = options.targetMa;
    return this.#output.begin('start');
  }

  /**
   * Change the target by `deltaMa` on one channel, or on every channel. Each channel is checked on
   * its own against the phase's maxMa (ramp.ts `planTitration`): a channel that cannot take the
   * whole step keeps its target and is named, with the reason, in `refused`; the others move.
   * Refused as a whole only when no channel can take it. The journal records each channel's
   * resulting target. Targets are reached by the ramp (one step per rise window), never a jump.
   */
  titrate(deltaMa: number, channel?: number): SessionResult<TitrationOutcome> {
    const refused = this.#require('titrate');
    if (refused) return refused;
    if (!isTitrationStep(deltaMa)) return invalid(`titration steps are ${TITRATION_STEPS_MA.map((s) => `±${s}`).join(' and ')} mA, not ${deltaMa}`);
    const chosen = channel === undefined ? this.#channels : this.#channels.filter((c) => c.channel === channel);
    if (chosen.length === 0) return invalid(`channel ${channel} is not part of this protocol`);
    const phase = this.#phase();
    const outcome = planTitration(chosen, deltaMa, { name: phase.name, maxMa: phase.amplitude.maxMa });
    const first = outcome.targets[0];
    if (!first) {
      const why = outcome.refused.map((r) => r.reason).join('; ');
      return deltaMa > 0 ? limitExceeded([], why) : invalid(why);
    }
    for (const t of outcome.targets) for (const c of chosen) if (c.channel === t.channel) c.targetMa = t.targetMa;
    this.#journal.record('titration', {
      channel: channel ?? null,
      deltaMa,
      targetMa: first.targetMa,
      channels: [...outcome.targets],
      ...(outcome.refused.length === 0 ? {} : { refused: [...outcome.refused] }),
    });
    if (deltaMa < 0) this.#ramp.kick();
    this.#publish();
    return { ok: true, value: outcome };
  }

  /** Pause: output off at once, the clock held. */
  async pause(): Promise<SessionResult> {
    const refused = this.#require('pause');
    if (refused) return refused;
    this.#output.interrupt();
    this.#enter('paused');
    return this.#output.stopOutput('pause');
  }

  /** Resume: re-stage the rest of the phase and ramp back up to the targets. */
  async resume(): Promise<SessionResult> {
    const refused = this.#require('resume');
    if (refused) return refused;
    return this.#output.begin('resume');
  }

  /** The clinician ends the session early: output off, session stopped (not latched). */
  async stop(): Promise<SessionResult> {
    const refused = this.#require('stop');
    if (refused) return refused;
    this.#output.interrupt();
    this.#enter('ramping-down', 'stopped by the clinician');
    const r = await this.#output.stopOutput('stop');
    if (this.#state === 'ramping-down') {
      this.#enter('stopped', 'stopped by the clinician');
      this.#endSessionIfOpen('stopped', 'stopped by the clinician');
    }
    return r;
  }

  /**
   * Emergency stop: the ESTOP frame is written before anything else happens, then the state
   * follows (stop-sequence.ts). Latched on the device until `clear()`. Never refused, in any state.
   */
  estop(source: string): Promise<SessionResult> {
    return this.#stops.estop(source);
  }

  /** Clear a latched stop (outputs stay off); `by` who cleared it, recorded. */
  async clear(by = 'clinician'): Promise<SessionResult> {
    const refused = this.#require('clear');
    if (refused) return refused;
    const r = await this.#client.request('CLEAR', {});
    if (!r.ok) return deviceError(r.error);
    // "latched" goes with the latch: a showing e-stop alarm says the stop is cleared.
    this.#alarms.latchCleared(by);
    this.#publish();
    return done;
  }

  /**
   * Abandon a prepared session before any output (the wrong patient or protocol, electrodes that
   * cannot be fixed): its journal ends as stopped, "cancelled before output", and the device is
   * ready for the next one.
   */
  cancel(): SessionResult {
    const refused = this.#require('cancel');
    if (refused) return refused;
    this.#enter('ready', 'cancelled before output');
    this.#endSessionIfOpen('stopped', 'cancelled before output');
    this.#forgetSession();
    this.#publish();
    return done;
  }

  /** After a session ended: back to ready for the next one (the latch must be cleared). */
  newSession(): SessionResult {
    const refused = this.#require('newSession');
    if (refused) return refused;
    if (this.#client.latched) return refuse('Latched', 'the stop is latched: clear it first');
    if (!this.#client.info || this.#client.failure) return refuse('NotConnected', 'the device is not connected: connect again');
    this.#endSessionIfOpen('stopped', 'closed');
    this.#forgetSession();
    this.#alarms.clearAll();
    this.#enter('ready');
    return done;
  }

  /** A clinician's note, journaled with the session time. */
  addNote(text: string): SessionResult {
    const trimmed = text.trim();
    if (trimmed.length === 0 || trimmed.length > 2000) return invalid('a note must be 1-2000 characters');
    const identifying = notePrivacyProblem(trimmed);
    if (identifying) return invalid(identifying);
    if (!this.#journal.isOpen) return refuse('NoSession', 'notes belong to a session: there is none open');
    this.#journal.record('note', { text: trimmed });
    return done;
  }

  /**
   * Record that control of the session passed to another user interface (src/app/control.ts
   * decides who controls; the runner only writes it into the session's record). Refused when no
   * session record is open.
   */
  recordControl(change: RecordDataInput<'control'>): SessionResult {
    if (!this.#journal.isOpen) return refuse('NoSession', 'no session record is open');
    this.#journal.record('control', change);
    return done;
  }

  /**
   * Write a record of the session's treatment course into its journal (src/course): the course as
   * it stood (right after session-start), an outcome (NPRS before stimulation, after it, milestone
   * measures) or the adverse effects. The journal stays open after its end record until the next
   * session, so the after-session answers land in the session they belong to. The data is checked
   * against the record's schema first: a bad value is refused, naming the field, and not written.
   */
  recordCourse<K extends 'course' | 'outcome' | 'adverse-effects'>(type: K, data: RecordDataInput<K>): SessionResult {
    if (!this.#journal.isOpen) return refuse('NoSession', 'no session record is open');
    const checked = DATA_SCHEMAS[type].safeParse(data);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      return invalid(`${type} record: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`);
    }
    this.#journal.record(type, data);
    return done;
  }

  /** Acknowledge an alarm; the acknowledgement is recorded. */
  acknowledgeAlarm(id: string, by: string): SessionResult {
    if (!this.#alarms.acknowledge(id, by)) return invalid(`no unacknowledged alarm '${id}'`);
    this.#publish();
    return done;
  }

  /** Release timers and subscriptions (output must be off). */
  dispose(): void {
    this.#output.interrupt();
    this.#loop.stop();
    this.#endSessionIfOpen('aborted', 'the application closed');
    this.#closeJournal();
    this.#intake.unwatch();
    this.#snapshot.complete();
    this.#telemetry.complete();
  }

  // ---- output internals ---------------------------------------------------------------------------

  #phase() {
    return this.#plan!.protocol.phases[this.#clock.phaseIndex]!;
  }

  // ---- the loop -----------------------------------------------------------------------------------

  /** One tick of the session loop (session-loop.ts sends the heartbeat first, when healthy). */
  #onTick(now: number): void {
    if (OUTPUT_STATES.has(this.#state)) for (const v of this.#monitor.check(now)) this.#intake.verdict(v);
    if (this.#state === 'ramping' || this.#state === 'running') void this.#ramp.step();
    // Telemetry summaries, and the retry of a failed journal's held records (every JOURNAL_RETRY_MS).
    this.#journal.tick();
    if (OUTPUT_STATES.has(this.#state) || this.#state === 'paused') this.#publish();
  }

  /** End the session because something went wrong (stop-sequence.ts). */
  #abort(reason: string, portGone = false, alarm?: AbortAlarm): Promise<void> {
    return this.#stops.abort(reason, portGone, alarm);
  }

  // ---- records ------------------------------------------------------------------------------------

  /** Open the session's journal; no journal, no session (nothing may go unrecorded). */
  #openSession(): SessionResult {
    const plan = this.#plan!;
    const device = this.#client.info!;
    this.#closeJournal();
    this.#sessionId = this.#newSessionId();
    const opened = this.#journal.open(this.#sessionId, {
      sessionId: this.#sessionId,
      patientRef: this.#screening!.patientRef,
      ...(plan.clinician === undefined ? {} : { clinician: plan.clinician }),
      protocol: protocolRecord(plan.protocol),
      ...(plan.side === undefined ? {} : { side: plan.side }),
      device: {
        transport: this.#client.transportName,
        model: device.model,
        firmware: device.firmware,
        serial: device.serial,
        bootId: device.bootId,
        protocolVersion: device.protocolVersion,
        limits: device.limits,
      },
      // Only a cleared screening issues a ScreeningCleared, and journal-records.ts checks that a
      // cleared record fits the schema (`_screeningFits`); the domain's type is readonly and says
      // ScreeningRecord whatever its status, so it is converted here, and the journal validates it.
      screening: this.#screening!.record as unknown as RecordDataInput<'session-start'>['screening'],
      app: { version: this.#appVersion },
    });
    if (opened.ok) return done;
    if (opened.error.kind === 'open') return journalUnavailable(opened.error.message);
    // The very first record could not be written (a full disk, a read-only data directory): no
    // session starts; the clinician is told why and may try again once it is fixed.
    return journalUnavailable(`cannot write the session journal (${opened.error.message}): nothing was started; free space or fix the data directory, then submit the screening again`);
  }

  /** Close the journal of the last session, if one is open (records after its end included). */
  #closeJournal(): void {
    if (this.#journal.sessionOpen) this.#endSessionIfOpen('aborted', 'closed without an end');
    this.#journal.close();
  }

  /** The prepared or ended session is let go: its journal closes, and nothing of it is shown. */
  #forgetSession(): void {
    this.#closeJournal();
    this.#plan = undefined;
    this.#channels = [];
    this.#electrodes = [];
    this.#alarms.resetWarnings();
  }

  #endSessionIfOpen(reason: EndReason, detail: string | undefined): void {
    if (!this.#journal.isOpen || !this.#journal.sessionOpen) return;
    this.#clock.hold();
    const phases = this.#plan?.protocol.phases ?? [];
    this.#journal.end({
      reason,
      ...(detail === undefined ? {} : { detail }),
      finalState: this.#state,
      stimulationS: this.#clock.elapsedMs() / 1000,
      phases: phases.map((_, index) => ({ index, stimulationS: this.#clock.phaseStimulationMs(index) / 1000 })),
    });
  }

  #raise(priority: AlarmPriority, cause: string, action: string, channel: number | undefined): string {
    return this.#alarms.raise(priority, cause, action, channel);
  }

  // ---- state --------------------------------------------------------------------------------------

  #enter(to: SessionState, reason?: string): void {
    const from = this.#state;
    if (from === to) return;
    if (!canTransition(from, to)) throw new Error(`illegal session transition ${from} -> ${to}`);
    this.#state = to;
    this.#reason = reason;
    this.#journal.record('state', { from, to, ...(reason === undefined ? {} : { reason }) });
    this.#publish();
  }

  /** Refused unless the action-by-state table (states.ts) allows `action` now. */
  #require(action: SessionAction): Refusal | undefined {
    return allowedIn(action, this.#state) ? undefined : this.#illegal(action);
  }

  #illegal(action: string): Refusal {
    return illegal(action, this.#state);
  }

  #publish(): void {
    if (this.#snapshot.closed) return;
    this.#snapshot.next(this.#view());
  }

  #view(): SessionSnapshot {
    return projectSnapshot({
      state: this.#state,
      reason: this.#reason,
      latched: this.#client.latched,
      transport: this.#client.transportName,
      device: this.#client.info,
      protocol: this.#plan?.protocol,
      sessionId: this.#sessionId,
      journal: this.#journal.location,
      clock: this.#clock,
      channels: this.#channels.map((c) => ({ ...c, commandedMa: c.commanded?.amplitudeMa, deliveredUc: this.#journal.chargeUc(c.channel) })),
      electrodes: this.#electrodes,
      warnings: this.#alarms.warnings,
      alarms: this.#alarms.alarms,
    });
  }
}

function defaultSessionId(scheduler: SchedulerLike): () => string {
  let n = 0;
  return () => `S${Math.floor(scheduler.now()).toString(36).toUpperCase()}-${(++n).toString().padStart(3, '0')}-${Math.random().toString(36).slice(2, 8).toUpperCase()}`;
}

export { TERMINAL_STATES };
