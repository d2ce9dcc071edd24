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
 */
import { BehaviorSubject, Subject, type Observable, type SchedulerLike, type Subscription } from 'rxjs';
import { decodeDeviceLine, type DeviceEvent } from '../../firmware-protocol/index.js';
import {
  type Checked,
  type CommandedAmplitude,
  type Violation,
  type Warning,
  checkAmplitudeChange,
  checkStimulation,
  slewCeilingMa,
} from '../domain/safety/guard.js';
import { HARD_LIMITS, TOLERANCE } from '../domain/safety/limits.js';
import { type ScreeningCleared, clearanceCovers, isScreeningCleared } from '../domain/screening.js';
import { notePrivacyProblem } from '../domain/privacy.js';
import type { StimulationParams } from '../domain/stimulation.js';
import type { DeviceClient } from '../device/client.js';
import { type DeviceError, describeDeviceError } from '../device/errors.js';
import type { DeviceInfo } from '../device/identity.js';
import { ACK_GIVE_UP_MS } from '../device/timing.js';
import { type AlarmText, type ShownWarning, afterClear, decideWarning, estopAlarm } from './alarms.js';
import { type ElectrodeResult, judgeElectrode } from './electrodes.js';
import type { Protocol } from '../domain/protocols/derive.js';
import { DATA_SCHEMAS, type RecordDataInput, protocolRecord } from './journal-records.js';
import { currentFrequencyHz, phaseDurationMs, phaseLimits, phaseParams, totalDurationMs } from './plan.js';
import type { RecorderFactory, SessionRecorder } from './recorder.js';
import { type MonitorVerdict, OutputMonitor } from './output-monitor.js';
import { type EndReason, OUTPUT_STATES, type SessionState, TERMINAL_STATES, canTransition } from './states.js';

/** The session loop period, ms: heartbeat cadence and ramp steps are multiples of it. */
export const TICK_MS = 50;
/** How often the heartbeat is sent: the domain's limit table holds the number and its reason. */
export const HEARTBEAT_MS = HARD_LIMITS.heartbeatIntervalMs.value;
/**
 * Amplitude rises in steps at most this often, ms: one rise window (HARD_LIMITS, where the number
 * and its reasoning live). At the 1 mA/s ceiling a step is 0.2 mA, which a slewing device smooths
 * and a non-slewing one applies at once; smaller steps would only add traffic and journal records.
 */
export const RAMP_STEP_MS = HARD_LIMITS.amplitudeRiseWindowMs.value;
/** A journal that failed is retried this often, ms, so its held records reach the disk once space returns. */
export const JOURNAL_RETRY_MS = 1000;
/** Titration steps offered to the clinician, mA (UX.md: 0.1 mA and 0.5 mA buttons). */
export const TITRATION_STEPS_MA = [0.1, 0.5] as const;

export interface ChannelView {
  readonly channel: number;
  readonly region: string;
  readonly side: string;
  readonly sites: readonly string[];
  /** What the clinician asked for. */
  readonly targetMa: number;
  /** The last amplitude the device acknowledged. */
  readonly commandedMa: number;
  /** What the device measures (TEL), or null before any telemetry. */
  readonly measuredMa: number | null;
  readonly impedance: number | 'OPEN' | null;
  /** Output on at the device (started and not stopped). */
  readonly on: boolean;
  readonly maxMa: number;
  /** Charge delivered in the cathodic phases on this channel this session, µC. */
  readonly deliveredUc: number;
}

export type AlarmPriority = 'high' | 'medium' | 'low';

/** An alarm (after IEC 60601-1-8): it names the cause and the next action, and stays until acknowledged. */
export interface Alarm {
  readonly id: string;
  readonly priority: AlarmPriority;
  readonly cause: string;
  readonly action: string;
  readonly atMs: number;
  readonly channel?: number;
}

export interface SessionSnapshot {
  readonly state: SessionState;
  /** Why the state is what it is, in words (set on stops, aborts and refusals). */
  readonly reason?: string;
  readonly latched: boolean;
  readonly device?: { readonly transport: string; readonly model: string; readonly firmware: string; readonly serial: string; readonly bootId: string; readonly limits: DeviceInfo['limits'] };
  readonly protocol?: { readonly id: string; readonly name: string; readonly hash: string };
  readonly sessionId?: string;
  readonly journal?: string;
  readonly phase?: {
    readonly index: number;
    readonly count: number;
    readonly name: string;
    readonly elapsedS: number;
    readonly durationS: number;
    readonly frequencyHz: number;
  };
  /** Stimulation time of the whole session: elapsed, total and remaining, s. */
  readonly elapsedS: number;
  readonly totalS: number;
  readonly channels: readonly ChannelView[];
  readonly electrodes: readonly ElectrodeResult[];
  readonly warnings: readonly Warning[];
  /** Unacknowledged alarms, highest priority first. */
  readonly alarms: readonly Alarm[];
}

export interface TelemetrySample {
  readonly atMs: number;
  readonly channel: number;
  readonly measuredMa: number;
  readonly commandedMa: number;
  readonly targetMa: number;
  readonly impedance: number | 'OPEN';
}

export type SessionError =
  | { readonly code: 'IllegalInState'; readonly action: string; readonly state: SessionState; readonly message: string }
  | { readonly code: 'LimitExceeded'; readonly violations: readonly Violation[]; readonly message: string }
  | { readonly code: 'Device'; readonly error: DeviceError; readonly message: string }
  | { readonly code: 'Invalid'; readonly message: string }
  /** The session's journal cannot be written (a full disk, a read-only data directory). */
  | { readonly code: 'JournalUnavailable'; readonly message: string };

/** What a titration did: each channel's new target, and the channels that could not take it and why. */
export interface TitrationOutcome {
  readonly targets: readonly { readonly channel: number; readonly targetMa: number }[];
  readonly refused: readonly { readonly channel: number; readonly reason: string }[];
}

export type SessionResult<T = void> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: SessionError };

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
}

interface ChannelControl {
  readonly channel: number;
  readonly region: string;
  readonly side: string;
  readonly sites: readonly string[];
  targetMa: number;
  commanded: CommandedAmplitude | undefined;
  active: Checked<StimulationParams> | undefined;
  on: boolean;
  measuredMa: number | null;
  impedance: number | 'OPEN' | null;
  deliveredUc: number;
  /** q of the last TEL since the last START (the device counts per START). */
  lastQnC: number;
}

export class SessionRunner {
  readonly #client: DeviceClient;
  readonly #scheduler: SchedulerLike;
  readonly #recorderFactory: RecorderFactory | undefined;
  readonly #newSessionId: () => string;
  readonly #appVersion: string;

  readonly #snapshot: BehaviorSubject<SessionSnapshot>;
  readonly #telemetry = new Subject<TelemetrySample>();

