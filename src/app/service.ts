/**
 * ControllerService: the contract (contract.ts) implemented over the session and device layers.
 * It is the only thing the adapters (Electron IPC in electron/main, the WebSocket host in src/web)
 * talk to, through the dispatcher (dispatch.ts) so both bind it identically.
 *
 * Every call returns a Result value and never throws: bad input is BAD_INPUT naming the field,
 * the session's and device's errors map onto the contract's codes, and anything unexpected is
 * INTERNAL with its message. Pushed events: `snapshot` on every change of the session, and
 * `telemetry` samples while output is on.
 *
 * Safety notes
 * - `estop` and `emergencyStop` call the runner synchronously (the ESTOP frame is written before
 *   the call first yields); they take no lock and wait behind nothing.
 * - `disconnect` and a second `connect` are refused while output may be on.
 * - `dispose` e-stops first when output may be on.
 */
import { BehaviorSubject, Subject, type Observable, type SchedulerLike, type Subscription } from 'rxjs';
import type * as z from 'zod';
import {
  BUILT_INS,
  type Protocol,
  type ProtocolEvidence,
  ProtocolSchema,
  type ProtocolValidation,
  builtInProtocol,
  describePattern,
  formatProtocolError,
  normalizeProtocol,
  phaseFigures,
  protocolEvidence,
  totalDurationMin,
  validateProtocol,
  validateUserProtocol,
  verificationOf,
  withUnit,
} from '../domain/index.js';
import {
  type Acknowledgement,
  PATIENT_QUESTIONS,
  PREGNANCY_QUESTION,
  PREGNANCY_REGIONS,
  SITE_QUESTIONS,
  evaluateScreening,
  parseScreeningAnswers,
  screeningTemplate,
} from '../domain/screening.js';
import { sideChoiceProblem, sideChoices } from '../domain/protocols/treated-side.js';
import { DeviceClient } from '../device/client.js';
import { type OpenedTransport, openTransport as defaultOpenTransport } from '../device/open.js';
import { type ListPortsOptions, type PortEntry, SIMULATOR_PATH, listPorts as defaultListPorts } from '../device/ports.js';
import { monotonicScheduler } from '../device/time.js';
import { type JournalClock, openJournal } from '../session/journal.js';
import { buildReport, renderReport } from '../session/report.js';
import { type SessionError, SessionRunner } from '../session/runner.js';
import { OUTPUT_MAY_BE_ON, TERMINAL_STATES } from '../session/states.js';
import {
  type CALLS,
  type CallInput,
  type CallName,
  type CallOutput,
  type ContractError,
  type EstopSource,
  type Evidence,
  type EventData,
  type EventName,
  type Result,
  type SessionNote,
  type Snapshot,
  parseInput,
} from './contract.js';
import type { RecordDataInput } from '../session/journal-records.js';
import { type CourseDetail, type CourseError, CourseStore } from '../course/store.js';
import { courseFitProblem } from '../course/session.js';
import { buildCourseReport } from '../course/report.js';
import { loadInstruments } from '../course/instruments.js';
import { renderCourseHtml, renderCourseJson, renderCourseMarkdown } from '../course/render.js';
import { renderCourseCsv } from '../course/csv.js';
import { renderCourseFhir } from '../course/fhir.js';
import { GROC_ID, NPRS_ID, PSFS_ID, builtInInstrument } from '../domain/outcomes/library/index.js';
import { instrumentFits, recordOutcome, recordScoreOnly } from '../domain/outcomes/score.js';
import type { InstrumentLibrary } from '../course/instruments.js';
import { SettingsStore } from './settings.js';
import { ProtocolStore, SessionStore, journalIntact } from './store.js';

/** A call's input as the UI sends it, and as parsed. */
type Input<C extends CallName> = CallInput<C>;
type Parsed<C extends CallName> = z.output<(typeof CALLS)[C]['input']>;

/** One pushed event, as the adapters forward it. */
export type ServiceEvent = { readonly [E in EventName]: { readonly event: E; readonly data: EventData<E> } }[EventName];

/** One function per call of the contract: what the dispatcher binds. */
export type ContractHandlers = { readonly [C in CallName]: (input: Input<C>) => Promise<Result<CallOutput<C>>> };

/** States in which output may be on, or may come back on without a new start (paused). */
export { OUTPUT_MAY_BE_ON };

export interface ControllerServiceOptions {
  /** The app's data directory: `protocols/`, `sessions/` and `settings.json` live in it. */
  readonly dataDir: string;
  /** Every timer of the session and device layers. Default: the monotonic real-time scheduler. */
  readonly scheduler?: SchedulerLike;
  /** Opens `sim` or a serial port path. Default: src/device/open.ts. */
  readonly openTransport?: (path: string, scheduler: SchedulerLike) => Promise<OpenedTransport>;
  /** Lists serial ports. Default: src/device/ports.ts. */
  readonly listPorts?: (options: ListPortsOptions) => Promise<PortEntry[]>;
  /**
   * Real serial ports may be listed and opened. The browser host passes false unless started with
   * --allow-hardware (then only the simulator is offered); Electron passes true.
   */
  readonly allowHardware: boolean;
  /** Wall-clock time for journal timestamps and screening acknowledgements. Default: `new Date()`. */
  readonly wallClock?: () => Date;
  /** Recorded in each session's start record. */
  readonly appVersion?: string;
  /** Fresh session ids (tests). Default: the runner's. */
  readonly newSessionId?: () => string;
  /**
   * Who runs and acknowledges this host's sessions, over the settings' clinician (`edn run
   * --clinician`). Default: the settings' clinician.
   */
  readonly clinician?: string;
  /**
   * Protocols this host offers beyond the built-ins and the protocol store, found by id before
   * either (`edn run --protocol FILE`: the file's content runs, even when its id is a built-in's).
   * Each must be a validated protocol. Default: none.
   */
  readonly protocols?: readonly Protocol[];
  /**
   * Serial device paths offered besides the ports the system lists (a pty from `edn simulate
   * --pty` or the firmware in QEMU, a symlink), when hardware is allowed. Default: none.
   */
  readonly serialPaths?: readonly string[];
}

interface Connection {
  readonly path: string;
  readonly opened: OpenedTransport;
  readonly client: DeviceClient;
  readonly runner: SessionRunner;
  readonly subs: Subscription[];
}

const IDLE: Snapshot = Object.freeze({
  state: 'idle',
  latched: false,
  elapsedS: 0,
  totalS: 0,
  channels: [],
  electrodes: [],
  warnings: [],
  alarms: [],
});

const NOT_CONNECTED = 'no device is connected: connect to a port or the simulator first';

