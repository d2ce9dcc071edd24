/**
 * SessionControl: which user interface controls the session, and whether that UI still lives.
 * One small class with an injected scheduler, in front of the dispatcher, so it sits unchanged on
 * either side of a process boundary: the browser host (src/web) and the Electron shell
 * (electron/main) both route every wire message of a UI through `handle(client, message,
 * dispatch)`.
 *
 * One controller per session (issue: "anyone with the token controls a running session")
 * - The UI that begins a session (`submitScreening` while none is in progress) controls it. The
 *   others receive every event live but are refused, with NOT_CONTROLLER, every call that changes
 *   the session (CALL_ACCESS); Emergency stop is open to every UI, always.
 * - A take-over is explicit: `takeControl({confirmed: true})`, which the UI sends only after the
 *   clinician confirmed it. It is written into the session's record (`control` journal record)
 *   and both UIs are told (the `control` event carries the latest take-over).
 * - A UI that reconnects with its own id (a page reload) resumes control; a UI that went away
 *   keeps control until another takes it, or until the session ends.
 * - A session begun without any UI (in-process) is unclaimed: the first UI to act on it controls it.
 *
 * A frozen or vanished UI with output on ends in an e-stop (ui-timing.ts holds the numbers)
 * - The controlling UI is asked for a sign of life every UI_PING_MS (`ping` event); its own code
 *   answers with `heartbeat`, and any other message counts too. No sign of life for
 *   UI_LIVENESS_MS while output may be on: e-stop, source `ui-unresponsive`.
 * - The controlling UI's connection closed while output may be on: e-stop after GRACE_MS, source
 *   `connection-lost`, unless it comes back (or another UI takes control) first.
 * - No UI at all and nobody controls the session while output may be on: the same, after GRACE_MS.
 * A deadline that falls due is looked at once more after one turn of the event loop, so a host
 * whose own loop was stalled reads the heartbeats waiting in its sockets before it judges the page.
 */
import { randomBytes } from 'node:crypto';
import type { SchedulerLike, Subscription } from 'rxjs';
import { monotonicScheduler } from '../device/time.js';
import type { RecordDataInput } from '../session/journal-records.js';
import type { SessionState } from '../session/states.js';
import {
  CALL_NAMES,
  type CallName,
  type ContractError,
  type ControlView,
  type EstopSource,
  type EventName,
  type Result,
  SnapshotSchema,
  WireCallSchema,
  type WireReply,
  parseInput,
} from './contract.js';
import { salvageId } from './dispatch.js';
import { GRACE_MS, UI_LIVENESS_MS, UI_PING_MS } from './ui-timing.js';

/**
 * Who may make each call. `any`: every UI, always (reading, authoring protocols, Emergency stop,
 * and the control calls themselves). `controller`: while a session is in progress, only the UI
 * that controls it (everything that begins, changes or ends a session, or what it records).
 * Exhaustive over the contract, so a new call cannot be added without deciding.
 */
export const CALL_ACCESS: { readonly [C in CallName]: 'any' | 'controller' } = {
  listPorts: 'any',
  connect: 'controller',
  disconnect: 'controller',
  listProtocols: 'any',
  loadProtocol: 'any',
  validateProtocol: 'any',
  saveProtocol: 'any',
  screeningForm: 'any',
  submitScreening: 'controller',
  checkElectrodes: 'controller',
  start: 'controller',
  titrate: 'controller',
  pause: 'controller',
  resume: 'controller',
  stop: 'controller',
  estop: 'any',
  clear: 'controller',
  newSession: 'controller',
  cancelSession: 'controller',
  addNote: 'controller',
  listNotes: 'any',
  acknowledgeAlarm: 'controller',
  getSnapshot: 'any',
  heartbeat: 'any',
  takeControl: 'any',
  listSessions: 'any',
  openReport: 'any',
  getSettings: 'any',
  // The clinician recorded with acknowledgements: not changed under another UI's session.
  setSettings: 'controller',
  // Courses: reading and planning touch no session in progress (the store has one writer, the service).
  listPatients: 'any',
  addPatient: 'any',
  setPatientLabels: 'any',
  courseInstruments: 'any',
  listCourses: 'any',
  startCourse: 'any',
  closeCourse: 'any',
  coursePrefill: 'any',
  courseReport: 'any',
  // These write into the session in progress: its controller only.
  courseSession: 'controller',
  courseOutcomes: 'controller',
  courseMilestone: 'controller',
};

