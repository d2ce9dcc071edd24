/**
 * SessionRunner: turns a validated protocol, a cleared screening and an explicit start into
 * current at the needles, and a record of it.
 *
 * One loop (session-loop.ts `#tick`, every TICK_MS on the injected scheduler) knows whether the session is healthy
 * and only then feeds the device's watchdog with HB; the same loop raises amplitude in
 * slew-limited steps. Every stimulating command passes the guard (src/domain/safety/guard.ts) and
 * is sent from its `Checked` value. Anything that goes wrong with output possibly on (a device
 * fault, a watchdog trip, a reboot, a lost heartbeat, an unanswered command, a journal that cannot
 * write) ends in an e-stop and the `aborted` state, with the reason said in words.
 *
 * The runner is the coordinator: it holds the state (changed only in `#enter`, by states.ts's
 * transitions), refuses what the action-by-state table does not allow (`#require`), builds one
 * `SessionContext` (session-context.ts) that every part takes its slice of, and publishes the
 * snapshot. The parts each do one job and are tested on their own: the session clock (clock.ts),
 * the loop and heartbeat (session-loop.ts), the ramp (ramp.ts), titration (titration.ts), the
 * electrode check (electrode-check.ts), output on and off and the phases (output-sequencer.ts),
 * the abort and the e-stop (stop-sequence.ts), the device's own reports (device-intake.ts), the
 * output monitor (output-monitor.ts), the alarm board (alarm-board.ts), the journaler
 * (journaler.ts), the session's records (session-records.ts), the session lifecycle: connect,
 * prepare, cancel, the next session, disconnect, dispose (lifecycle.ts) and the snapshot (snapshot.ts).
 */
import { BehaviorSubject, Subject, type Observable, type SchedulerLike } from 'rxjs';
import { TOLERANCE } from '../domain/safety/limits.js';
import { type ScreeningCleared, clearanceCovers, isScreeningCleared } from '../domain/screening.js';
import type { DeviceClient } from '../device/client.js';
import type { DeviceInfo } from '../device/identity.js';
import { AlarmBoard } from './alarm-board.js';
import { SessionClock } from './clock.js';
import { SessionLoop } from './session-loop.js';
import { OutputSequencer } from './output-sequencer.js';
import { StopSequence } from './stop-sequence.js';
import { DeviceIntake } from './device-intake.js';
import { ElectrodeCheck } from './electrode-check.js';
import type { ElectrodeResult } from './electrodes.js';
import type { RecordDataInput } from './journal-records.js';
import { Journaler } from './journaler.js';
import { SessionLifecycle } from './lifecycle.js';
import { phaseDurationMs } from './plan.js';
import { RampController, type TitrationOutcome } from './ramp.js';
import type { RecorderFactory } from './recorder.js';
import { type Refusal, type SessionResult, done, illegal, invalid, limitExceeded, refuse } from './results.js';
import { Titration } from './titration.js';
import { OutputMonitor } from './output-monitor.js';
import type { SessionContext } from './session-context.js';
import { type CourseRecordType, type SessionPlan, SessionRecords } from './session-records.js';
import { projectSnapshot } from './snapshot.js';
import { OUTPUT_STATES, type SessionAction, type SessionState, TERMINAL_STATES, allowedIn, canTransition } from './states.js';
import type { SessionSnapshot, TelemetrySample } from './views.js';

export { HEARTBEAT_MS, TICK_MS } from './session-loop.js';
export { RAMP_STEP_MS, TITRATION_STEPS_MA, type TitrationOutcome } from './ramp.js';
export { JOURNAL_RETRY_MS } from './journaler.js';
export type { SessionError, SessionResult } from './results.js';
export type { SessionPlan } from './session-records.js';
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

export class SessionRunner {
  readonly #client: DeviceClient;
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
  /** The prepared plan and its channels; connect, prepare, cancel, newSession, disconnect, dispose (lifecycle.ts). */
  readonly #life: SessionLifecycle;
  /** The tick and the heartbeat (session-loop.ts). */
  readonly #loop: SessionLoop;
  /** The abort and the e-stop (stop-sequence.ts). */
  readonly #stops: StopSequence;
  /** Output on and off, and one phase after another (output-sequencer.ts). */
  readonly #output: OutputSequencer;
  /** What the device says on its own: telemetry, faults, link failures (device-intake.ts). */
  readonly #intake: DeviceIntake;
  /** IMP on every channel before output (electrode-check.ts). */
  readonly #electrodes: ElectrodeCheck;
  /** The session's start and end records, notes and course records (session-records.ts). */
  readonly #records: SessionRecords;
  /** The clinician's target steps (titration.ts). */
  readonly #titration: Titration;

  /** The whole state for a UI, on every change. */
  readonly snapshot$: Observable<SessionSnapshot>;
  /** Per-channel telemetry for live charts. */
  readonly telemetry$: Observable<TelemetrySample>;