export class ControllerService implements ContractHandlers {
  readonly #dataDir: string;
  readonly #scheduler: SchedulerLike;
  readonly #openTransport: (path: string, scheduler: SchedulerLike) => Promise<OpenedTransport>;
  readonly #listPorts: (options: ListPortsOptions) => Promise<PortEntry[]>;
  readonly #allowHardware: boolean;
  readonly #wallClock: () => Date;
  readonly #appVersion: string | undefined;
  readonly #newSessionId: (() => string) | undefined;
  readonly #clinician: string | undefined;
  readonly #offered: ReadonlyMap<string, Protocol>;
  readonly #serialPaths: readonly string[];

  readonly #settings: SettingsStore;
  readonly #protocols: ProtocolStore;
  readonly #sessions: SessionStore;

  readonly #events = new Subject<ServiceEvent>();
  readonly #snapshot = new BehaviorSubject<Snapshot>(IDLE);
  #conn: Connection | undefined;
  #connecting = false;
  #disposed = false;
  #courseStore: CourseStore | undefined;
  /** The patient the last cleared screening was for (a course session must be theirs). */
  #screenedPatient: string | undefined;
  /** The session in progress as a session of a course (courseSession), for its after-session outcomes. */
  #courseOf: { readonly courseId: string; readonly sessionId: string; readonly journal: string; readonly number: number } | undefined;
  /** The notes of the latest session that has any (its journal is the record; this is what every UI shows). */
  #notes: SessionNote[] = [];

  /** Every pushed event (snapshot, telemetry). */
  readonly events$: Observable<ServiceEvent> = this.#events.asObservable();
  /** Problems found at start (a corrupt settings file), in words, for the host to show. */
  readonly problems: readonly string[];

  constructor(options: ControllerServiceOptions) {
    this.#dataDir = options.dataDir;
    this.#scheduler = options.scheduler ?? monotonicScheduler;
    this.#openTransport = options.openTransport ?? ((path, scheduler) => defaultOpenTransport(path, scheduler));
    this.#listPorts = options.listPorts ?? defaultListPorts;
    this.#allowHardware = options.allowHardware;
    this.#wallClock = options.wallClock ?? (() => new Date());
    this.#appVersion = options.appVersion;
    this.#newSessionId = options.newSessionId;
    this.#clinician = options.clinician;
    this.#offered = new Map((options.protocols ?? []).map((p) => [p.id, p]));
    this.#serialPaths = options.serialPaths ?? [];
    this.#settings = new SettingsStore(this.#dataDir);
    this.#protocols = new ProtocolStore(this.#dataDir);
    this.#sessions = new SessionStore(this.#dataDir);
    this.problems = this.#settings.problem === undefined ? [] : [this.#settings.problem];
  }

  /** Subscribe to every pushed event; returns the unsubscribe function. */
  on(listener: (event: ServiceEvent) => void): () => void {
    const sub = this.#events.subscribe(listener);
    return () => sub.unsubscribe();
  }

  /** The latest snapshot (also what a newly connected UI is sent first). */
  get snapshot(): Snapshot {
    return this.#snapshot.value;
  }

  /** Whether real serial ports are offered. */
  get allowHardware(): boolean {
    return this.#allowHardware;
  }

  /** True while output is on or may come back without a new start: ramping, running, ramping-down, paused. */
  outputMayBeOn(): boolean {
    const conn = this.#conn;
    return conn !== undefined && OUTPUT_MAY_BE_ON.has(conn.runner.state);
  }

  /**
   * E-stop from the host itself (renderer crash or hang, window close, lost UI, signal). The ESTOP
   * frame is written before this returns its promise. Without a device it does nothing.
   */
  emergencyStop(source: EstopSource): Promise<Result<null>> {
    const conn = this.#conn;
    if (!conn) return Promise.resolve(ok(null));
    try {
      return conn.runner.estop(source).then(
        (r) => (r.ok ? ok(null) : sessionFail(r.error)),
        (e: unknown) => internal('estop', e),
      );
    } catch (e) {
      return Promise.resolve(internal('estop', e));
    }
  }