/** States with no session in progress: any UI may begin one. */
const FREE_STATES: ReadonlySet<SessionState> = new Set(['idle', 'connecting', 'ready']);

/** How many UIs' names are remembered for a reload (a few windows a day; bounded all the same). */
const KNOWN_LABELS_MAX = 64;

/** A client id a UI may propose to resume with (the host's own ids have this shape). */
const CLIENT_ID_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;

/** The journal record of a take-over (src/session/journal-records.ts, `control`). */
export type ControlChange = RecordDataInput<'control'>;

/** What the control needs of the service (ControllerService has it all). */
export interface ControlPort {
  /** True while output is on or may come back without a new start. */
  outputMayBeOn(): boolean;
  /** The e-stop; must not wait behind anything. */
  emergencyStop(source: EstopSource): unknown;
  /** Write a change of control into the open session's record. */
  recordControl(change: ControlChange): Result<null> | Promise<Result<null>>;
  /** Every pushed event of the service (the control follows the snapshots' state). */
  on(listener: (event: { readonly event: EventName; readonly data: unknown }) => void): () => void;
}

/** What the control pushes to one UI. */
export type ControlEvent = { readonly event: 'control'; readonly data: ControlView } | { readonly event: 'ping'; readonly data: { readonly seq: number } };

export interface SessionControlOptions {
  readonly port: ControlPort;
  /** Runs the ping and the deadlines. Default: the monotonic real-time scheduler. */
  readonly scheduler?: SchedulerLike;
  /** The session state now (before the first snapshot event). Default 'idle'. */
  readonly initialState?: SessionState;
  /** Ping period, ms. Default UI_PING_MS. */
  readonly pingMs?: number;
  /** Liveness window, ms. Default UI_LIVENESS_MS. */
  readonly livenessMs?: number;
  /** Grace period for a UI that went away, ms. Default GRACE_MS. */
  readonly graceMs?: number;
  /** Fresh client ids. Default: 16 random bytes, base64url. */
  readonly newClientId?: () => string;
  /** Told about e-stops, take-overs and records that could not be written. */
  readonly log?: (message: string) => void;
}

/** Why the control e-stopped, counted. */
export type ControlStopSource = Extract<EstopSource, 'connection-lost' | 'ui-unresponsive'>;

interface Client {
  readonly id: string;
  readonly label: string;
  readonly send: (event: ControlEvent) => void;
}

/** A UI that connects. */
export interface JoinOptions {
  /** The id it had (a page reload), to resume control with. */
  readonly proposed?: string | undefined;
  /** How it is named in views and records. Default "window N". */
  readonly label?: string;
  /** Pushes an event to this UI (the adapter knows how). Failures are ignored. */
  readonly send: (event: ControlEvent) => void;
}

interface Holder {
  readonly id: string;
  readonly label: string;
  /** Last sign of life, scheduler ms. */
  lastSeen: number;
  /** When its connection closed, or undefined while connected. */
  leftAt: number | undefined;
}

interface Deadline {
  readonly at: number;
  readonly source: ControlStopSource;
  readonly why: string;
}

export class SessionControl {
  readonly #port: ControlPort;
  readonly #scheduler: SchedulerLike;
  readonly #pingMs: number;
  readonly #livenessMs: number;
  readonly #graceMs: number;
  readonly #newClientId: () => string;
  readonly #log: (message: string) => void;
  readonly #off: () => void;

  readonly #clients = new Map<string, Client>();
  /** What each client was last told (so only changes are pushed). */
  readonly #told = new Map<string, string>();
  #state: SessionState;
  #holder: Holder | undefined;
  #takeover: { seq: number; from: string; to: string } | undefined;
  #takeovers = 0;
  #labels = 0;
  /** The names given to ids seen so far (the latest KNOWN_LABELS_MAX), so a reload keeps its name. */
  readonly #knownLabels = new Map<string, string>();
  /** Since when output may be on with no UI at all and nobody in control (scheduler ms). */
  #unwatchedSince: number | undefined;
  #watch: { readonly sub: Subscription; readonly at: number } | undefined;
  /** The deadline already looked at once after a turn of the event loop. */
  #rechecked: number | undefined;
  #pinger: Subscription | undefined;
  #pingSeq = 0;
  #pings = 0;
  readonly #stops: Record<ControlStopSource, number> = { 'connection-lost': 0, 'ui-unresponsive': 0 };
  #disposed = false;