  #state: SessionState = 'idle';
  #reason: string | undefined;
  #plan: SessionPlan | undefined;
  #screening: ScreeningCleared | undefined;
  #channels: ChannelControl[] = [];
  #electrodes: ElectrodeResult[] = [];
  #warnings: Warning[] = [];
  #alarms: Alarm[] = [];
  #alarmSeq = 0;
  /** The rule behind each alarm showing (src/session/alarms.ts), by alarm id. */
  #alarmRules = new Map<string, AlarmText>();
  /** Warning alarms by limit (alarm id, latest value per channel), and each channel+limit warned. */
  #warningAlarms = new Map<string, ShownWarning>();
  #warnedOn = new Set<string>();
  /**
   * The journal of the present or last session. It stays open after the session's end record, so
   * what still happens (a device fault or current after the stop, an alarm acknowledged, a stop
   * cleared, a note) is recorded after it: nothing the device reports is lost. It is closed when the
   * next session opens one, or on disconnect, newSession, cancel and dispose.
   */
  #recorder: SessionRecorder | undefined;
  /** Between the session-start and session-end records. */
  #sessionOpen = false;
  #sessionId: string | undefined;

  #phaseIndex = 0;
  /** Stimulation time of the current phase before the running segment, ms. */
  #phaseDoneMs = 0;
  /** Stimulation time of the whole session before the current phase, ms. */
  #sessionDoneMs = 0;
  /** Stimulation time of each finished phase, ms. */
  #phaseTimes: number[] = [];
  /** When the current output segment began (scheduler ms), or undefined when the clock is held. */
  #segmentStart: number | undefined;
  #phaseTimer: Subscription | undefined;
  /** Incremented whenever output is interrupted; stale async continuations check it. */
  #epoch = 0;

  #loop: Subscription | undefined;
  #lastHeartbeatAt = -Infinity;
  #lastFlushTry = -Infinity;
  /** The device's boot id at the last handshake (kept when a lost session clears the client's). */
  #lastBootId: string | undefined;
  #ampBusy = false;
  #aborting = false;
  /** True while #beginOutput stages and starts the channels. */
  #starting = false;
  #lastRefusal: string | undefined;
  #deviceSubs: Subscription[] = [];
  #recorderSub: Subscription | undefined;
  #summary = new Map<number, { sum: number; n: number; max: number }>();
  /** What the device says it delivers, against what it was commanded. */
  readonly #monitor = new OutputMonitor();
  #summaryFrom = 0;

  /** The whole state for a UI, on every change. */
  readonly snapshot$: Observable<SessionSnapshot>;
  /** Per-channel telemetry for live charts. */
  readonly telemetry$: Observable<TelemetrySample>;

  constructor(options: SessionRunnerOptions) {
    this.#client = options.client;
    this.#scheduler = options.scheduler;
    this.#recorderFactory = options.recorder;
    this.#newSessionId = options.newSessionId ?? defaultSessionId(options.scheduler);
    this.#appVersion = options.appVersion ?? '0.1.0';
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
    const refused = this.#require('connect', ['idle', 'aborted']);
    if (refused) return refused;
    this.#enter('connecting');
    const r = await this.#client.connect();
    if (!r.ok) {
      this.#enter('idle', describeDeviceError(r.error));
      return this.#deviceError(r.error);
    }
    this.#lastBootId = r.value.bootId;
    this.#watchDevice();
    this.#startLoop();
    this.#enter('ready');
    return { ok: true, value: r.value };
  }

  /** Stop the loop and let go of the device (output must already be off). */
  disconnect(): SessionResult {
    const refused = this.#require('disconnect', ['ready', 'screening', 'checking-electrodes', 'completed', 'stopped', 'aborted']);
    if (refused) return refused;
    this.#endSessionIfOpen('stopped', 'disconnected before output');
    this.#closeJournal();
    this.#stopLoop();
    this.#enter('idle');
    return { ok: true, value: undefined };
  }

  // ---- preparing a session ------------------------------------------------------------------------