  /** E-stop if output may be on, then release the device and every subscription. Never throws. */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    if (this.outputMayBeOn()) await this.emergencyStop('shutdown');
    await this.#teardown();
    this.#events.complete();
    this.#snapshot.complete();
    this.#courseStore?.close();
    this.#courseStore = undefined;
  }

  // ---- device -----------------------------------------------------------------------------------

  listPorts(input: Input<'listPorts'> = {}): Promise<Result<CallOutput<'listPorts'>>> {
    return this.#run('listPorts', input, async () => {
      const sim: CallOutput<'listPorts'>[number] = { path: SIMULATOR_PATH, kind: 'simulator', label: 'Simulated stimulator (no hardware)', likelyStimulator: false };
      if (!this.#allowHardware) return ok([sim]);
      const ports = await this.#listPorts({ usbIds: this.#settings.get().usbIds });
      const out = ports.map((p) => ({
        path: p.path,
        kind: p.kind,
        label: p.label,
        ...(p.vendorId === undefined ? {} : { vendorId: p.vendorId }),
        ...(p.productId === undefined ? {} : { productId: p.productId }),
        ...(p.manufacturer === undefined ? {} : { manufacturer: p.manufacturer }),
        likelyStimulator: p.likelyStimulator,
      }));
      for (const path of this.#serialPaths) {
        if (!out.some((p) => p.path === path)) out.push({ path, kind: 'serial', label: `Serial device ${path}`, likelyStimulator: false });
      }
      return ok(out.some((p) => p.kind === 'simulator') ? out : [sim, ...out]);
    });
  }

  connect(input: Input<'connect'>): Promise<Result<CallOutput<'connect'>>> {
    return this.#run('connect', input, async ({ path }) => {
      if (this.#disposed) return fail('ILLEGAL_STATE', 'the application is closing');
      if (!this.#allowHardware && path !== SIMULATOR_PATH) {
        return fail('BAD_INPUT', `this host offers only the simulator ("${SIMULATOR_PATH}"); start it with --allow-hardware to use serial ports`);
      }
      if (this.#connecting) return fail('ILLEGAL_STATE', 'a connection is already being opened');
      const existing = this.#conn;
      if (existing) {
        if (this.outputMayBeOn()) return fail('ILLEGAL_STATE', 'output may be on: stop the session before connecting again');
        const gone = existing.client.failure !== undefined || existing.runner.state === 'idle';
        if (!gone) return fail('ILLEGAL_STATE', `already connected to ${existing.path}: disconnect first`);
      }
      this.#connecting = true;
      try {
        if (existing) await this.#teardown();
        let opened: OpenedTransport;
        try {
          opened = await this.#openTransport(path, this.#scheduler);
        } catch (e) {
          return fail('DEVICE', `cannot open ${path}: ${message(e)}`);
        }
        const client = new DeviceClient({ transport: opened.transport, scheduler: this.#scheduler });
        const clock: JournalClock = { monotonicMs: () => this.#scheduler.now(), wallIso: () => this.#wallClock().toISOString() };
        const runner = new SessionRunner({
          client,
          scheduler: this.#scheduler,
          recorder: (sessionId) => openJournal({ dataDir: this.#dataDir, sessionId, clock }),
          ...(this.#appVersion === undefined ? {} : { appVersion: this.#appVersion }),
          ...(this.#newSessionId === undefined ? {} : { newSessionId: this.#newSessionId }),
        });
        const conn: Connection = { path, opened, client, runner, subs: [] };
        this.#conn = conn;
        conn.subs.push(
          // The runner's views are the contract's (src/session/views.ts): published as they are.
          runner.snapshot$.subscribe((s) => this.#publish(s)),
          runner.telemetry$.subscribe((t) => this.#emit({ event: 'telemetry', data: t })),
        );
        const r = await runner.connect();
        if (!r.ok) {
          await this.#teardown();
          return sessionFail(r.error);
        }
        const device = runner.snapshot.device;
        if (!device) return fail('INTERNAL', 'connected, but the device identity is missing');
        return ok(device);
      } finally {
        this.#connecting = false;
      }
    });
  }

  disconnect(input: Input<'disconnect'> = {}): Promise<Result<null>> {
    return this.#run('disconnect', input, async () => {
      if (!this.#conn) return ok(null);
      if (this.outputMayBeOn()) return fail('ILLEGAL_STATE', 'output may be on: stop the session (or use the emergency stop) before disconnecting');
      if (this.#connecting) return fail('ILLEGAL_STATE', 'a connection is being opened');
      await this.#teardown();
      return ok(null);
    });
  }

  // ---- protocols ----------------------------------------------------------------------------------

  listProtocols(input: Input<'listProtocols'> = {}): Promise<Result<CallOutput<'listProtocols'>>> {
    return this.#run('listProtocols', input, () => {
      const out: CallOutput<'listProtocols'> = BUILT_INS.map((b) => summary(b.protocol, true, b.warnings));
      for (const entry of this.#protocols.list()) {
        if (BUILT_INS.some((b) => b.id === entry.id)) continue; // a built-in id on disk is never used
        if (entry.validation.ok) {
          out.push(summary(entry.validation.protocol, false, entry.validation.warnings));
          continue;
        }
        const json = entry.json as { name?: unknown; indication?: unknown } | undefined;
        const first = entry.validation.errors[0];
        out.push({
          id: entry.id,
          name: typeof json?.name === 'string' ? json.name : entry.id,
          indication: typeof json?.indication === 'string' ? json.indication : '',
          hash: '',
          builtIn: false,
          totalMin: 0,
          phases: [],
          sources: [],
          evidence: { values: [], groups: [] },
          warnings: [],
          problem: first ? formatProtocolError(first) : 'the file does not validate',
        });
      }
      return ok(out);
    });
  }

  loadProtocol(input: Input<'loadProtocol'>): Promise<Result<CallOutput<'loadProtocol'>>> {
    return this.#run('loadProtocol', input, ({ id }) => {
      const b = builtInProtocol(id);
      if (b) return ok({ file: structuredClone(b.source), builtIn: true, validation: toValidation(validateProtocol(b.source), b.source) });
      const entry = this.#protocols.read(id);
      if (!entry) return fail('NOT_FOUND', `no protocol "${id}"`);
      return ok({ file: entry.json ?? null, builtIn: false, validation: toValidation(entry.validation, entry.json) });
    });
  }

  validateProtocol(input: Input<'validateProtocol'>): Promise<Result<CallOutput<'validateProtocol'>>> {
    return this.#run('validateProtocol', input, ({ file }) => ok(toValidation(validateUserProtocol(file), file)));
  }

  saveProtocol(input: Input<'saveProtocol'>): Promise<Result<CallOutput<'saveProtocol'>>> {
    return this.#run('saveProtocol', input, ({ file }) => {
      // As a user protocol: a built-in's id or name is refused, and so is a name another of the
      // user's protocols already has.
      const validated = validateUserProtocol(file);
      const clash = validated.ok ? this.#protocols.nameConflict(validated.protocol.id, validated.protocol.name) : undefined;
      const v: ProtocolValidation = clash ? { ok: false, errors: [clash], warnings: validated.warnings } : validated;
      if (!v.ok) {
        const details = v.errors.map((e) => ({ path: e.path || '(file)', message: e.message }));
        return { ok: false, error: { code: 'BAD_INPUT', message: `the protocol is not saved: it has ${plural(details.length, 'problem')}, first ${formatProtocolError(v.errors[0]!)}`, details } };
      }
      const id = v.protocol.id;
      if (builtInProtocol(id)) {
        const message = `"${id}" is a built-in protocol and cannot be overwritten: give the copy a new id`;
        return { ok: false, error: { code: 'BAD_INPUT', message, details: [{ path: 'id', message }] } };
      }
      try {
        this.#protocols.save(id, file);
      } catch (e) {
        return fail('STORAGE', `cannot save protocol "${id}": ${message(e)}`);
      }
      return ok({ id, hash: v.hash });
    });
  }

  // ---- screening ----------------------------------------------------------------------------------

  screeningForm(input: Input<'screeningForm'>): Promise<Result<CallOutput<'screeningForm'>>> {
    return this.#run('screeningForm', input, ({ protocolId }) => {
      const found = this.#findProtocol(protocolId);
      if (!found.ok) return found;
      const protocol = found.data;
      const questions: CallOutput<'screeningForm'>['questions'] = Object.entries(PATIENT_QUESTIONS).map(([id, q]) => ({
        id,
        text: q.text,
        severity: q.severity,
        scope: 'patient' as const,
        source: q.source,
      }));
      if (protocol.channels.some((c) => PREGNANCY_REGIONS.includes(c.region))) {
        questions.push({ id: 'pregnancy', text: PREGNANCY_QUESTION.text, severity: PREGNANCY_QUESTION.severity, scope: 'patient', source: PREGNANCY_QUESTION.source });
      }
      for (const [id, q] of Object.entries(SITE_QUESTIONS)) questions.push({ id, text: q.text, severity: q.severity, scope: 'site', source: q.source });
      return ok({ questions, template: screeningTemplate(protocol), sideChoices: sideChoices(protocol) });
    });
  }

  submitScreening(input: Input<'submitScreening'>): Promise<Result<CallOutput<'submitScreening'>>> {
    return this.#run('submitScreening', input, async ({ protocolId, answers, acknowledgements, side }) => {
      const found = this.#findProtocol(protocolId);
      if (!found.ok) return found;
      const protocol = found.data;
      // Which side before anything else: the electrode check that follows a cleared screening is
      // for the needles on that side (H32).
      const sideRefused = sideChoiceProblem(protocol, side);
      if (sideRefused) return { ok: false, error: { code: sideRefused.code, message: sideRefused.message, details: [{ path: 'side', message: sideRefused.message }] } };
      const parsed = parseScreeningAnswers(answers, { patientRefRule: this.#settings.patientRefRule() });
      if (!parsed.ok) {
        const details = parsed.errors.map((e) => ({ path: e.path || '(answers)', message: e.message }));
        return { ok: false, error: { code: 'BAD_INPUT', message: `the screening answers are invalid: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`, details } };
      }
      const clinician = this.#clinician ?? this.#settings.get().clinician;
      if (acknowledgements.length > 0 && clinician === '') {
        return fail('SCREENING', 'acknowledging a relative contraindication records who did it: set the clinician (initials or staff id) in the settings first');
      }
      const at = this.#wallClock().toISOString();
      const acks: Acknowledgement[] = acknowledgements.map((id) => ({ id, by: clinician, at }));
      const outcome = evaluateScreening(parsed.answers, { protocol, acknowledgements: acks });
      const findings = outcome.record.findings.map((f) => ({ id: f.id, path: f.path, kind: f.kind, message: f.message, source: f.source }));
      const warnings = parsed.warnings.length > 0 ? { warnings: parsed.warnings.map((w) => ({ path: w.path, message: w.message })) } : {};
      if (!outcome.ok) return ok({ status: outcome.status, findings, electrodes: [], ...warnings });

      const conn = this.#conn;
      if (!conn) return fail('NOT_CONNECTED', `the screening cleared the patient, but ${NOT_CONNECTED}; then submit it again`);
      const prepared = conn.runner.prepare({ protocol, ...(clinician === '' ? {} : { clinician }), ...(side === undefined ? {} : { side }) });
      if (!prepared.ok) return sessionFail(prepared.error);
      const checked = await conn.runner.submitScreening(outcome.cleared);
      if (!checked.ok) return sessionFail(checked.error);
      this.#screenedPatient = outcome.cleared.patientRef;
      return ok({ status: 'cleared', findings, electrodes: [...checked.value], ...warnings });
    });
  }

  // ---- the session --------------------------------------------------------------------------------

  checkElectrodes(input: Input<'checkElectrodes'> = {}): Promise<Result<CallOutput<'checkElectrodes'>>> {
    return this.#session('checkElectrodes', input, async (runner) => {
      const r = await runner.checkElectrodes();
      return r.ok ? ok([...r.value]) : sessionFail(r.error);
    });
  }

  start(input: Input<'start'>): Promise<Result<null>> {
    return this.#session('start', input, async (runner, { targetMa }) => done(await runner.start({ targetMa })));
  }

  titrate(input: Input<'titrate'>): Promise<Result<CallOutput<'titrate'>>> {
    return this.#session('titrate', input, (runner, { deltaMa, channel }) => {
      const r = runner.titrate(deltaMa, channel);
      return r.ok ? ok({ targets: [...r.value.targets], refused: [...r.value.refused] }) : sessionFail(r.error);
    });
  }

  pause(input: Input<'pause'> = {}): Promise<Result<null>> {
    return this.#session('pause', input, async (runner) => done(await runner.pause()));
  }

  resume(input: Input<'resume'> = {}): Promise<Result<null>> {
    return this.#session('resume', input, async (runner) => done(await runner.resume()));
  }

  stop(input: Input<'stop'> = {}): Promise<Result<null>> {
    return this.#session('stop', input, async (runner) => done(await runner.stop()));
  }

  /** The UI's e-stop. Without a device there is no output to stop: ok. */
  estop(input: Input<'estop'>): Promise<Result<null>> {
    return this.#run('estop', input, ({ source }) => this.emergencyStop(source));
  }

  clear(input: Input<'clear'> = {}): Promise<Result<null>> {
    return this.#session('clear', input, async (runner) => done(await runner.clear(this.#settings.get().clinician || 'clinician')));
  }

  newSession(input: Input<'newSession'> = {}): Promise<Result<null>> {
    return this.#session('newSession', input, (runner) => {
      const r = done(runner.newSession());
      // The next session starts with none (the snapshot keeps the last session's id until then).
      if (r.ok) this.#notes = [];
      return r;
    });
  }

  cancelSession(input: Input<'cancelSession'> = {}): Promise<Result<null>> {
    return this.#session('cancelSession', input, (runner) => done(runner.cancel()));
  }

  /** A note journaled is also pushed to every UI (`note`), so a window that watches shows it too. */
  addNote(input: Input<'addNote'>): Promise<Result<null>> {
    return this.#session('addNote', input, (runner, { text }) => {
      const r = done(runner.addNote(text));
      if (r.ok) this.#noteAdded(text.trim());
      return r;
    });
  }

  listNotes(input: Input<'listNotes'> = {}): Promise<Result<SessionNote[]>> {
    return this.#run('listNotes', input, () => {
      const sessionId = this.#snapshot.value.sessionId;
      return ok(sessionId === undefined ? [] : this.#notes.filter((n) => n.sessionId === sessionId));
    });
  }

  #noteAdded(text: string): void {
    const s = this.#snapshot.value;
    if (s.sessionId === undefined) return;
    if (this.#notes[0]?.sessionId !== s.sessionId) this.#notes = [];
    const note: SessionNote = { sessionId: s.sessionId, seq: this.#notes.length + 1, atS: Math.max(0, s.elapsedS), text };
    this.#notes.push(note);
    this.#emit({ event: 'note', data: note });
  }

  acknowledgeAlarm(input: Input<'acknowledgeAlarm'>): Promise<Result<null>> {
    return this.#session('acknowledgeAlarm', input, (runner, { id }) => done(runner.acknowledgeAlarm(id, this.#settings.get().clinician || 'clinician')));
  }

  getSnapshot(input: Input<'getSnapshot'> = {}): Promise<Result<Snapshot>> {
    return this.#run('getSnapshot', input, () => ok(this.#snapshot.value));
  }

  /**
   * A UI's sign of life. The adapters answer it in SessionControl (src/app/control.ts), which
   * watches the UIs; a caller in this process (no adapter) is alive by definition.
   */
  heartbeat(input: Input<'heartbeat'>): Promise<Result<null>> {
    return this.#run('heartbeat', input, () => ok(null));
  }

  /**
   * Taking control is SessionControl's (the adapters answer it there); a caller in this process is
   * the only one, so it controls already.
   */
  takeControl(input: Input<'takeControl'>): Promise<Result<CallOutput<'takeControl'>>> {
    return this.#run('takeControl', input, () => ok({ client: 'local', label: 'this process', role: 'controller' as const, controllerPresent: true, others: 0 }));
  }

  /**
   * Write a change of the controlling UI (SessionControl decides it) into the open session's
   * record. ILLEGAL_STATE when no session record is open (before screening, after its end).
   */
  recordControl(change: RecordDataInput<'control'>): Result<null> {
    const conn = this.#conn;
    if (!conn) return fail('NOT_CONNECTED', NOT_CONNECTED);
    try {
      return done(conn.runner.recordControl(change));
    } catch (e) {
      return internal('recordControl', e);
    }
  }

  // ---- records ------------------------------------------------------------------------------------

  listSessions(input: Input<'listSessions'> = {}): Promise<Result<CallOutput<'listSessions'>>> {
    return this.#run('listSessions', input, async () => ok(await this.#sessions.list()));
  }

  openReport(input: Input<'openReport'>): Promise<Result<CallOutput<'openReport'>>> {
    return this.#run('openReport', input, async ({ sessionId, format }) => {
      const found = await this.#sessions.open(sessionId);
      if (!found) return fail('NOT_FOUND', `no session "${sessionId}" in ${this.#sessions.dir}`);
      const { read } = found;
      const unreadable = read.problems.find((p) => p.kind === 'unreadable' || p.kind === 'internal');
      if (unreadable) return fail('STORAGE', unreadable.message);
      if (read.records.length === 0) return fail('STORAGE', `${found.file} holds no readable record`);
      const content = renderReport(buildReport(read), format);
      return ok({ format, content, intact: journalIntact(read) });
    });
  }

  // ---- settings -----------------------------------------------------------------------------------

  getSettings(input: Input<'getSettings'> = {}): Promise<Result<CallOutput<'getSettings'>>> {
    return this.#run('getSettings', input, () => ok(this.#settings.get()));
  }

  setSettings(input: Input<'setSettings'>): Promise<Result<CallOutput<'setSettings'>>> {
    return this.#run('setSettings', input, (partial) => {
      let r: ReturnType<SettingsStore['set']>;
      try {
        r = this.#settings.set(dropUndefined(partial));
      } catch (e) {
        return fail('STORAGE', `cannot save the settings: ${message(e)}`);
      }
      if (!r.ok) return { ok: false, error: { code: 'BAD_INPUT', message: r.errors.map((e) => `${e.path}: ${e.message}`).join('; '), details: r.errors } };
      return ok(r.settings);
    });
  }

  // ---- courses (issue 14) ---------------------------------------------------------------------------
  // The service is the course store's one writer: it opens `<dataDir>/courses.db` on the first
  // course call (so a host that never uses courses never creates it) and closes it on dispose.

  listPatients(input: Input<'listPatients'> = {}): Promise<Result<CallOutput<'listPatients'>>> {
    return this.#course('listPatients', input, (store, { find }) => ok(store.listPatients(find).map((p) => ({ ...p, labels: [...p.labels] }))));
  }

  addPatient(input: Input<'addPatient'>): Promise<Result<CallOutput<'addPatient'>>> {
    return this.#course('addPatient', input, (store, { ref, labels }) => {
      const r = store.addPatient(ref, labels ?? []);
      return r.ok ? ok({ ...r.value, labels: [...r.value.labels] }) : courseFail(r.error);
    });
  }

  setPatientLabels(input: Input<'setPatientLabels'>): Promise<Result<CallOutput<'setPatientLabels'>>> {
    return this.#course('setPatientLabels', input, (store, { ref, labels }) => {
      const r = store.setLabels(ref, labels);
      return r.ok ? ok({ ...r.value, labels: [...r.value.labels] }) : courseFail(r.error);
    });
  }

  courseInstruments(input: Input<'courseInstruments'>): Promise<Result<CallOutput<'courseInstruments'>>> {
    return this.#course('courseInstruments', input, (store, { courseId }) => {
      const course = store.getCourse(courseId);
      if (!course) return fail('NOT_FOUND', `no course "${courseId}"`);
      // The regions the course treats: its protocol's channels (a protocol since removed offers every instrument as "other").
      const protocol = this.#findProtocol(course.protocol.id);
      const regions = protocol.ok ? protocol.data.channels.map((c) => c.region) : [];
      return ok(
        loadInstruments(this.#dataDir)
          .instruments.filter((i) => i.form.kind === 'score-only')
          .map((i) => ({
            id: i.id,
            name: i.name,
            version: i.version,
            licence: i.licence,
            description: i.description ?? null,
            fits: protocol.ok && instrumentFits(i, regions),
            scores: i.scores.map((sc) => ({ id: sc.id, name: sc.name, min: sc.min, max: sc.max, step: sc.step, unit: sc.unit ?? 'points', direction: sc.direction, mcid: sc.mcid ?? null })),
          })),
      );
    });
  }

  listCourses(input: Input<'listCourses'>): Promise<Result<CallOutput<'listCourses'>>> {
    return this.#course('listCourses', input, (store, { patientRef }) => {
      if (!store.getPatient(patientRef)) return fail('NOT_FOUND', `no patient "${patientRef}"`);
      const instruments = loadInstruments(this.#dataDir);
      return ok(store.listCourses(patientRef).map((c) => courseOut(c, instruments)));
    });
  }

  startCourse(input: Input<'startCourse'>): Promise<Result<CallOutput<'startCourse'>>> {
    return this.#course('startCourse', input, (store, { patientRef, protocolId, ...plan }) => {
      const protocol = this.#findProtocol(protocolId);
      if (!protocol.ok) return protocol;
      const r = store.startCourse({ patientRef, protocol: protocol.data, ...dropUndefined(plan) });
      return r.ok ? ok(courseOut(r.value, loadInstruments(this.#dataDir))) : courseFail(r.error);
    });
  }

  closeCourse(input: Input<'closeCourse'>): Promise<Result<CallOutput<'closeCourse'>>> {
    return this.#course('closeCourse', input, (store, { courseId, status, reason }) => {
      const r = store.setStatus(courseId, status, reason);
      return r.ok ? ok(courseOut(r.value, loadInstruments(this.#dataDir))) : courseFail(r.error);
    });
  }

  coursePrefill(input: Input<'coursePrefill'>): Promise<Result<CallOutput<'coursePrefill'>>> {
    return this.#course('coursePrefill', input, (store, { courseId }) => {
      const course = store.getCourse(courseId);
      if (!course) return fail('NOT_FOUND', `no course "${courseId}"`);
      const last = store.lastSessionPrefill(courseId);
      if (!last.ok) return courseFail(last.error);
      const l = last.value;
      return ok({
        course: courseOut(course, loadInstruments(this.#dataDir)),
        last: l === null ? null : { ...l, sites: l.sites.map((s) => ({ ...s, sites: [...s.sites] })), acknowledged: [...l.acknowledged] },
      });
    });
  }

  courseSession(input: Input<'courseSession'>): Promise<Result<CallOutput<'courseSession'>>> {
    return this.#course('courseSession', input, (store, { courseId, nprsBefore }) => {
      const runner = this.#conn?.runner;
      if (!runner) return fail('NOT_CONNECTED', NOT_CONNECTED);
      const snap = runner.snapshot;
      if (snap.state !== 'checking-electrodes' || snap.sessionId === undefined || snap.journal === undefined || snap.protocol === undefined || this.#screenedPatient === undefined) {
        return fail('ILLEGAL_STATE', `a session joins a course after its screening cleared and before output starts (the session is ${snap.state})`);
      }
      if (this.#courseOf?.sessionId === snap.sessionId) return fail('ILLEGAL_STATE', `this session is already session ${this.#courseOf.number} of course ${this.#courseOf.courseId}`);
      const course = store.getCourse(courseId);
      if (!course) return fail('NOT_FOUND', `no course "${courseId}"`);
      const problem = courseFitProblem(course, this.#screenedPatient, snap.protocol.id);
      if (problem !== undefined) return fail('BAD_INPUT', problem);
      const began = store.beginSession(courseId, snap.sessionId, snap.journal, { id: snap.protocol.id, hash: snap.protocol.hash });
      if (!began.ok) return courseFail(began.error);
      for (const [type, data] of [['course', began.value.record], ['outcome', nprsRecord('before', nprsBefore)]] as const) {
        const written = runner.recordCourse(type, data);
        if (!written.ok) return sessionFail(written.error);
      }
      this.#courseOf = { courseId, sessionId: snap.sessionId, journal: snap.journal, number: began.value.number };
      const recorded = store.recordSession(snap.journal);
      if (!recorded.ok) return courseFail(recorded.error);
      return ok({ sessionNumber: began.value.number, milestone: began.value.milestone });
    });
  }

  courseOutcomes(input: Input<'courseOutcomes'>): Promise<Result<CallOutput<'courseOutcomes'>>> {
    return this.#course('courseOutcomes', input, (store, { nprsAfter, adverseEffects }) => {
      const runner = this.#conn?.runner;
      if (!runner) return fail('NOT_CONNECTED', NOT_CONNECTED);
      const snap = runner.snapshot;
      const of = this.#courseOf;
      if (of === undefined || snap.sessionId !== of.sessionId) return fail('ILLEGAL_STATE', 'the session on screen is not a session of a course');
      if (!TERMINAL_STATES.has(snap.state)) return fail('ILLEGAL_STATE', `the after-session questions are asked once output is off and the session has ended (it is ${snap.state})`);
      if (nprsAfter !== undefined) {
        const written = runner.recordCourse('outcome', nprsRecord('after', nprsAfter));
        if (!written.ok) return sessionFail(written.error);
      }
      if (adverseEffects !== undefined) {
        const written = runner.recordCourse('adverse-effects', { effects: adverseEffects });
        if (!written.ok) return sessionFail(written.error);
      }
      const recorded = store.recordSession(of.journal);
      return recorded.ok ? ok(null) : courseFail(recorded.error);
    });
  }

  courseMilestone(input: Input<'courseMilestone'>): Promise<Result<CallOutput<'courseMilestone'>>> {
    return this.#course('courseMilestone', input, (store, { groc, psfs, licensed }) => {
      const runner = this.#conn?.runner;
      if (!runner) return fail('ILLEGAL_STATE', NOT_CONNECTED);
      const snap = runner.snapshot;
      const of = this.#courseOf;
      if (of === undefined || snap.sessionId !== of.sessionId) return fail('ILLEGAL_STATE', 'the session on screen is not a session of a course');
      if (!TERMINAL_STATES.has(snap.state)) return fail('ILLEGAL_STATE', `the milestone measures are recorded once output is off and the session has ended (it is ${snap.state})`);
      // Checked against the built-in instruments before anything is written: both or neither.
      const values = [];
      for (const [id, given, field] of [[GROC_ID, groc === undefined ? undefined : { scores: { score: groc } }, 'groc'], [PSFS_ID, psfs === undefined ? undefined : { items: psfs }, 'psfs']] as const) {
        if (given === undefined) continue;
        const instrument = builtInInstrument(id);
        if (!instrument) return fail('INTERNAL', `the built-in instrument ${id} is missing`);
        const r = recordOutcome(instrument, given);
        if (!r.ok) return { ok: false, error: { code: 'BAD_INPUT', message: r.problems.map((p) => `${field}: ${p.message}`).join('; '), details: r.problems.map((p) => ({ path: `${field}.${p.path}`, message: p.message })) } };
        values.push(r.value);
      }
      // Licensed instruments' scores from the clinician's own forms: the built-ins and the clinic's files.
      const library = licensed === undefined ? undefined : loadInstruments(this.#dataDir);
      const seen = new Set<string>();
      for (const [i, entry] of (licensed ?? []).entries()) {
        const field = `licensed[${i}]`;
        const instrument = library?.get(entry.instrumentId);
        if (!instrument) {
          const known = library?.instruments.filter((x) => x.form.kind === 'score-only').map((x) => x.id) ?? [];
          return fail('BAD_INPUT', `${field}.instrumentId: no instrument "${entry.instrumentId}"; the instruments scored on their own forms: ${known.join(', ')}`);
        }
        if (seen.has(instrument.id)) return fail('BAD_INPUT', `${field}.instrumentId: ${instrument.name} is given twice`);
        seen.add(instrument.id);
        const r = recordScoreOnly(instrument, entry.version === undefined ? { scores: entry.scores } : { version: entry.version, scores: entry.scores });
        if (!r.ok) return { ok: false, error: { code: 'BAD_INPUT', message: r.problems.map((p) => `${field}: ${p.message}`).join('; '), details: r.problems.map((p) => ({ path: `${field}.${p.path}`, message: p.message })) } };
        values.push(r.value);
      }
      for (const v of values) {
        const record: RecordDataInput<'outcome'> = { timepoint: 'milestone', instrumentId: v.instrumentId, instrumentVersion: v.instrumentVersion, instrumentHash: v.instrumentHash, scores: { ...v.scores } };
        if (v.items) record.items = v.items.map((i) => ({ ...i }));
        const written = runner.recordCourse('outcome', record);
        if (!written.ok) return sessionFail(written.error);
      }
      const recorded = store.recordSession(of.journal);
      if (!recorded.ok) return courseFail(recorded.error);
      return ok({ recorded: values.map((v) => ({ instrumentId: v.instrumentId, scores: { ...v.scores } })) });
    });
  }

  courseReport(input: Input<'courseReport'>): Promise<Result<CallOutput<'courseReport'>>> {
    return this.#course('courseReport', input, (store, { courseId, format }) => {
      const course = store.getCourse(courseId);
      if (!course) return fail('NOT_FOUND', `no course "${courseId}"`);
      // The same builders and renderers as `edn course-report`: one report, whichever host asks.
      const instruments = loadInstruments(this.#dataDir);
      const report = buildCourseReport(this.#dataDir, course, instruments, this.#wallClock());
      const content =
        format === 'html'
          ? renderCourseHtml(report)
          : format === 'json'
            ? renderCourseJson(report)
            : format === 'csv'
              ? renderCourseCsv(report)
              : format === 'fhir'
                ? `${JSON.stringify(renderCourseFhir(report, instruments), null, 2)}\n`
                : renderCourseMarkdown(report);
      const skipped = instruments.problems.map((p) => `an instrument file was skipped: ${p.errors.join('; ')}`);
      return ok({ format, content, notices: [...report.notices, ...skipped] });
    });
  }

  /** A call on the course store, opened on first use; a store that cannot open is STORAGE. */
  #course<C extends CallName>(call: C, input: unknown, body: (store: CourseStore, input: Parsed<C>) => Result<CallOutput<C>>): Promise<Result<CallOutput<C>>> {
    return this.#run(call, input, (parsed) => {
      if (!this.#courseStore) {
        const opened = CourseStore.open(this.#dataDir, { now: this.#wallClock });
        if (!opened.ok) return fail('STORAGE', `cannot open the course store: ${opened.error.message}`);
        this.#courseStore = opened.store;
      }
      return body(this.#courseStore, parsed);
    });
  }

  // ---- internals ----------------------------------------------------------------------------------

  /** Parse the input, run the body, turn anything thrown into INTERNAL. The body starts synchronously. */
  async #run<C extends CallName>(
    call: C,
    input: unknown,
    body: (input: Parsed<C>) => Promise<Result<CallOutput<C>>> | Result<CallOutput<C>>,
  ): Promise<Result<CallOutput<C>>> {
    const parsed = parseInput(call, input);
    if (!parsed.ok) return { ok: false, error: parsed.error };
    try {
      return await body(parsed.data);
    } catch (e) {
      return internal(call, e);
    }
  }

  /** A call that needs a connected session runner. */
  #session<C extends CallName>(
    call: C,
    input: unknown,
    body: (runner: SessionRunner, input: Parsed<C>) => Promise<Result<CallOutput<C>>> | Result<CallOutput<C>>,
  ): Promise<Result<CallOutput<C>>> {
    return this.#run(call, input, (parsed) => {
      const conn = this.#conn;
      if (!conn) return fail('NOT_CONNECTED', NOT_CONNECTED);
      return body(conn.runner, parsed);
    });
  }

  #findProtocol(id: string): Result<Protocol> {
    const offered = this.#offered.get(id);
    if (offered) return ok(offered);
    const b = builtInProtocol(id);
    if (b) return ok(b.protocol);
    const entry = this.#protocols.read(id);
    if (!entry) return fail('NOT_FOUND', `no protocol "${id}"`);
    if (!entry.validation.ok) {
      return fail('BAD_INPUT', `protocol "${id}" is invalid and cannot be used: ${entry.validation.errors.map(formatProtocolError).join('; ')}`);
    }
    return ok(entry.validation.protocol);
  }

  #publish(snapshot: Snapshot): void {
    if (this.#snapshot.closed) return;
    this.#snapshot.next(snapshot);
    this.#emit({ event: 'snapshot', data: snapshot });
  }

  #emit(event: ServiceEvent): void {
    if (!this.#events.closed) this.#events.next(event);
  }

  /** Let go of the device: end the session record, stop the loop, close the port. Never throws. */
  async #teardown(): Promise<void> {
    const conn = this.#conn;
    if (!conn) return;
    this.#conn = undefined;
    for (const s of conn.subs) s.unsubscribe();
    try {
      conn.runner.disconnect();
      conn.runner.dispose();
      conn.client.dispose();
      await conn.opened.close();
    } catch {
      // Closing a port that is already gone: nothing more to do.
    }
    this.#publish(IDLE);
  }
}