  constructor(options: SessionControlOptions) {
    this.#port = options.port;
    this.#scheduler = options.scheduler ?? monotonicScheduler;
    this.#pingMs = options.pingMs ?? UI_PING_MS;
    this.#livenessMs = options.livenessMs ?? UI_LIVENESS_MS;
    this.#graceMs = options.graceMs ?? GRACE_MS;
    this.#newClientId = options.newClientId ?? (() => randomBytes(16).toString('base64url'));
    this.#log = options.log ?? (() => undefined);
    this.#state = options.initialState ?? 'idle';
    this.#off = this.#port.on((e) => {
      if (e.event !== 'snapshot') return;
      const state = SnapshotSchema.shape.state.safeParse((e.data as { state?: unknown } | null)?.state);
      if (state.success) this.#onState(state.data);
    });
  }

  /** UIs connected now. */
  get clients(): number {
    return this.#clients.size;
  }

  /** E-stops made by this control, by source; pings sent. */
  get stats(): { readonly stops: Readonly<Record<ControlStopSource, number>>; readonly pings: number; readonly takeovers: number } {
    return { stops: { ...this.#stops }, pings: this.#pings, takeovers: this.#takeovers };
  }

  /**
   * A UI connected. It may propose the id it had (a reload): accepted when well-formed and not in
   * use by a connected UI, otherwise it gets a fresh one. Returns the id to route its messages by;
   * the UI is told its id and role at once (`control` event).
   */
  join(options: JoinOptions): string {
    const { proposed } = options;
    const id = proposed !== undefined && CLIENT_ID_PATTERN.test(proposed) && !this.#clients.has(proposed) ? proposed : this.#freshId();
    const returning = this.#holder?.id === id ? this.#holder : undefined;
    const known = id === proposed ? this.#knownLabels.get(id) : undefined;
    const client: Client = { id, label: returning?.label ?? known ?? options.label ?? `window ${++this.#labels}`, send: options.send };
    this.#clients.set(id, client);
    this.#knownLabels.delete(id);
    this.#knownLabels.set(id, client.label);
    if (this.#knownLabels.size > KNOWN_LABELS_MAX) this.#knownLabels.delete(this.#knownLabels.keys().next().value!);
    if (returning) {
      returning.leftAt = undefined;
      returning.lastSeen = this.#scheduler.now();
    }
    this.#update();
    return id;
  }

  /** A UI's connection closed. */
  leave(id: string): void {
    if (!this.#clients.delete(id)) return;
    this.#told.delete(id);
    const h = this.#holder;
    if (h?.id === id) {
      if (this.#inSession()) h.leftAt = this.#scheduler.now();
      else this.#holder = undefined;
    }
    this.#update();
  }

  /**
   * Route one wire message from `client`: a sign of life in any case; `heartbeat` and
   * `takeControl` are answered here; a call that changes a session from a UI that does not
   * control it is refused with NOT_CONTROLLER; everything else goes to `dispatch` in the same tick
   * (an e-stop is never delayed).
   */
  handle<R extends { readonly result: Result<unknown> }>(client: string, message: unknown, dispatch: (message: unknown) => Promise<R>): Promise<R | WireReply> {
    this.#seen(client);
    const call = callOf(message);
    if (call === 'heartbeat' || call === 'takeControl') {
      const wire = WireCallSchema.safeParse(message);
      if (wire.success) {
        const id = wire.data.id;
        const parsed = parseInput(call, wire.data.input);
        if (!parsed.ok) return Promise.resolve({ id, result: parsed });
        return Promise.resolve({ id, result: call === 'heartbeat' ? { ok: true, data: null } : this.takeControl(client) });
      }
    } else if (call !== undefined && CALL_ACCESS[call] === 'controller') {
      const refused = this.#admit(client, call);
      if (refused) return Promise.resolve({ id: salvageId(message), result: { ok: false, error: refused } });
    }
    return dispatch(message);
  }

  /**
   * Take control of the session (the UI confirmed it with the clinician). From another UI it is a
   * take-over: recorded in the session's record and shown to both. With no session in progress
   * there is nothing to take: the view says `free`.
   */
  takeControl(id: string): Result<ControlView> {
    const client = this.#clients.get(id);
    if (!client) return { ok: false, error: { code: 'ILLEGAL_STATE', message: 'this user interface is not connected' } };
    if (!this.#inSession()) return { ok: true, data: this.#view(client) };
    const from = this.#holder;
    if (from?.id === id) return { ok: true, data: this.#view(client) };
    this.#holder = { id, label: client.label, lastSeen: this.#scheduler.now(), leftAt: undefined };
    if (from) {
      this.#takeovers += 1;
      this.#takeover = { seq: this.#takeovers, from: from.label, to: client.label };
      const change: ControlChange = { change: 'take-over', from: from.label, to: client.label, fromPresent: from.leftAt === undefined };
      this.#log(`${client.label} took control of the session from ${from.label}${change.fromPresent ? '' : ' (which had gone away)'}`);
      void this.#journal(change);
    }
    this.#update();
    return { ok: true, data: this.#view(client) };
  }

  /** Stop every timer and the subscription (the session is the caller's concern). */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#off();
    this.#watch?.sub.unsubscribe();
    this.#watch = undefined;
    this.#pinger?.unsubscribe();
    this.#pinger = undefined;
  }

  // ---- who controls ------------------------------------------------------------------------------

  #inSession(): boolean {
    return !FREE_STATES.has(this.#state);
  }

  /** Undefined when the call may go ahead (claiming control where it is free); otherwise why not. */
  #admit(id: string, call: CallName): ContractError | undefined {
    if (!this.#inSession()) {
      // Beginning a session: this UI will control it.
      if (call === 'submitScreening' && this.#clients.has(id)) {
        this.#holder = { id, label: this.#clients.get(id)!.label, lastSeen: this.#scheduler.now(), leftAt: undefined };
        this.#takeover = undefined;
        this.#update();
      }
      return undefined;
    }
    const h = this.#holder;
    if (h === undefined) {
      // A session nobody controls (begun without a UI): the first UI to act on it controls it.
      const c = this.#clients.get(id);
      if (c) {
        this.#holder = { id, label: c.label, lastSeen: this.#scheduler.now(), leftAt: undefined };
        this.#update();
      }
      return undefined;
    }
    if (h.id === id) return undefined;
    const message =
      h.leftAt === undefined
        ? `${h.label} controls this session; this window only watches it (Emergency stop works from here). To change the session, take control first: ${h.label} is told.`
        : `${h.label}, which controls this session, has gone away; take control to go on (Emergency stop works from here).`;
    return { code: 'NOT_CONTROLLER', message: `${call} refused: ${message}` };
  }

  #onState(state: SessionState): void {
    if (state === this.#state) {
      this.#evaluate();
      return;
    }
    this.#state = state;
    if (!this.#inSession()) {
      // The session is over (back to ready, or the device went): control is free again.
      this.#holder = undefined;
      this.#takeover = undefined;
    }
    this.#update();
  }

  #seen(id: string): void {
    if (!this.#clients.has(id)) return;
    const h = this.#holder;
    if (h?.id === id) {
      h.lastSeen = this.#scheduler.now();
      this.#rechecked = undefined;
    }
  }

  async #journal(change: ControlChange): Promise<void> {
    try {
      const r = await this.#port.recordControl(change);
      if (!r.ok) this.#log(`the take-over is not in the session record: ${r.error.message}`);
    } catch (e) {
      this.#log(`the take-over is not in the session record: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  #freshId(): string {
    let id = this.#newClientId();
    while (this.#clients.has(id) || this.#holder?.id === id) id = this.#newClientId();
    return id;
  }

  #view(c: Client): ControlView {
    const h = this.#inSession() ? this.#holder : undefined;
    return {
      client: c.id,
      label: c.label,
      role: h === undefined ? 'free' : h.id === c.id ? 'controller' : 'observer',
      ...(h === undefined ? {} : { controller: h.label }),
      controllerPresent: h !== undefined && h.leftAt === undefined,
      others: this.#clients.size - 1,
      ...(this.#takeover === undefined ? {} : { takeover: { ...this.#takeover } }),
    };
  }

  /** After any change: tell every UI what changed for it, then re-check the pinger and deadlines. */
  #update(): void {
    if (this.#disposed) return;
    for (const c of this.#clients.values()) {
      const view = this.#view(c);
      const key = JSON.stringify(view);
      if (this.#told.get(c.id) === key) continue;
      this.#told.set(c.id, key);
      this.#push(c, { event: 'control', data: view });
    }
    this.#evaluate();
  }

  #push(c: Client, event: ControlEvent): void {
    try {
      c.send(event);
    } catch {
      // A UI going away must not break the control of the session.
    }
  }

  // ---- liveness ----------------------------------------------------------------------------------

  #evaluate(): void {
    if (this.#disposed) return;
    this.#syncPinger();
    const unwatched = this.#port.outputMayBeOn() && this.#clients.size === 0 && (this.#inSession() ? this.#holder : undefined) === undefined;
    if (!unwatched) this.#unwatchedSince = undefined;
    else this.#unwatchedSince ??= this.#scheduler.now();
    const d = this.#deadline();
    if (!d) {
      this.#watch?.sub.unsubscribe();
      this.#watch = undefined;
      return;
    }
    if (!this.#watch || this.#watch.at > d.at) this.#arm(d.at);
  }

  /** When output must be stopped if nothing changes, and why. */
  #deadline(): Deadline | undefined {
    if (!this.#port.outputMayBeOn()) return undefined;
    const h = this.#inSession() ? this.#holder : undefined;
    if (h) {
      const silent: Deadline = { at: h.lastSeen + this.#livenessMs, source: 'ui-unresponsive', why: `${h.label}, which controls the session, gave no sign of life for ${this.#livenessMs} ms with output on` };
      if (h.leftAt === undefined) return silent;
      const gone: Deadline = { at: h.leftAt + this.#graceMs, source: 'connection-lost', why: `${h.label}, which controls the session, went away and did not come back within ${this.#graceMs} ms with output on` };
      return gone.at <= silent.at ? gone : silent;
    }
    if (this.#unwatchedSince !== undefined) {
      return { at: this.#unwatchedSince + this.#graceMs, source: 'connection-lost', why: `no user interface for ${this.#graceMs} ms with output on` };
    }
    return undefined;
  }

  #arm(at: number): void {
    this.#watch?.sub.unsubscribe();
    const sub = this.#scheduler.schedule(() => this.#fire(), Math.max(0, at - this.#scheduler.now()));
    this.#watch = { sub, at };
  }

  #fire(): void {
    this.#watch = undefined;
    const d = this.#deadline();
    if (!d) return;
    const now = this.#scheduler.now();
    if (d.at > now) {
      this.#arm(d.at);
      return;
    }
    if (this.#rechecked !== d.at) {
      // Once more after a turn of the event loop: a sign of life may be waiting in a socket.
      this.#rechecked = d.at;
      this.#arm(now);
      return;
    }
    this.#rechecked = undefined;
    this.#stops[d.source] += 1;
    this.#log(`${d.why}: emergency stop`);
    try {
      const r = this.#port.emergencyStop(d.source);
      if (r instanceof Promise) r.catch((e: unknown) => this.#log(`emergency stop (${d.source}) failed: ${e instanceof Error ? e.message : String(e)}`));
    } catch (e) {
      this.#log(`emergency stop (${d.source}) failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    this.#unwatchedSince = undefined;
    this.#evaluate();
  }

  /** Ping the controlling UI while it is connected and a session is in progress. */
  #syncPinger(): void {
    const h = this.#inSession() ? this.#holder : undefined;
    const wanted = h !== undefined && h.leftAt === undefined && this.#clients.has(h.id);
    if (!wanted) {
      this.#pinger?.unsubscribe();
      this.#pinger = undefined;
      return;
    }
    if (this.#pinger) return;
    this.#pinger = this.#scheduler.schedule(() => {
      this.#pinger = undefined;
      const holder = this.#inSession() ? this.#holder : undefined;
      const c = holder && holder.leftAt === undefined ? this.#clients.get(holder.id) : undefined;
      if (c) {
        this.#pings += 1;
        this.#push(c, { event: 'ping', data: { seq: ++this.#pingSeq } });
      }
      this.#syncPinger();
    }, this.#pingMs);
  }
}

function callOf(message: unknown): CallName | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const call = (message as { call?: unknown }).call;
  return typeof call === 'string' && (CALL_NAMES as readonly string[]).includes(call) ? (call as CallName) : undefined;
}