  /**
   * Choose the protocol and patient; checks every phase against this device's limits at its maxMa
   * before anything else, so a protocol the device cannot deliver is refused here.
   */
  prepare(plan: SessionPlan): SessionResult {
    const refused = this.#require('prepare', ['ready']);
    if (refused) return refused;
    const device = this.#client.info;
    if (!device) return invalid('the device is not connected');
    for (const c of plan.protocol.channels) {
      if (c.channel > device.channels) return invalid(`protocol uses channel ${c.channel}; this device has ${device.channels}`);
    }
    for (let i = 0; i < plan.protocol.phases.length; i++) {
      const phase = plan.protocol.phases[i]!;
      const limits = phaseLimits(plan.protocol, i);
      const atMax: StimulationParams = { ...phaseParams(plan.protocol, i, plan.protocol.channels[0]?.channel ?? 1, phaseDurationMs(phase)), amplitudeMa: phase.amplitude.maxMa };
      const r = checkStimulation(atMax, { device: device.limits, protocol: limits, electrode: plan.protocol.electrode });
      if (!r.ok) return limitExceeded(r.violations, `phase '${phase.name}' cannot run on this device`);
    }
    this.#plan = plan;
    this.#channels = plan.protocol.channels.map((c) => ({
      channel: c.channel,
      region: c.region,
      side: c.side,
      sites: c.sites,
      targetMa: 0,
      commanded: undefined,
      active: undefined,
      on: false,
      measuredMa: null,
      impedance: null,
      deliveredUc: 0,
      lastQnC: 0,
    }));
    this.#phaseIndex = 0;
    this.#phaseDoneMs = 0;
    this.#sessionDoneMs = 0;
    this.#phaseTimes = [];
    this.#electrodes = [];
    this.#warnings = [];
    this.#warningAlarms.clear();
    this.#warnedOn.clear();
    this.#enter('screening');
    return { ok: true, value: undefined };
  }

  /**
   * The screening cleared this patient for this exact protocol version (only the domain's
   * `evaluateScreening` issues a `ScreeningCleared`): the session's journal opens with everything
   * known so far, and the electrodes are checked. No screening, no start.
   */
  async submitScreening(screening: ScreeningCleared): Promise<SessionResult<readonly ElectrodeResult[]>> {
    const refused = this.#require('submitScreening', ['screening']);
    if (refused) return refused;
    if (!isScreeningCleared(screening)) return invalid('screening has not cleared this patient');
    if (!clearanceCovers(screening, this.#plan!.protocol)) {
      return invalid(`the screening cleared protocol ${screening.protocolId} (${screening.protocolHash.slice(0, 12)}), not ${this.#plan!.protocol.id} (${this.#plan!.protocol.hash.slice(0, 12)}): screen again`);
    }
    this.#screening = screening;
    const opened = this.#openSession();
    if (!opened.ok) return opened;
    this.#enter('checking-electrodes');
    return this.checkElectrodes();
  }

  /** IMP on every channel of the protocol. Any result outside the band blocks the start. */
  async checkElectrodes(): Promise<SessionResult<readonly ElectrodeResult[]>> {
    const refused = this.#require('checkElectrodes', ['checking-electrodes']);
    if (refused) return refused;
    const plan = this.#plan!;
    const device = this.#client.info!;
    const results: ElectrodeResult[] = [];
    for (const c of this.#channels) {
      const r = await this.#client.request('IMP', { ch: c.channel });
      if (this.#state !== 'checking-electrodes') return this.#illegal('checkElectrodes');
      if (!r.ok) return this.#deviceError(r.error);
      c.impedance = r.value.z;
      const maxMa = Math.max(...plan.protocol.phases.map((p) => p.amplitude.maxMa));
      results.push(judgeElectrode(c.channel, r.value.z, device.limits.complianceV, maxMa));
    }
    this.#electrodes = results;
    this.#record('electrodes', { results });
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
    const refused = this.#require('start', ['checking-electrodes']);
    if (refused) return refused;
    if (this.#electrodes.length === 0 || this.#electrodes.some((e) => !e.ok)) {
      const why = this.#electrodes.find((e) => !e.ok)?.reason ?? 'the electrodes have not been checked';
      return invalid(`cannot start: ${why}`);
    }
    const phase = this.#plan!.protocol.phases[0]!;
    if (!(options.targetMa >= 0) || options.targetMa > phase.amplitude.maxMa + TOLERANCE) {
      return limitExceeded(
        [],
        `target ${options.targetMa} mA is outside 0..${phase.amplitude.maxMa} mA, the maximum of phase '${phase.name}'`,
      );
    }
    for (const c of this.#channels) c.targetMa = options.targetMa;
    return this.#beginOutput('ramping', 'start');
  }

  /**
   * Change the target by `deltaMa` on one channel, or on every channel. Each channel is checked on
   * its own against the phase's maxMa: a channel that cannot take the whole step keeps its target
   * and is named, with the reason, in `refused`; the others move. Refused as a whole only when no
   * channel can take it. The journal records each channel's resulting target. Targets are reached
   * by the ramp (one step per rise window), never sent as a jump.
   */
  titrate(deltaMa: number, channel?: number): SessionResult<TitrationOutcome> {
    const refused = this.#require('titrate', ['ramping', 'running']);
    if (refused) return refused;
    if (!TITRATION_STEPS_MA.some((s) => Math.abs(Math.abs(deltaMa) - s) < TOLERANCE)) {
      return invalid(`titration steps are ${TITRATION_STEPS_MA.map((s) => `±${s}`).join(' and ')} mA, not ${deltaMa}`);
    }
    const targets = channel === undefined ? this.#channels : this.#channels.filter((c) => c.channel === channel);
    if (targets.length === 0) return invalid(`channel ${channel} is not part of this protocol`);
    const phase = this.#phase();
    const maxMa = phase.amplitude.maxMa;
    const moved: { channel: number; targetMa: number }[] = [];
    const notMoved: { channel: number; reason: string }[] = [];
    for (const c of targets) {
      const next = roundMa(c.targetMa + deltaMa);
      if (next > maxMa + TOLERANCE) {
        notMoved.push({ channel: c.channel, reason: `${next} mA is above ${maxMa} mA, the maximum of phase '${phase.name}'; channel ${c.channel} stays at ${c.targetMa} mA` });
        continue;
      }
      if (c.targetMa <= TOLERANCE && deltaMa < 0) {
        notMoved.push({ channel: c.channel, reason: `channel ${c.channel} is already at 0 mA` });
        continue;
      }
      c.targetMa = Math.max(0, next);
      moved.push({ channel: c.channel, targetMa: c.targetMa });
    }
    if (moved.length === 0) {
      const why = notMoved.map((r) => r.reason).join('; ');
      return deltaMa > 0 ? limitExceeded([], why) : invalid(why);
    }
    this.#record('titration', {
      channel: channel ?? null,
      deltaMa,
      targetMa: moved[0]!.targetMa,
      channels: moved,
      ...(notMoved.length === 0 ? {} : { refused: notMoved }),
    });
    if (deltaMa < 0) this.#kickRamp();
    this.#publish();
    return { ok: true, value: { targets: moved, refused: notMoved } };
  }

  /** Pause: output off at once, the clock held. */
  async pause(): Promise<SessionResult> {
    const refused = this.#require('pause', ['ramping', 'running']);
    if (refused) return refused;
    this.#interrupt();
    this.#enter('paused');
    return this.#stopOutput('pause');
  }

  /** Resume: re-stage the rest of the phase and ramp back up to the targets. */
  async resume(): Promise<SessionResult> {
    const refused = this.#require('resume', ['paused']);
    if (refused) return refused;
    return this.#beginOutput('ramping', 'resume');
  }

  /** The clinician ends the session early: output off, session stopped (not latched). */
  async stop(): Promise<SessionResult> {
    const refused = this.#require('stop', ['ramping', 'running', 'paused']);
    if (refused) return refused;
    this.#interrupt();
    this.#enter('ramping-down', 'stopped by the clinician');
    const r = await this.#stopOutput('stop');
    if (this.#state === 'ramping-down') {
      this.#enter('stopped', 'stopped by the clinician');
      this.#endSessionIfOpen('stopped', 'stopped by the clinician');
    }
    return r;
  }

  /**
   * Emergency stop: the ESTOP frame is written before anything else happens, then the state
   * follows. Latched on the device until `clear()`.
   */
  async estop(source: string): Promise<SessionResult> {
    const acked = this.#client.estop();
    const outputWasOn = this.#channels.some((c) => c.on) || OUTPUT_STATES.has(this.#state);
    this.#interrupt();
    this.#monitor.allOff(this.#scheduler.now());
    for (const c of this.#channels) c.on = false;
    // With nothing on the stop is sent and recorded, but it is no alarm condition (alarms.ts).
    const alarm = estopAlarm(source, outputWasOn);
    if (alarm) this.#raise(alarm.priority, alarm.cause, alarm.action, undefined, alarm);
    this.#record('estop', { source, acked: false });
    const ended = canTransition(this.#state, 'stopped');
    if (ended) this.#enter('stopped', `emergency stop (${source})`);
    // The session's record ends once the device has confirmed the stop (or could not within the
    // retry budget: then the record says so), so the confirmation is part of it.
    const recorder = this.#recorder;
    const r = await this.#withinGiveUp(acked);
    if (this.#recorder === recorder) {
      this.#record('estop', { source, acked: r?.ok ?? false });
      if (ended) this.#endSessionIfOpen('stopped', `emergency stop (${source})${r?.ok ? '' : ': the device did not confirm'}`);
    }
    this.#publish();
    if (r === undefined) return invalid('the device has not confirmed the emergency stop yet; it is being repeated until it does');
    return r.ok ? { ok: true, value: undefined } : this.#deviceError(r.error);
  }

  /** Wait for `p`, at most the ack give-up time on the session's scheduler. */
  #withinGiveUp<T>(p: Promise<T>): Promise<T | undefined> {
    return new Promise((resolve) => {
      const timer = this.#scheduler.schedule(() => resolve(undefined), ACK_GIVE_UP_MS);
      void p.then((v) => {
        timer.unsubscribe();
        resolve(v);
      });
    });
  }

  /** Clear a latched stop (outputs stay off). */
  async clear(): Promise<SessionResult> {
    const refused = this.#require('clear', ['stopped', 'aborted', 'ready', 'completed']);
    if (refused) return refused;
    const r = await this.#client.request('CLEAR', {});
    if (!r.ok) return this.#deviceError(r.error);
    // "latched" goes with the latch: a showing e-stop alarm says the stop is cleared.
    this.#alarms = this.#alarms.map((a) => {
      const rule = this.#alarmRules.get(a.id);
      if (!rule) return a;
      const next = afterClear(rule);
      this.#alarmRules.set(a.id, next);
      return { ...a, cause: next.cause, action: next.action };
    });
    this.#publish();
    return { ok: true, value: undefined };
  }

  /**
   * Abandon a prepared session before any output (the wrong patient or protocol, electrodes that
   * cannot be fixed): its journal ends as stopped, "cancelled before output", and the device is
   * ready for the next one.
   */
  cancel(): SessionResult {
    const refused = this.#require('cancel', ['screening', 'checking-electrodes']);
    if (refused) return refused;
    this.#enter('ready', 'cancelled before output');
    this.#endSessionIfOpen('stopped', 'cancelled before output');
    this.#closeJournal();
    this.#plan = undefined;
    this.#channels = [];
    this.#electrodes = [];
    this.#warnings = [];
    this.#warningAlarms.clear();
    this.#warnedOn.clear();
    this.#publish();
    return { ok: true, value: undefined };
  }

  /** After a session ended: back to ready for the next one (the latch must be cleared). */
  newSession(): SessionResult {
    const refused = this.#require('newSession', ['completed', 'stopped', 'aborted']);
    if (refused) return refused;
    if (this.#client.latched) return invalid('the stop is latched: clear it first');
    if (!this.#client.info || this.#client.failure) return invalid('the device is not connected: connect again');
    this.#endSessionIfOpen('stopped', 'closed');
    this.#closeJournal();
    this.#plan = undefined;
    this.#channels = [];
    this.#electrodes = [];
    this.#warnings = [];
    this.#warningAlarms.clear();
    this.#warnedOn.clear();
    this.#alarms = [];
    this.#enter('ready');
    return { ok: true, value: undefined };
  }

  /** A clinician's note, journaled with the session time. */
  addNote(text: string): SessionResult {
    const trimmed = text.trim();
    if (trimmed.length === 0 || trimmed.length > 2000) return invalid('a note must be 1-2000 characters');
    const identifying = notePrivacyProblem(trimmed);
    if (identifying) return invalid(identifying);
    if (!this.#recorder) return invalid('notes belong to a session: there is none open');
    this.#record('note', { text: trimmed });
    return { ok: true, value: undefined };
  }

  /**
   * Record that control of the session passed to another user interface (src/app/control.ts
   * decides who controls; the runner only writes it into the session's record). Refused when no
   * session record is open.
   */
  recordControl(change: RecordDataInput<'control'>): SessionResult {
    if (!this.#recorder) return invalid('no session record is open');
    this.#record('control', change);
    return { ok: true, value: undefined };
  }

  /**
   * Write a record of the session's treatment course into its journal (src/course): the course as
   * it stood (right after session-start), an outcome (NPRS before stimulation, after it, milestone
   * measures) or the adverse effects. The journal stays open after its end record until the next
   * session, so the after-session answers land in the session they belong to. The data is checked
   * against the record's schema first: a bad value is refused, naming the field, and not written.
   */
  recordCourse<K extends 'course' | 'outcome' | 'adverse-effects'>(type: K, data: RecordDataInput<K>): SessionResult {
    if (!this.#recorder) return invalid('no session record is open');
    const checked = DATA_SCHEMAS[type].safeParse(data);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      return invalid(`${type} record: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`);
    }
    this.#record(type, data);
    return { ok: true, value: undefined };
  }

  /** Acknowledge an alarm; the acknowledgement is recorded. */
  acknowledgeAlarm(id: string, by: string): SessionResult {
    const alarm = this.#alarms.find((a) => a.id === id);
    if (!alarm) return invalid(`no unacknowledged alarm '${id}'`);
    this.#alarms = this.#alarms.filter((a) => a !== alarm);
    this.#record('alarm-ack', { alarmId: id, by, cause: alarm.cause });
    this.#publish();
    return { ok: true, value: undefined };
  }

  /** Release timers and subscriptions (output must be off). */
  dispose(): void {
    this.#interrupt();
    this.#stopLoop();
    this.#endSessionIfOpen('aborted', 'the application closed');
    this.#closeJournal();
    for (const s of this.#deviceSubs) s.unsubscribe();
    this.#deviceSubs = [];
    this.#snapshot.complete();
    this.#telemetry.complete();
  }

  // ---- output internals ---------------------------------------------------------------------------

  #phase() {
    return this.#plan!.protocol.phases[this.#phaseIndex]!;
  }

  /** Stage every channel at 0 mA for the rest of the phase, start it, and hand over to the ramp. */
  async #beginOutput(to: 'ramping', cause: 'start' | 'resume' | 'phase'): Promise<SessionResult> {
    const device = this.#client.info;
    if (!device) return invalid('the device is not connected');
    const epoch = ++this.#epoch;
    this.#starting = true;
    try {
      return await this.#stageAndStart(to, cause, epoch, device);
    } finally {
      this.#starting = false;
    }
  }

  async #stageAndStart(to: 'ramping', cause: 'start' | 'resume' | 'phase', epoch: number, device: DeviceInfo): Promise<SessionResult> {
    const plan = this.#plan!;
    const remainingMs = phaseDurationMs(this.#phase()) - this.#phaseDoneMs;
    const limits = phaseLimits(plan.protocol, this.#phaseIndex);
    this.#enter(to, cause === 'phase' ? `phase '${this.#phase().name}'` : undefined);
    for (const c of this.#channels) {
      const proposal = phaseParams(plan.protocol, this.#phaseIndex, c.channel, remainingMs);
      const checked = checkStimulation(proposal, { device: device.limits, protocol: limits, electrode: plan.protocol.electrode });
      if (!checked.ok) {
        await this.#abort(`the guard refused channel ${c.channel}: ${checked.violations.map((v) => v.message).join('; ')}`);
        return limitExceeded(checked.violations, 'refused by the guard');
      }
      this.#noteWarnings(checked.checked.warnings, c.channel);
      const staged = await this.#client.stage(checked.checked);
      if (epoch !== this.#epoch) return this.#illegal(cause);
      if (!staged.ok) return this.#failOutput(staged.error);
      const started = await this.#client.start(checked.checked);
      if (epoch !== this.#epoch) return this.#illegal(cause);
      if (!started.ok) return this.#failOutput(started.error);
      c.active = checked.checked;
      c.on = true;
      c.lastQnC = 0;
      c.commanded = { amplitudeMa: 0, atMs: this.#scheduler.now() };
      this.#monitor.on(c.channel, checked.checked.value.amplitudeMa, this.#scheduler.now());
      this.#record('amplitude', { channel: c.channel, targetMa: c.targetMa, commandedMa: 0, cause: cause === 'resume' ? 'resume' : 'ramp' });
    }
    this.#segmentStart = this.#scheduler.now();
    this.#phaseTimer = this.#scheduler.schedule(() => void this.#onPhaseEnd(epoch), remainingMs);
    this.#publish();
    this.#kickRamp();
    return { ok: true, value: undefined };
  }

  async #failOutput(error: DeviceError): Promise<SessionResult> {
    if (error.code !== 'Cancelled') await this.#abort(describeDeviceError(error));
    return this.#deviceError(error);
  }

  /** Hold the clock and cancel the phase timer; async work begun before this is now stale. */
  #interrupt(): void {
    this.#epoch += 1;
    this.#phaseTimer?.unsubscribe();
    this.#phaseTimer = undefined;
    this.#holdClock();
  }

  #holdClock(): void {
    if (this.#segmentStart === undefined) return;
    this.#phaseDoneMs += this.#scheduler.now() - this.#segmentStart;
    this.#segmentStart = undefined;
  }

  /** STOP every channel (output off at once; the device discards the programs). */
  async #stopOutput(cause: 'pause' | 'stop' | 'ramp-down'): Promise<SessionResult> {
    this.#monitor.allOff(this.#scheduler.now());
    for (const c of this.#channels) {
      if (c.on || (c.commanded?.amplitudeMa ?? 0) > 0) {
        this.#record('amplitude', { channel: c.channel, targetMa: c.targetMa, commandedMa: 0, cause });
      }
      c.on = false;
      c.commanded = undefined;
      c.active = undefined;
    }
    this.#publish();
    const r = await this.#client.request('STOP', {});
    if (!r.ok) {
      // Withdrawn because an e-stop overtook it: the e-stop is taking output down, not a failure.
      if (r.error.code !== 'Cancelled') await this.#abort(`STOP failed: ${describeDeviceError(r.error)}`);
      return this.#deviceError(r.error);
    }
    return { ok: true, value: undefined };
  }

  async #onPhaseEnd(epoch: number): Promise<void> {
    if (epoch !== this.#epoch) return;
    this.#interrupt();
    const phase = this.#phase();
    this.#record('phase-end', { index: this.#phaseIndex, name: phase.name, atS: this.#elapsedMs() / 1000 });
    const last = this.#phaseIndex >= this.#plan!.protocol.phases.length - 1;
    if (last) {
      this.#enter('ramping-down', 'protocol time elapsed');
      const r = await this.#stopOutput('ramp-down');
      if (r.ok && this.#state === 'ramping-down') {
        this.#enter('completed', 'protocol time elapsed');
        this.#endSessionIfOpen('completed', undefined);
      }
      return;
    }
    const stopped = await this.#stopOutput('ramp-down');
    if (!stopped.ok) return;
    this.#sessionDoneMs += this.#phaseDoneMs;
    this.#phaseTimes[this.#phaseIndex] = this.#phaseDoneMs;
    this.#phaseDoneMs = 0;
    this.#phaseIndex += 1;
    const next = this.#phase();
    for (const c of this.#channels) c.targetMa = Math.min(c.targetMa, next.amplitude.maxMa);
    this.#record('phase', { index: this.#phaseIndex, name: next.name, atS: this.#elapsedMs() / 1000 });
    await this.#beginOutput('ramping', 'phase');
  }

  /** Run a ramp step soon (now, unless a step is already on its way). */
  #kickRamp(): void {
    this.#scheduler.schedule(() => void this.#rampStep(), 0);
  }

  /**
   * One step toward each channel's target: falls go straight to the target, rises by at most what
   * the slew limit allows since the last acknowledged command, and no more often than RAMP_STEP_MS.
   */
  async #rampStep(): Promise<void> {
    if (this.#ampBusy || !(this.#state === 'ramping' || this.#state === 'running')) return;
    this.#ampBusy = true;
    const epoch = this.#epoch;
    try {
      const plan = this.#plan!;
      const device = this.#client.info;
      if (!device) return;
      const limits = phaseLimits(plan.protocol, this.#phaseIndex);
      for (const c of this.#channels) {
        if (!c.on || !c.active || !c.commanded) continue;
        const now = this.#scheduler.now();
        const from = c.commanded.amplitudeMa;
        let next: number;
        if (c.targetMa < from - TOLERANCE) next = c.targetMa;
        else if (c.targetMa > from + TOLERANCE && now - c.commanded.atMs >= RAMP_STEP_MS) {
          // Down to whole µA (the wire's unit), never up: rounding must not overstep the slew limit.
          next = floorMa(Math.min(c.targetMa, slewCeilingMa(c.commanded, now, limits)));
          if (next <= from + TOLERANCE) continue;
        } else continue;
        const checked = checkAmplitudeChange(
          { channel: c.channel, amplitudeMa: next, atMs: now },
          { device: device.limits, protocol: limits, electrode: plan.protocol.electrode, previous: c.commanded, active: c.active },
        );
        if (!checked.ok) {
          // Not expected (the step is computed from the same limits): hold this step, say so once.
          const message = checked.violations.map((v) => v.message).join('; ');
          if (this.#lastRefusal !== message) this.#record('warning', { channel: c.channel, limit: 'guard', message });
          this.#lastRefusal = message;
          continue;
        }
        this.#noteWarnings(checked.checked.warnings, c.channel);
        this.#monitor.commanding(c.channel, next);
        const r = await this.#client.setAmplitude(checked.checked);
        if (epoch !== this.#epoch) return;
        if (!r.ok) {
          await this.#failOutput(r.error);
          return;
        }
        this.#monitor.acknowledged(c.channel, next);
        c.commanded = { amplitudeMa: next, atMs: now };
        const cause = this.#state === 'ramping' ? 'ramp' : 'titration';
        this.#record('amplitude', { channel: c.channel, targetMa: c.targetMa, commandedMa: next, cause });
      }
      // Running once every channel has started and reached its target (not while some are still
      // being staged: a channel not yet on is not "at target").
      if (this.#state === 'ramping' && !this.#starting && this.#channels.every((c) => c.on && Math.abs((c.commanded?.amplitudeMa ?? 0) - c.targetMa) < TOLERANCE)) {
        this.#enter('running');
      }
      this.#publish();
    } finally {
      this.#ampBusy = false;
    }
  }

  // ---- the loop -----------------------------------------------------------------------------------

  #startLoop(): void {
    this.#stopLoop();
    this.#lastHeartbeatAt = -Infinity;
    // Each tick schedules the next as a fresh action (a virtual scheduler chains rescheduled
    // actions into one another, which a 60-minute session would turn into a very deep chain).
    // Ticks are spaced from a fixed origin (origin + k x TICK_MS), so timers that fire a little
    // early or late never accumulate into a slipped heartbeat.
    const origin = this.#scheduler.now();
    let k = 0;
    const next = (): void => {
      k += 1;
      const delay = Math.max(0, origin + k * TICK_MS - this.#scheduler.now());
      this.#loop = this.#scheduler.schedule(() => {
        next();
        this.#tick();
      }, delay);
    };
    next();
  }

  #stopLoop(): void {
    this.#loop?.unsubscribe();
    this.#loop = undefined;
  }

  /**
   * The session loop. It feeds the device's watchdog only while the session is healthy: the
   * device link has not failed and the journal can write. A hung or failed host therefore stops
   * heartbeats and the device switches off on its own within its watchdog window.
   */
  #tick(): void {
    const now = this.#scheduler.now();
    // A journal that fails during a session stops the heartbeat (output must not go on unrecorded);
    // after the session's end it no longer matters to the device.
    const healthy = !this.#client.failure && !(this.#sessionOpen && (this.#recorder?.failed ?? false));
    // Half a tick of tolerance: a tick that fires slightly early still carries its heartbeat.
    if (healthy && now - this.#lastHeartbeatAt >= HEARTBEAT_MS - TICK_MS / 2) {
      this.#lastHeartbeatAt = now;
      void this.#client.heartbeat().then((r) => {
        if (r.ok || r.error.code === 'Cancelled') return;
        // No answer, or any refusal: a device in session with us always answers HB with OK.
        if (r.error.code === 'AckTimeout') void this.#abort(`the device stopped answering heartbeats (${describeDeviceError(r.error)})`);
        else if (r.error.code !== 'SessionLost') void this.#abort(`the device refused a heartbeat (${describeDeviceError(r.error)})`);
      });
    }
    if (OUTPUT_STATES.has(this.#state)) for (const v of this.#monitor.check(now)) this.#onVerdict(v);
    if (this.#state === 'ramping' || this.#state === 'running') void this.#rampStep();
    if (this.#sessionOpen && now - this.#summaryFrom >= 1000) this.#writeSummary(now);
    // Records held by a failed journal are written as soon as the disk takes them again.
    if (this.#recorder?.failed && now - this.#lastFlushTry >= JOURNAL_RETRY_MS) {
      this.#lastFlushTry = now;
      this.#recorder.flush?.();
    }
    if (OUTPUT_STATES.has(this.#state) || this.#state === 'paused') this.#publish();
  }

  // ---- device events ------------------------------------------------------------------------------

  #watchDevice(): void {
    for (const s of this.#deviceSubs) s.unsubscribe();
    this.#deviceSubs = [
      this.#client.events$.subscribe((e) => this.#onDeviceEvent(e)),
      this.#client.failures$.subscribe((f) => {
        const aborted = this.#abort(describeDeviceError(f), f.code === 'Disconnected');
        // The device lost its session with us: once output is confirmed off, HELLO again, so the
        // next session does not fail with NO_HELLO.
        if (f.code === 'SessionLost') void aborted.then(() => this.#rehandshake());
      }),
      this.#client.traffic$.subscribe((t) => this.#journalTraffic(t.dir, t.line)),
    ];
  }

  #onDeviceEvent(e: DeviceEvent): void {
    switch (e.event) {
      case 'TEL': {
        const c = this.#channels.find((x) => x.channel === e.args.ch);
        if (!c) return;
        const verdict = this.#monitor.telemetry(c.channel, e.args.amp, e.args.i, this.#scheduler.now(), this.#plan ? this.#phase().amplitude.maxMa : 0);
        if (verdict) this.#onVerdict(verdict);
        c.measuredMa = e.args.i / 1000;
        c.impedance = e.args.z;
        c.deliveredUc += Math.max(0, e.args.q - c.lastQnC) / 1000;
        c.lastQnC = e.args.q;
        const s = this.#summary.get(c.channel) ?? { sum: 0, n: 0, max: 0 };
        s.sum += c.measuredMa;
        s.n += 1;
        s.max = Math.max(s.max, c.measuredMa);
        this.#summary.set(c.channel, s);
        this.#telemetry.next({
          atMs: this.#scheduler.now(),
          channel: c.channel,
          measuredMa: c.measuredMa,
          commandedMa: c.commanded?.amplitudeMa ?? 0,
          targetMa: c.targetMa,
          impedance: e.args.z,
        });
        return;
      }
      case 'DONE': {
        const c = this.#channels.find((x) => x.channel === e.args.ch);
        if (c) c.on = false;
        this.#monitor.off(e.args.ch, this.#scheduler.now());
        // The device ends output on its own at the staged duration, which is never before the
        // host's phase timer; a DONE while the runner still expects output is a fault.
        if (OUTPUT_STATES.has(this.#state) && this.#state !== 'ramping-down' && this.#phaseRemainingMs() > 1000) {
          void this.#abort(`the device ended output on channel ${e.args.ch} before the phase was over`);
        }
        return;
      }
      case 'FAULT': {
        const ch = e.args.ch;
        const what: Record<string, [string, string]> = {
          OPEN: [`Channel ${ch} open circuit`, 'check the clip on the needle, then clear'],
          COMPLIANCE: [`Channel ${ch} reached the compliance voltage (the load is too high for the amplitude)`, 'check needle contact and depth, then clear'],
          OVERCURRENT: ['Device over-current: every output is off', 'remove the needles from the circuit and check the device'],
          INTERNAL: ['Device internal fault: every output is off', 'stop using the device and report it'],
        };
        const [cause, action] = what[e.args.code] ?? [`Device fault ${e.args.code}`, 'check the device'];
        this.#record('fault', { channel: ch === 0 ? null : ch, code: e.args.code, message: cause });
        // A second fault during or after the abort (channel 2 open after channel 1) still gets
        // its own alarm: the abort below would ignore it.
        if (this.#aborting || this.#state === 'aborted') this.#raiseLate({ cause, action, ...(ch === 0 ? {} : { channel: ch }) });
        void this.#abort(`${cause}: ${action}`, false, { cause, action, ...(ch === 0 ? {} : { channel: ch }) });
        return;
      }
      case 'WDOG':
        this.#record('fault', { channel: null, code: 'WDOG', message: 'device watchdog tripped' });
        // The watchdog ended the device's session with this host too (PROTOCOL.md §11): once output
        // is confirmed off, HELLO again before anything else.
        void this.#abort('the device watchdog tripped: it heard nothing valid from this computer for its whole window; output is off').then(() => this.#rehandshake());
        return;
      case 'BOOT':
        return; // the client turns a new boot id into a Rebooted failure
    }
  }

  /**
   * The device's telemetry contradicts what it was commanded (output-monitor.ts): every such sample
   * is recorded; the first ends the session (e-stop, high alarm naming both values, abort). Current
   * on a channel that was switched off raises its alarm once and repeats the e-stop.
   */
  #onVerdict(v: MonitorVerdict): void {
    this.#record('measurement', {
      channel: v.channel,
      finding: v.finding,
      ...(v.measuredMa === undefined ? {} : { measuredMa: roundMa(v.measuredMa) }),
      ...(v.limitMa === undefined ? {} : { limitMa: roundMa(v.limitMa) }),
      ...(v.silentMs === undefined ? {} : { silentMs: Math.round(v.silentMs) }),
      message: v.cause,
    });
    if (v.repeat) return;
    if (v.finding === 'current-while-off') {
      void this.#client.estop();
      this.#raise('high', v.cause, v.action, v.channel);
      this.#publish();
      return;
    }
    void this.#abort(`${v.cause}: ${v.action}`, false, { cause: v.cause, action: v.action, channel: v.channel });
  }

  /**
   * Re-establish the device session (HELLO) after the device ended it (a watchdog trip, a silent
   * reset), so a new session can start without reconnecting by hand. Output stays off: the e-stop
   * is latched until CLEAR, and a new boot id means the device restarted (said so, never resumed).
   */
  async #rehandshake(): Promise<void> {
    if (this.#state === 'idle' || this.#state === 'connecting' || this.#client.failure?.code === 'Disconnected') return;
    const before = this.#client.info?.bootId ?? this.#lastBootId;
    const r = await this.#client.connect();
    if (!r.ok) {
      this.#raise('medium', `The device session could not be re-established (${describeDeviceError(r.error)})`, 'Disconnect and connect again', undefined);
    } else {
      if (before !== undefined && r.value.bootId !== before) {
        this.#raise('medium', `The device restarted (boot id ${before} -> ${r.value.bootId})`, 'Check the device before the next session', undefined);
      }
      this.#lastBootId = r.value.bootId;
    }
    this.#publish();
  }

  /**
   * End the session because something went wrong: e-stop first (unless the port is gone), then
   * the state, the alarm and the record.
   */
  async #abort(reason: string, portGone = false, alarm?: { cause: string; action: string; channel?: number }): Promise<void> {
    if (this.#state === 'aborted' || this.#state === 'idle' || this.#state === 'connecting') {
      if (this.#state !== 'aborted' && portGone) this.#stopLoop();
      return;
    }
    // Re-entry (an abort's own records failing to write report a journal failure, which would
    // abort again) is ignored: the first abort is already taking output down.
    if (this.#aborting) return;
    this.#aborting = true;
    try {
      await this.#abortOnce(reason, portGone, alarm);
    } finally {
      this.#aborting = false;
    }
  }

  async #abortOnce(reason: string, portGone: boolean, alarm: { cause: string; action: string; channel?: number } | undefined): Promise<void> {
    const acked = portGone ? undefined : this.#client.estop();
    this.#interrupt();
    this.#monitor.allOff(this.#scheduler.now());
    for (const c of this.#channels) c.on = false;
    this.#raise('high', alarm?.cause ?? reason, alarm?.action ?? 'Check the patient and the device, then clear', alarm?.channel);
    if (canTransition(this.#state, 'aborted')) {
      this.#enter('aborted', reason);
      this.#endSessionIfOpen('aborted', reason);
    }
    if (portGone) this.#stopLoop();
    if (acked) await acked;
    this.#publish();
  }

  // ---- records ------------------------------------------------------------------------------------

  /** Open the session's journal; no journal, no session (nothing may go unrecorded). */
  #openSession(): SessionResult {
    const plan = this.#plan!;
    const device = this.#client.info!;
    this.#closeJournal();
    this.#sessionId = this.#newSessionId();
    try {
      this.#recorder = this.#recorderFactory?.(this.#sessionId);
    } catch (e) {
      return invalid(`cannot open the session journal: ${e instanceof Error ? e.message : String(e)}`);
    }
    this.#summaryFrom = this.#scheduler.now();
    this.#record('session-start', {
      sessionId: this.#sessionId,
      patientRef: this.#screening!.patientRef,
      ...(plan.clinician === undefined ? {} : { clinician: plan.clinician }),
      protocol: protocolRecord(plan.protocol),
      device: {
        transport: this.#client.transportName,
        model: device.model,
        firmware: device.firmware,
        serial: device.serial,
        bootId: device.bootId,
        protocolVersion: device.protocolVersion,
        limits: device.limits,
      },
      screening: this.#screening!.record,
      app: { version: this.#appVersion },
    });
    const recorder = this.#recorder;
    if (recorder?.failed) {
      // The very first record could not be written (a full disk, a read-only data directory): no
      // session starts; the clinician is told why and may try again once it is fixed.
      const why = recorder.failureText?.() ?? 'the write failed';
      this.#closeJournal();
      return { ok: false, error: { code: 'JournalUnavailable', message: `cannot write the session journal (${why}): nothing was started; free space or fix the data directory, then submit the screening again` } };
    }
    this.#sessionOpen = true;
    let told = false;
    this.#recorderSub = recorder?.failures$.subscribe((f) => {
      // The failure itself goes into the held backlog, so the record says when and why.
      if (!told) {
        told = true;
        const failure = f as { operation?: unknown; code?: unknown; message?: unknown; pending?: unknown };
        this.#record('journal-failure', {
          operation: typeof failure.operation === 'string' ? failure.operation : 'write',
          code: typeof failure.code === 'string' ? failure.code : 'UNKNOWN',
          message: (typeof failure.message === 'string' && failure.message.length > 0 ? failure.message : 'write failed').slice(0, 2000),
          pending: typeof failure.pending === 'number' ? failure.pending : 0,
        });
      }
      if (this.#sessionOpen) void this.#abort(`the session journal cannot be written (${recorder.failureText?.() ?? 'write failed'}; its records are held in memory and written when it can); output is off`);
    });
    return { ok: true, value: undefined };
  }

  /** Close the journal of the last session, if one is open (records after its end included). */
  #closeJournal(): void {
    const recorder = this.#recorder;
    if (!recorder) return;
    if (this.#sessionOpen) this.#endSessionIfOpen('aborted', 'closed without an end');
    this.#recorder = undefined;
    this.#sessionOpen = false;
    this.#recorderSub?.unsubscribe();
    this.#recorderSub = undefined;
    recorder.close();
  }

  #endSessionIfOpen(reason: EndReason, detail: string | undefined): void {
    if (!this.#recorder || !this.#sessionOpen) return;
    this.#holdClock();
    this.#writeSummary(this.#scheduler.now());
    this.#record('session-end', {
      reason,
      ...(detail === undefined ? {} : { detail }),
      finalState: this.#state,
      stimulationS: this.#elapsedMs() / 1000,
      phases: this.#plan
        ? this.#plan.protocol.phases.map((_, index) => ({
            index,
            stimulationS: (index === this.#phaseIndex ? this.#phaseDoneMs : (this.#phaseTimes[index] ?? 0)) / 1000,
          }))
        : [],
    });
    this.#sessionOpen = false;
  }

  #record(type: string, data: unknown): void {
    if (!this.#recorder) return;
    try {
      this.#recorder.append(type, data);
    } catch (e) {
      // A record our own code built wrongly is a bug; it must not take output control down with it.
      this.#raise('medium', `A record could not be written (${e instanceof Error ? e.message : String(e)})`, 'Report this; the session continues', undefined);
    }
  }

  #journalTraffic(dir: 'tx' | 'rx', line: string): void {
    if (!this.#recorder) return;
    if (dir === 'tx') {
      const m = /^(\d+) ([A-Z]+)/.exec(line);
      if (!m || m[2] === 'HB') return;
      this.#record('command', { seq: Number(m[1]), verb: m[2], line });
      return;
    }
    if (!/^\d/.test(line)) return; // events are recorded as what they mean, telemetry as summaries
    const d = decodeDeviceLine(line);
    if (!d.ok || d.message.type === 'event') return;
    if (d.message.type === 'ok') {
      if (d.message.verb === 'HB') return;
      this.#record('ack', { seq: d.message.seq, verb: d.message.verb, ok: true, line });
    } else {
      this.#record('ack', { seq: d.message.seq, verb: null, ok: false, code: d.message.args.code, line });
    }
  }

  #writeSummary(now: number): void {
    if (!this.#recorder) return;
    if (this.#summary.size > 0) {
      this.#record('telemetry', {
        fromT: this.#summaryFrom,
        toT: now,
        channels: [...this.#summary.entries()].map(([channel, s]) => {
          const c = this.#channels.find((x) => x.channel === channel);
          return { channel, meanMa: roundMa(s.sum / s.n), maxMa: roundMa(s.max), impedanceOhm: c?.impedance ?? null, chargeUc: c?.deliveredUc ?? 0 };
        }),
      });
    }
    this.#summary.clear();
    this.#summaryFrom = now;
  }

  /**
   * Warnings are de-duplicated per channel and limit (alarms.ts): each channel+limit is journaled
   * once; one alarm per limit names every channel over it and shows the latest values. A limit
   * whose alarm was acknowledged is not raised again for a channel already warned.
   */
  #noteWarnings(warnings: readonly Warning[], channel: number): void {
    for (const w of warnings) {
      const key = `${w.limit}@${channel}`;
      const seen = this.#warnedOn.has(key);
      const showing = [...this.#warningAlarms.values()].filter((x) => this.#alarms.some((a) => a.id === x.id));
      if (seen && !showing.some((x) => x.limit === w.limit)) continue;
      const d = decideWarning(showing, w, channel);
      if (d.kind === 'same') continue;
      if (!seen) {
        this.#warnedOn.add(key);
        if (!this.#warnings.some((x) => x.limit === w.limit)) this.#warnings.push(w);
        this.#record('warning', { channel, limit: w.limit, message: w.message, value: w.value, allowed: w.threshold });
      }
      if (d.kind === 'raise') {
        const id = this.#raise(d.alarm.priority, d.alarm.cause, d.alarm.action, channel, d.alarm);
        this.#warningAlarms.set(w.limit, { id, limit: w.limit, byChannel: d.byChannel });
        continue;
      }
      const first = d.alarm.channels[0];
      this.#alarms = this.#alarms.map((a) => (a.id === d.id ? { ...a, cause: d.alarm.cause, ...(first === undefined ? {} : { channel: first }) } : a));
      this.#alarmRules.set(d.id, d.alarm);
      this.#warningAlarms.set(w.limit, { id: d.id, limit: w.limit, byChannel: d.byChannel });
      // A channel joining the alarm is recorded; a value moving within it is in the measurements.
      if (d.firstOnChannel) this.#record('alarm', { id: d.id, priority: d.alarm.priority, cause: d.alarm.cause, action: d.alarm.action, channel });
    }
  }

  #raise(priority: AlarmPriority, cause: string, action: string, channel: number | undefined, rule?: AlarmText): string {
    const alarm: Alarm = { id: `A${++this.#alarmSeq}`, priority, cause, action, atMs: this.#scheduler.now(), ...(channel === undefined ? {} : { channel }) };
    this.#alarms = [...this.#alarms, alarm].sort((a, b) => rank(a.priority) - rank(b.priority));
    if (rule) this.#alarmRules.set(alarm.id, rule);
    this.#record('alarm', { id: alarm.id, priority, cause, action, ...(channel === undefined ? {} : { channel }) });
    return alarm.id;
  }

  /** The alarm of a fault that arrives while (or after) the session is aborted. */
  #raiseLate(alarm: { cause: string; action: string; channel?: number }): void {
    this.#raise('high', alarm.cause, alarm.action, alarm.channel);
    this.#publish();
  }

  // ---- state --------------------------------------------------------------------------------------

  #enter(to: SessionState, reason?: string): void {
    const from = this.#state;
    if (from === to) return;
    if (!canTransition(from, to)) throw new Error(`illegal session transition ${from} -> ${to}`);
    this.#state = to;
    this.#reason = reason;
    this.#record('state', { from, to, ...(reason === undefined ? {} : { reason }) });
    this.#publish();
  }

  #require(action: string, states: readonly SessionState[]): { ok: false; error: SessionError } | undefined {
    return states.includes(this.#state) ? undefined : this.#illegal(action);
  }

  #illegal(action: string): { ok: false; error: SessionError } {
    return {
      ok: false,
      error: { code: 'IllegalInState', action, state: this.#state, message: `cannot ${action} while ${this.#state}` },
    };
  }

  #deviceError(error: DeviceError): { ok: false; error: SessionError } {
    return { ok: false, error: { code: 'Device', error, message: describeDeviceError(error) } };
  }

  #elapsedMs(): number {
    const running = this.#segmentStart === undefined ? 0 : this.#scheduler.now() - this.#segmentStart;
    return this.#sessionDoneMs + this.#phaseDoneMs + running;
  }

  #phaseRemainingMs(): number {
    if (!this.#plan) return 0;
    const running = this.#segmentStart === undefined ? 0 : this.#scheduler.now() - this.#segmentStart;
    return phaseDurationMs(this.#phase()) - this.#phaseDoneMs - running;
  }

  #publish(): void {
    if (this.#snapshot.closed) return;
    this.#snapshot.next(this.#view());
  }

  #view(): SessionSnapshot {
    const plan = this.#plan;
    const info = this.#client.info;
    const phase = plan?.protocol.phases[this.#phaseIndex];
    const running = this.#segmentStart === undefined ? 0 : this.#scheduler.now() - this.#segmentStart;
    const phaseElapsed = this.#phaseDoneMs + running;
    return {
      state: this.#state,
      ...(this.#reason === undefined ? {} : { reason: this.#reason }),
      latched: this.#client.latched,
      ...(info
        ? { device: { transport: this.#client.transportName, model: info.model, firmware: info.firmware, serial: info.serial, bootId: info.bootId, limits: info.limits } }
        : {}),
      ...(plan ? { protocol: { id: plan.protocol.id, name: plan.protocol.name, hash: plan.protocol.hash } } : {}),
      ...(this.#sessionId === undefined ? {} : { sessionId: this.#sessionId }),
      ...(this.#recorder ? { journal: this.#recorder.location } : {}),
      ...(plan && phase
        ? {
            phase: {
              index: this.#phaseIndex,
              count: plan.protocol.phases.length,
              name: phase.name,
              elapsedS: phaseElapsed / 1000,
              durationS: phaseDurationMs(phase) / 1000,
              frequencyHz: currentFrequencyHz(phase.pattern, phaseElapsed),
            },
          }
        : {}),
      elapsedS: this.#elapsedMs() / 1000,
      totalS: plan ? totalDurationMs(plan.protocol) / 1000 : 0,
      channels: this.#channels.map((c) => ({
        channel: c.channel,
        region: c.region,
        side: c.side,
        sites: c.sites,
        targetMa: c.targetMa,
        commandedMa: c.commanded?.amplitudeMa ?? 0,
        measuredMa: c.measuredMa,
        impedance: c.impedance,
        on: c.on,
        maxMa: phase?.amplitude.maxMa ?? 0,
        deliveredUc: c.deliveredUc,
      })),
      electrodes: this.#electrodes,
      warnings: this.#warnings,
      alarms: this.#alarms,
    };
  }
}

function rank(p: AlarmPriority): number {
  return p === 'high' ? 0 : p === 'medium' ? 1 : 2;
}

/** Amplitudes are kept to the wire's resolution (1 µA) so float noise never accumulates. */
function roundMa(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Down to whole µA (tolerating float noise just below a whole µA). */
function floorMa(x: number): number {
  return Math.floor(x * 1000 + 1e-6) / 1000;
}

function invalid(message: string): { ok: false; error: SessionError } {
  return { ok: false, error: { code: 'Invalid', message } };
}

function limitExceeded(violations: readonly Violation[], message: string): { ok: false; error: SessionError } {
  const detail = violations.map((v) => v.message).join('; ');
  return { ok: false, error: { code: 'LimitExceeded', violations, message: detail ? `${message}: ${detail}` : message } };
}

function defaultSessionId(scheduler: SchedulerLike): () => string {
  let n = 0;
  return () => `S${Math.floor(scheduler.now()).toString(36).toUpperCase()}-${(++n).toString().padStart(3, '0')}-${Math.random().toString(36).slice(2, 8).toUpperCase()}`;
}

export { TERMINAL_STATES };