// ---- mapping -----------------------------------------------------------------------------------------

function ok<T>(data: T): { ok: true; data: T } {
  return { ok: true, data };
}

function fail(code: ContractError['code'], message: string): { ok: false; error: ContractError } {
  return { ok: false, error: { code, message } };
}

function internal(call: string, e: unknown): { ok: false; error: ContractError } {
  return fail('INTERNAL', `${call} failed unexpectedly: ${message(e)}`);
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function dropUndefined<T extends Record<string, unknown>>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}

/** The course store's errors on the contract's codes. */
function courseFail(e: CourseError): { ok: false; error: ContractError } {
  const code: ContractError['code'] =
    e.code === 'PATIENT_UNKNOWN' || e.code === 'COURSE_UNKNOWN' || e.code === 'SESSION_UNKNOWN'
      ? 'NOT_FOUND'
      : e.code === 'COURSE_CLOSED' || e.code === 'PATIENT_EXISTS' || e.code === 'SESSION_EXISTS'
        ? 'ILLEGAL_STATE'
        : e.code === 'JOURNAL_UNREADABLE' || e.code === 'JOURNAL_MISMATCH'
          ? 'STORAGE'
          : 'BAD_INPUT';
  return fail(code, `${e.code}: ${e.message}`);
}


/** A course as the contract gives it: per session NPRS before/after and the adverse effects. */
function courseOut(c: CourseDetail, instruments: InstrumentLibrary): CallOutput<'startCourse'> {
  const nprs = (s: CourseDetail['sessions'][number], t: 'before' | 'after'): number | null =>
    s.outcomes.filter((o) => o.instrumentId === NPRS_ID && o.timepoint === t).at(-1)?.scores['score'] ?? null;
  return {
    id: c.id,
    patientRef: c.patientRef,
    indication: c.indication,
    protocol: { ...c.protocol },
    plannedSessions: c.plannedSessions,
    intervalDays: c.intervalDays,
    startDate: c.startDate,
    status: c.status,
    statusReason: c.statusReason,
    milestones: [...c.milestones],
    sessionsDone: c.sessionsDone,
    nextDue: c.nextDue,
    sessions: c.sessions.map((s) => ({
      sessionId: s.sessionId,
      number: s.number,
      journalFile: s.journalFile,
      startedAt: s.startedAt,
      endedAt: s.endedAt,
      endReason: s.endReason,
      milestone: s.milestone,
      nprsBefore: nprs(s, 'before'),
      nprsAfter: nprs(s, 'after'),
      adverseEffects: s.adverseEffects === null ? null : s.adverseEffects.map((e) => ({ ...e })),
      measures: s.outcomes
        .filter((o) => o.instrumentId !== NPRS_ID)
        .map((o) => {
          const ins = instruments.get(o.instrumentId);
          return {
            instrumentId: o.instrumentId,
            name: ins?.name ?? o.instrumentId,
            version: o.instrumentVersion,
            scores: Object.entries(o.scores).map(([id, value]) => {
              const sc = ins?.scores.find((x) => x.id === id);
              return { id, name: sc?.name ?? id, value, min: sc?.min ?? null, max: sc?.max ?? null, unit: sc?.unit ?? 'points' };
            }),
          };
        }),
    })),
  };
}