  constructor(options: SessionRunnerOptions) {
    this.#client = options.client;
    this.#clock = new SessionClock(options.scheduler);
    // One context for every part: the session's state, read, changed and published one way.
    const session: SessionContext = {
      scheduler: options.scheduler,
      state: () => this.#state,
      protocol: () => this.#life.plan!.protocol,
      channels: () => this.#life.channels,
      enter: (to, reason) => this.#enter(to, reason),
      endSession: (reason, detail) => this.#records.end(reason, detail),
      abort: (reason, portGone, alarm) => this.#stops.abort(reason, portGone, alarm),
      raise: (priority, cause, action, channel, rule) => void this.#alarms.raise(priority, cause, action, channel, rule),
      noteWarnings: (w, ch) => this.#alarms.noteWarnings(w, ch),
      publish: () => this.#publish(),
    };
    const { client, scheduler } = options;
    const monitor = this.#monitor;
    this.#journal = new Journaler({
      scheduler,
      factory: options.recorder,
      onRecordError: (message) => session.raise('medium', `A record could not be written (${message})`, 'Report this; the session continues', undefined),
      onFailure: (text) => void session.abort(`the session journal cannot be written (${text}; its records are held in memory and written when it can); output is off`),
    });
    const journal = this.#journal;
    this.#records = new SessionRecords({
      ...session,
      client,
      clock: this.#clock,
      journal,
      newSessionId: options.newSessionId ?? defaultSessionId(scheduler),
      appVersion: options.appVersion ?? '0.1.0',
    });
    this.#alarms = new AlarmBoard(
      () => scheduler.now(),
      (r) => journal.record(r.type, r.data),
    );
    this.#ramp = new RampController({
      ...session,
      client,
      monitor,
      record: (type, data) => journal.record(type, data),
      epoch: () => this.#output.epoch,
      starting: () => this.#output.starting,
      phaseIndex: () => this.#clock.phaseIndex,
      failOutput: (e) => this.#output.failOutput(e),
      reachedTargets: () => this.#enter('running'),
    });
    this.#loop = new SessionLoop({
      scheduler,
      heartbeat: () => client.heartbeat(),
      // A journal that fails during a session stops the heartbeat (output must not go on
      // unrecorded); after the session's end it no longer matters to the device.
      healthy: () => !client.failure && !journal.failingSession,
      onTick: (now) => this.#onTick(now),
      onHeartbeatFailure: (reason) => void session.abort(reason),
    });
    this.#output = new OutputSequencer({ ...session, client, clock: this.#clock, monitor, journal, kickRamp: () => this.#ramp.kick() });
    this.#stops = new StopSequence({
      ...session,
      client,
      journal,
      anyOn: () => this.#life.channels.some((c) => c.on),
      allOff: () => this.#output.allOff(),
      stopLoop: () => this.#loop.stop(),
      latchCleared: (by) => this.#alarms.latchCleared(by),
    });
    this.#intake = new DeviceIntake({
      ...session,
      client,
      monitor,
      journal,
      aborting: () => this.#stops.aborting,
      phase: () => (this.#life.plan ? { maxMa: this.#phase().amplitude.maxMa, remainingMs: this.#clock.phaseRemainingMs(phaseDurationMs(this.#phase())) } : undefined),
      telemetry: (sample) => this.#telemetry.next(sample),
    });
    this.#electrodes = new ElectrodeCheck({ ...session, client, journal });
    this.#titration = new Titration({
      ...session,
      journal,
      phase: () => ({ name: this.#phase().name, maxMa: this.#phase().amplitude.maxMa }),
      kickRamp: () => this.#ramp.kick(),
    });
    const [clock, electrodes, alarms, output, loop, intake] = [this.#clock, this.#electrodes, this.#alarms, this.#output, this.#loop, this.#intake];
    this.#life = new SessionLifecycle({ ...session, client, records: this.#records, clock, journal, electrodes, alarms, output, loop, intake });
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
    return this.#require('connect') ?? this.#life.connect();
  }

  /** Stop the loop and let go of the device (output must already be off). */
  disconnect(): SessionResult {
    return this.#require('disconnect') ?? this.#life.disconnect();
  }

  // ---- preparing a session ------------------------------------------------------------------------

  /**
   * Choose the protocol and patient; checks every phase against this device's limits at its maxMa
   * before anything else, so a protocol the device cannot deliver is refused here.
   */
  prepare(plan: SessionPlan): SessionResult {
    return this.#require('prepare') ?? this.#life.prepare(plan);
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
    if (!clearanceCovers(screening, this.#life.plan!.protocol)) {
      return refuse('NotCleared', `the screening cleared protocol ${screening.protocolId} (${screening.protocolHash.slice(0, 12)}), not ${this.#life.plan!.protocol.id} (${this.#life.plan!.protocol.hash.slice(0, 12)}): screen again`);
    }
    const opened = this.#records.open(this.#life.plan!, screening);
    if (!opened.ok) return opened;
    this.#enter('checking-electrodes');
    return this.checkElectrodes();
  }

  /** IMP on every channel of the protocol (electrode-check.ts). Any result outside the band blocks the start. */
  async checkElectrodes(): Promise<SessionResult<readonly ElectrodeResult[]>> {
    return this.#require('checkElectrodes') ?? this.#electrodes.check();
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
    const unchecked = this.#electrodes.startRefusal();
    if (unchecked) return unchecked;
    const phase = this.#life.plan!.protocol.phases[0]!;
    if (!(options.targetMa >= 0) || options.targetMa > phase.amplitude.maxMa + TOLERANCE) {
      return limitExceeded([], `target ${options.targetMa} mA is outside 0..${phase.amplitude.maxMa} mA, the maximum of phase '${phase.name}'`);
    }
    for (const c of this.#life.channels) c.targetMa = options.targetMa;
    return this.#output.begin('start');
  }

  /**
   * Change the target by `deltaMa` on one channel, or on every channel, each checked on its own
   * against the phase's maxMa (titration.ts); targets are reached by the ramp, never a jump.
   */
  titrate(deltaMa: number, channel?: number): SessionResult<TitrationOutcome> {
    return this.#require('titrate') ?? this.#titration.titrate(deltaMa, channel);
  }

  /** Pause: output off at once, the clock held (output-sequencer.ts). */
  async pause(): Promise<SessionResult> {
    return this.#require('pause') ?? this.#output.pause();
  }

  /** Resume: re-stage the rest of the phase and ramp back up to the targets. */
  async resume(): Promise<SessionResult> {
    return this.#require('resume') ?? this.#output.begin('resume');
  }

  /** The clinician ends the session early: output off, session stopped (not latched). */
  async stop(): Promise<SessionResult> {
    return this.#require('stop') ?? this.#output.stop();
  }

  /**
   * Emergency stop: the ESTOP frame is written before anything else happens, then the state
   * follows (stop-sequence.ts). Latched on the device until `clear()`. Never refused, in any state.
   */
  estop(source: string): Promise<SessionResult> {
    return this.#stops.estop(source);
  }

  /** Clear a latched stop (outputs stay off); `by` who cleared it, recorded (stop-sequence.ts). */
  async clear(by = 'clinician'): Promise<SessionResult> {
    return this.#require('clear') ?? this.#stops.clear(by);
  }

  /**
   * Abandon a prepared session before any output (the wrong patient or protocol, electrodes that
   * cannot be fixed): its journal ends as stopped, "cancelled before output", and the device is
   * ready for the next one.
   */
  cancel(): SessionResult {
    return this.#require('cancel') ?? this.#life.cancel();
  }

  /** After a session ended: back to ready for the next one (the latch must be cleared). */
  newSession(): SessionResult {
    return this.#require('newSession') ?? this.#life.newSession();
  }

  /** A clinician's note, journaled with the session time (refused when it could identify someone). */
  addNote(text: string): SessionResult {
    return this.#records.note(text);
  }

  /** Control of the session passed to another UI (src/app/control.ts decides; this records it). */
  recordControl(change: RecordDataInput<'control'>): SessionResult {
    return this.#records.control(change);
  }

  /**
   * A record of the session's treatment course (src/course): the course as it stood, an outcome or
   * the adverse effects. The journal stays open after the end record until the next session, so
   * after-session answers land in their session; bad data is refused, naming the field.
   */
  recordCourse<K extends CourseRecordType>(type: K, data: RecordDataInput<K>): SessionResult {
    return this.#records.course(type, data);
  }

  /** Acknowledge an alarm; the acknowledgement is recorded. */
  acknowledgeAlarm(id: string, by: string): SessionResult {
    if (!this.#alarms.acknowledge(id, by)) return invalid(`no unacknowledged alarm '${id}'`);
    this.#publish();
    return done;
  }

  /** Release timers and subscriptions (output must be off). */
  dispose(): void {
    this.#life.dispose();
    this.#snapshot.complete();
    this.#telemetry.complete();
  }

  // ---- output internals ---------------------------------------------------------------------------

  #phase() {
    return this.#life.plan!.protocol.phases[this.#clock.phaseIndex]!;
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
    return allowedIn(action, this.#state) ? undefined : illegal(action, this.#state);
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
      protocol: this.#life.plan?.protocol,
      sessionId: this.#records.sessionId,
      journal: this.#journal.location,
      clock: this.#clock,
      channels: this.#life.channels.map((c) => ({ ...c, commandedMa: c.commanded?.amplitudeMa, deliveredUc: this.#journal.chargeUc(c.channel) })),
      electrodes: this.#electrodes.results,
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
