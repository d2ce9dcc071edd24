/**
 * The app's shared state: the API, the latest snapshot, the protocol library, which screen is
 * shown, and a place to report a call's failure in words. Screens subscribe to what they show.
 */
import type { CallName, CallOutput, ControlView, EdnApi, Result, Snapshot, Telemetry } from '../../src/app/contract.js';
import { ControlSchema, EVENTS, SnapshotSchema, TelemetrySchema } from '../../src/app/contract.js';

export type ScreenName = 'device' | 'protocols' | 'session' | 'history' | 'patients';

/** The next session belongs to this course: its prefill (protocol, sites, last screening), from the Patients screen. */
export type SessionCourse = CallOutput<'coursePrefill'>;
export type ProtocolSummary = CallOutput<'listProtocols'>[number];

type Listener<T> = (value: T) => void;

/**
 * Asked before the screen it guards is left (unsaved protocol edits): true (or a promise of true)
 * lets the navigation go on, false keeps the screen.
 */
export type LeaveGuard = () => boolean | Promise<boolean>;

class Topic<T> {
  readonly #listeners = new Set<Listener<T>>();
  on(listener: Listener<T>): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }
  emit(value: T): void {
    for (const l of [...this.#listeners]) l(value);
  }
}

export interface Notice {
  readonly kind: 'error' | 'info';
  readonly text: string;
}

export class AppContext {
  readonly api: EdnApi;
  #snapshot: Snapshot | undefined;
  #control: ControlView | undefined;
  #protocols: ProtocolSummary[] = [];
  #screen: ScreenName = 'device';
  readonly #leaveGuards = new Map<ScreenName, LeaveGuard>();
  /** The protocol chosen for the next session. */
  sessionProtocolId: string | undefined;
  /** What a dialog makes inert while it is open: everything but the header with the e-stop (set by the shell). */
  behindDialogs: () => readonly HTMLElement[] = () => [];
  /** The course the next session belongs to (set by the Patients screen, taken by the Session screen). */
  sessionCourse: SessionCourse | undefined;

  readonly snapshots = new Topic<Snapshot>();
  /** Who controls the session, for this window (observers watch read-only). */
  readonly controls = new Topic<ControlView>();
  readonly telemetry = new Topic<Telemetry>();
  readonly protocolsChanged = new Topic<ProtocolSummary[]>();
  readonly screens = new Topic<ScreenName>();
  readonly notices = new Topic<Notice | undefined>();
  /** Open a session's report on the History screen. */
  readonly reportRequests = new Topic<string>();

  constructor(api: EdnApi) {
    this.api = api;
    api.on('snapshot', (data) => {
      const parsed = SnapshotSchema.safeParse(data);
      if (parsed.success) this.#setSnapshot(parsed.data);
      else this.notify('error', 'The controller sent a state this screen cannot read; restart the app if this repeats.');
    });
    api.on('telemetry', (data) => {
      const parsed = TelemetrySchema.safeParse(data);
      if (parsed.success) this.telemetry.emit(parsed.data);
    });
    api.on('control', (data) => {
      const parsed = ControlSchema.safeParse(data);
      if (parsed.success) {
        this.#control = parsed.data;
        this.controls.emit(parsed.data);
      }
    });
    // The controller's proof that this page's own code runs: answered at once, from here, so a
    // frozen page (whatever froze it) stops answering and the controller stops the output.
    api.on('ping', (data) => {
      const parsed = EVENTS.ping.safeParse(data);
      if (parsed.success) void this.api.heartbeat({ seq: parsed.data.seq });
    });
  }

  /** The latest control view (undefined until the controller says). */
  get control(): ControlView | undefined {
    return this.#control;
  }

  get snapshot(): Snapshot | undefined {
    return this.#snapshot;
  }

  get protocols(): readonly ProtocolSummary[] {
    return this.#protocols;
  }

  get screen(): ScreenName {
    return this.#screen;
  }

  /**
   * Show another screen. The screen being left may ask first (its leave guard): the navigation
   * happens once it agrees, and not if the clinician keeps editing. Nothing safety-related waits
   * on this: the e-stop never navigates.
   */
  navigate(screen: ScreenName): void {
    if (this.#screen === screen) return;
    const from = this.#screen;
    const answer = this.#leaveGuards.get(from)?.() ?? true;
    if (answer === true) this.#go(screen);
    else if (answer !== false) {
      void answer.then((ok) => {
        // Another navigation may have happened meanwhile: only leave the screen that asked.
        if (ok && this.#screen === from) this.#go(screen);
      });
    }
  }

  #go(screen: ScreenName): void {
    if (this.#screen === screen) return;
    this.#screen = screen;
    this.screens.emit(screen);
  }

  /** Ask `guard` before leaving `screen`; returns the function that removes it. */
  guardLeaving(screen: ScreenName, guard: LeaveGuard): () => void {
    this.#leaveGuards.set(screen, guard);
    return () => {
      if (this.#leaveGuards.get(screen) === guard) this.#leaveGuards.delete(screen);
    };
  }

  /** Ask the controller for the whole state (at start and after a reconnection). */
  async refreshSnapshot(): Promise<void> {
    const r = await this.api.getSnapshot({});
    if (r.ok) this.#setSnapshot(r.data);
  }

  async refreshProtocols(): Promise<void> {
    const r = await this.api.listProtocols({});
    if (this.check(r)) {
      this.#protocols = r.data;
      this.protocolsChanged.emit(r.data);
    }
  }

  #setSnapshot(s: Snapshot): void {
    this.#snapshot = s;
    this.snapshots.emit(s);
  }

  notify(kind: Notice['kind'], text: string): void {
    this.notices.emit({ kind, text });
  }

  clearNotice(): void {
    this.notices.emit(undefined);
  }

  /** True when ok; otherwise the error is shown in words and false returned. */
  check<T>(r: Result<T>, what?: string): r is { ok: true; data: T } {
    if (r.ok) return true;
    this.notify('error', `${what ? `${what}: ` : ''}${r.error.message}`);
    return false;
  }

  /** Call and report a failure; returns the data or undefined. */
  async call<C extends CallName>(call: C, input: Parameters<EdnApi[C]>[0], what?: string): Promise<CallOutput<C> | undefined> {
    const fn = this.api[call] as (i: unknown) => Promise<Result<CallOutput<C>>>;
    const r = await fn(input);
    return this.check(r, what) ? r.data : undefined;
  }
}