/** The session layer's errors on the contract's codes. */
/**
 * A session refusal as the contract's error: every session code has its contract code (the
 * `never` below makes a new session code a compile error until it is mapped here).
 */
export function sessionFail(e: SessionError): { ok: false; error: ContractError } {
  switch (e.code) {
    case 'IllegalInState':
    case 'NoSession':
    case 'ElectrodesNotReady':
      return fail('ILLEGAL_STATE', e.message);
    case 'LimitExceeded': {
      const details = e.violations.map((v) => ({ path: v.field, message: v.message }));
      return { ok: false, error: { code: 'LIMIT', message: e.message, ...(details.length > 0 ? { details } : {}) } };
    }
    case 'Device':
    case 'Incompatible':
      return fail('DEVICE', e.message);
    case 'NotConnected':
      return fail('NOT_CONNECTED', e.message);
    case 'Latched':
      return fail('LATCHED', e.message);
    case 'EstopUnconfirmed':
      return fail('ESTOP_UNCONFIRMED', e.message);
    case 'NotCleared':
      return fail('SCREENING', e.message);
    case 'Invalid':
      return fail('BAD_INPUT', e.message);
    case 'JournalUnavailable':
      return fail('STORAGE', e.message);
    default: {
      const unmapped: never = e;
      return fail('INTERNAL', `an unmapped session error: ${JSON.stringify(unmapped)}`);
    }
  }
}

/** NPRS 0-10 as an outcome record on the built-in instrument (the contract already checked the range). */
function nprsRecord(timepoint: 'before' | 'after', score: number): RecordDataInput<'outcome'> {
  const nprs = builtInInstrument(NPRS_ID)!;
  return { timepoint, instrumentId: nprs.id, instrumentVersion: nprs.version, instrumentHash: nprs.hash, scores: { score } };
}

function done(r: { ok: true } | { ok: false; error: SessionError }): Result<null> {
  return r.ok ? ok(null) : sessionFail(r.error);
}

/** "2 Hz continuous, 250 µs, up to 10 mA" for each phase. */
function summary(p: Protocol, builtIn: boolean, warnings: readonly { readonly path: string; readonly message: string }[]): CallOutput<'listProtocols'>[number] {
  return {
    id: p.id,
    name: p.name,
    indication: p.indication,
    hash: p.hash,
    builtIn,
    totalMin: totalDurationMin(p),
    phases: p.phases.map((ph) => `${describePattern(ph.pattern)}, ${ph.pulseWidthUs} µs, up to ${withUnit(ph.amplitude.maxMa, 'mA')}`),
    sources: p.sources.map((s) => ({ key: s.key, citation: s.citation, verified: [...s.verified], unverified: [...s.unverified] })),
    evidence: evidenceOf(p),
    warnings: warnings.map((w) => ({ path: w.path, message: w.message })),
  };
}

/** A validation in the contract's shape, with per-phase figures whenever the file passes the schema. */
function toValidation(v: ProtocolValidation, json: unknown): CallOutput<'validateProtocol'> {
  const strip = (e: { path: string; message: string }) => ({ path: e.path, message: e.message });
  const protocol = v.ok ? v.protocol : schemaProtocol(json);
  return {
    valid: v.ok,
    errors: v.ok ? [] : v.errors.map(strip),
    warnings: v.warnings.map(strip),
    ...(v.ok ? { hash: v.hash } : {}),
    figures: figuresOf(protocol),
    ...(protocol ? { evidence: evidenceOf(protocol) } : {}),
  };
}

/** The protocol's values with their evidence status in words, in the contract's shape. */
function evidenceOf(p: Protocol): Evidence {
  // Only the library's own versions (by content hash) say "verified"; elsewhere it is the author's claim.
  const ev = protocolEvidence(p, { library: verificationOf(p.hash) === 'library' });
  const value = (v: ProtocolEvidence['values'][number]) => ({ ...v, sources: [...v.sources] });
  return { values: ev.values.map(value), groups: ev.groups.map((g) => ({ ...g, values: g.values.map(value) })) };
}

/** The protocol of a file that passes the schema (valid, or refused only by the cross-field checks). */
function schemaProtocol(json: unknown): Protocol | undefined {
  const parsed = ProtocolSchema.safeParse(json);
  if (!parsed.success) return undefined;
  try {
    return normalizeProtocol(parsed.data, '');
  } catch {
    return undefined;
  }
}

function figuresOf(p: Protocol | undefined): CallOutput<'validateProtocol'>['figures'] {
  if (!p) return [];
  return p.phases.flatMap((_, i) => {
    try {
      const f = phaseFigures(p, i);
      return [
        {
          phaseIndex: i,
          atMa: f.atMa,
          figures: f.figures
            .filter((x) => Number.isFinite(x.value))
            .map((x) => ({
              key: x.key,
              label: x.label,
              value: x.value,
              unit: x.unit,
              ...(x.limit === undefined ? {} : { limit: x.limit }),
              status: x.status,
              ...(x.source === undefined ? {} : { source: x.source }),
            })),
        },
      ];
    } catch {
      return [];
    }
  });
}
