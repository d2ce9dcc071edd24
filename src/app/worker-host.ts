/**
 * The UI side of the controller boundary: a stand-in for the ControllerService that the web host
 * and Electron main bind exactly as they would bind the service itself, while the service runs in
 * a worker (worker.ts): a `worker_threads` Worker under `edn web`, an Electron `utilityProcess`
 * for the desktop app (VS Code's pattern), supplied here as a WorkerFactory.
 *
 * Why: the session core (device client, heartbeat, journal with fsync, course store) must not
 * share an event loop with the UI's requests. Twelve parallel validations of a large protocol once
 * stalled that loop for 1.5 s and tripped the device watchdog (issue 9 item 9, issue 10 §1).
 *
 * Where things run
 * - The `controller` worker: the ControllerService with its session. Nothing heavy is sent to it.
 * - The `pure` worker: the same service on the same data directory, never connected to a device,
 *   for HEAVY_CALLS (validating, loading and listing protocols, saving one, listing sessions,
 *   rendering a report). It only reads the data directory, except saveProtocol which writes one
 *   protocol file atomically; the course store and the journals are written by the controller only.
 * - This side (the UI's thread): SessionControl (one controlling UI, the UI's liveness), which
 *   must see the UI's messages promptly whatever the workers are doing, and the e-stop, which is
 *   posted to the controller in the same tick it arrives and waits behind nothing here: the UIs'
 *   `estop` call and the host's own emergencyStop alike go as the `estop` op, which the controller
 *   serves before it parses anything (worker.ts).
 *
 * If the controller worker dies
 * - This side sees it at once (the worker's `exit`), answers every pending call INTERNAL, and
 *   shows a high alarm "controller stopped" in the snapshot (kept until acknowledged). No frame
 *   reaches the device any more, so its watchdog turns output off within its window (1000 ms).
 * - A new controller worker starts; when the old one was connected it connects again to the same
 *   port, whose fresh HELLO switches every output off at once (PROTOCOL.md §6.1) and starts a new
 *   device session. The killed session's journal has no end record: it reads back as incomplete.
 */
import { BehaviorSubject, Subject, type Observable, type SchedulerLike } from 'rxjs';
import { monotonicScheduler } from '../device/time.js';
import {
  CALL_NAMES,
  type CallName,
  type ContractError,
  EVENTS,
  type EstopSource,
  EstopSourceSchema,
  type Result,
  type Snapshot,
  WireEventSchema,
} from './contract.js';
import type { ControlChange } from './control.js';
import { outputProblem } from './dispatch.js';
import { OUTPUT_MAY_BE_ON, type ContractHandlers, type ServiceEvent } from './service.js';
import { type FromWorker, FromWorkerSchema, type ToWorker, type WorkerConfig, type WorkerRole } from './worker-protocol.js';

/**
 * Calls that are pure and may be heavy (their cost grows with a file or a journal a UI chooses):
 * they run on the `pure` worker, never on the controller's thread.
 */
export const HEAVY_CALLS: ReadonlySet<CallName> = new Set<CallName>(['validateProtocol', 'loadProtocol', 'listProtocols', 'saveProtocol', 'listSessions', 'openReport']);

const ESTOP_SOURCES: ReadonlySet<unknown> = new Set<unknown>(EstopSourceSchema.options);

/** How long an orderly stop waits for a worker to dispose its service before ending it, ms. */
export const WORKER_DISPOSE_MS = 5000;
/** Restarts of the controller worker that never became ready, in a row, before giving up. */
export const MAX_FAILED_STARTS = 3;

/** One running worker, as this side drives it. */
export interface WorkerHandle {
  post(message: ToWorker): void;
  onMessage(listener: (message: unknown) => void): void;
  /** Called once when the worker is gone (exited, crashed or killed), with why in words. */
  onExit(listener: (why: string) => void): void;
  /** End it at once. */
  kill(): void;
}

/** Starts a worker with this config (worker_threads, Electron utilityProcess, or a test fake). */
export type WorkerFactory = (config: WorkerConfig) => WorkerHandle;

export interface SupervisorOptions {
  readonly dataDir: string;
  readonly allowHardware: boolean;
  readonly appVersion?: string;
  /** Serial device paths offered besides the listed ports (`edn web --serial`). */
  readonly serialPaths?: readonly string[];
  readonly factory: WorkerFactory;
  /** Timestamps of the host's own alarms. Default: the monotonic real-time scheduler. */
  readonly scheduler?: SchedulerLike;
  /** Told about deaths, restarts and invalid messages. */
  readonly log?: (message: string) => void;
}

/** The service as the hosts use it, with the worker behind it. */
export interface SupervisedController extends ContractHandlers {
  readonly events$: Observable<ServiceEvent>;
  readonly snapshot: Snapshot;
  readonly problems: readonly string[];
  outputMayBeOn(): boolean;
  emergencyStop(source: EstopSource): Promise<Result<null>>;
  recordControl(change: ControlChange): Promise<Result<null>>;
  on(listener: (event: ServiceEvent) => void): () => void;
  /** Resolves when the first controller worker is ready (its problems are known then). */
  ready(): Promise<void>;
  /** Deaths of the controller worker seen, and how many controller workers were started. */
  readonly stats: { readonly deaths: number; readonly starts: number; readonly pureStarts: number };
  /** Ends the current controller worker at once (tests and benchmarks: the crash being tested). */
  killController(): void;
  /** E-stop if output may be on, then an orderly stop of both workers. Never throws. */
  dispose(): Promise<void>;
}

type Pending = { readonly call: CallName; readonly resolve: (r: Result<unknown>) => void };

/** One worker and its requests in flight. */
class Link {
  readonly #handle: WorkerHandle;
  readonly #calls = new Map<number, Pending>();
  readonly #ops = new Map<number, (r: Result<null>) => void>();
  #nextId = 1;
  #alive = true;
  #ready = false;
  readonly #whenReady: Promise<boolean>;
  #resolveReady!: (ok: boolean) => void;

  constructor(
    readonly role: WorkerRole,
    factory: WorkerFactory,
    config: WorkerConfig,
    readonly onReady: (snapshot: Snapshot, problems: readonly string[]) => void,
    readonly onEvent: (event: ServiceEvent) => void,
    readonly onGone: (link: Link, why: string) => void,
    readonly log: (message: string) => void,
  ) {
    this.#whenReady = new Promise<boolean>((resolve) => {
      this.#resolveReady = resolve;
    });
    this.#handle = factory(config);
    this.#handle.onMessage((m) => this.#receive(m));
    this.#handle.onExit((why) => this.#gone(why));
  }

  get alive(): boolean {
    return this.#alive;
  }

  get isReady(): boolean {
    return this.#alive && this.#ready;
  }

  /** True once ready; false when the worker died first. */
  whenReady(): Promise<boolean> {
    return this.#whenReady;
  }

  call(call: CallName, input: unknown): Promise<Result<unknown>> {
    if (!this.#alive) return Promise.resolve(stopped(call, 'the controller is not running'));
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#calls.set(id, { call, resolve });
      this.#post({ kind: 'call', message: { id, call, input } });
    });
  }

  op(op: { op: 'estop'; source: EstopSource } | { op: 'recordControl'; change: ControlChange } | { op: 'dispose' }): Promise<Result<null>> {
    if (!this.#alive) return Promise.resolve(stopped(op.op, 'the controller is not running'));
    const seq = this.#nextId++;
    return new Promise((resolve) => {
      this.#ops.set(seq, resolve);
      this.#post({ kind: 'op', op: { ...op, seq } });
    });
  }

  kill(): void {
    if (!this.#alive) return;
    this.#handle.kill();
  }

  #post(m: ToWorker): void {
    try {
      this.#handle.post(m);
    } catch (e) {
      this.#gone(`posting to it failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  #receive(raw: unknown): void {
    if (!this.#alive) return;
    const parsed = FromWorkerSchema.safeParse(raw);
    if (!parsed.success) {
      this.log(`${this.role} worker sent a message outside the protocol: ${parsed.error.issues[0]?.message ?? ''}`);
      return;
    }
    const m: FromWorker = parsed.data;
    switch (m.kind) {
      case 'ready':
        this.#ready = true;
        this.onReady(m.snapshot, m.problems);
        this.#resolveReady(true);
        return;
      case 'failed':
        this.log(`${this.role} worker could not start: ${m.message}`);
        this.kill();
        return;
      case 'reply': {
        const id = m.reply.id;
        const pending = id === null ? undefined : this.#calls.get(id);
        if (!pending || id === null) return;
        this.#calls.delete(id);
        // Validated again on this side: a worker built from other sources must not reach a UI.
        const problem = outputProblem(pending.call, m.reply.result);
        pending.resolve(problem === undefined ? m.reply.result : { ok: false, error: { code: 'INTERNAL', message: `${pending.call} returned a result outside the contract: ${problem}` } });
        return;
      }
      case 'done': {
        const resolve = this.#ops.get(m.seq);
        if (!resolve) return;
        this.#ops.delete(m.seq);
        resolve(m.result.ok ? { ok: true, data: null } : m.result);
        return;
      }
      case 'event': {
        const e = checkEvent(m.event);
        if (e) this.onEvent(e);
        else this.log(`${this.role} worker pushed an event outside the contract (${m.event.event})`);
        return;
      }
    }
  }

  #gone(why: string): void {
    if (!this.#alive) return;
    this.#alive = false;
    this.#resolveReady(false);
    for (const [, p] of this.#calls) p.resolve(stopped(p.call, `the ${this.role} worker stopped (${why}) before it answered; whether the call took effect is not known`));
    for (const [, resolve] of this.#ops) resolve(stopped('the request', `the ${this.role} worker stopped (${why})`));
    this.#calls.clear();
    this.#ops.clear();
    this.onGone(this, why);
  }
}

function stopped(what: string, why: string): { ok: false; error: ContractError } {
  return { ok: false, error: { code: 'INTERNAL', message: `${what}: ${why}` } };
}

/** An event checked against the contract's schema for it, or undefined. */
function checkEvent(raw: unknown): ServiceEvent | undefined {
  const wire = WireEventSchema.safeParse(raw);
  if (!wire.success) return undefined;
  const data = EVENTS[wire.data.event].safeParse(wire.data.data);
  return data.success ? ({ event: wire.data.event, data: data.data } as ServiceEvent) : undefined;
}

const IN_SESSION_AFTER_DEATH = new Set<Snapshot['state']>(['screening', 'checking-electrodes', 'ramping', 'running', 'ramping-down', 'paused']);

/** The snapshot shown once the controller died: the session aborted, nothing claimed on. */
function deathSnapshot(last: Snapshot, why: string): Snapshot {
  const aborted = IN_SESSION_AFTER_DEATH.has(last.state);
  return {
    ...last,
    state: aborted ? 'aborted' : 'idle',
    reason: `controller stopped: ${why}`,
    channels: last.channels.map((c) => ({ ...c, on: false, commandedMa: 0, measuredMa: null })),
  };
}

/** Starts the controller (and the pure) worker and stands in for the service. */
export function superviseController(options: SupervisorOptions): SupervisedController {
  const scheduler = options.scheduler ?? monotonicScheduler;
  const log = options.log ?? (() => undefined);
  const config = (role: WorkerRole): WorkerConfig => ({
    role,
    dataDir: options.dataDir,
    allowHardware: options.allowHardware,
    ...(options.appVersion === undefined ? {} : { appVersion: options.appVersion }),
    ...(options.serialPaths === undefined || options.serialPaths.length === 0 ? {} : { serialPaths: [...options.serialPaths] }),
  });
  const events = new Subject<ServiceEvent>();
  const idle: Snapshot = { state: 'idle', latched: false, elapsedS: 0, totalS: 0, channels: [], electrodes: [], warnings: [], alarms: [] };
  /** The controller's own latest snapshot (without the host's alarms). */
  let raw: Snapshot = idle;
  const shown = new BehaviorSubject<Snapshot>(idle);
  /** Alarms of this side ("controller stopped"), shown until acknowledged. */
  let hostAlarms: Snapshot['alarms'] = [];
  let problems: readonly string[] = [];
  /** The port the controller was connected to, to connect the next one to. */
  let devicePath: string | undefined;
  let disposed = false;
  let deaths = 0;
  let starts = 0;
  let pureStarts = 0;
  let failedStarts = 0;
  let resolveFirst!: () => void;
  const first = new Promise<void>((resolve) => {
    resolveFirst = resolve;
  });

  const publish = (): void => {
    const s: Snapshot = hostAlarms.length === 0 ? raw : { ...raw, alarms: [...raw.alarms, ...hostAlarms] };
    shown.next(s);
    events.next({ event: 'snapshot', data: s });
  };

  let controller: Link;
  let pure: Link | undefined;

  const startController = (): Link => {
    starts += 1;
    const link = new Link(
      'controller',
      options.factory,
      config('controller'),
      (snapshot, found) => {
        failedStarts = 0;
        problems = found;
        raw = snapshot;
        publish();
        resolveFirst();
        if (devicePath !== undefined) {
          const path = devicePath;
          log(`connecting the new controller to ${path} again (a fresh HELLO: the device switches every output off)`);
          void link.call('connect', { path }).then((r) => {
            if (!r.ok) log(`the new controller could not connect to ${path}: ${r.error.message}`);
          });
        }
      },
      (e) => {
        if (link !== controller) return;
        if (e.event === 'snapshot') {
          raw = e.data;
          publish();
        } else events.next(e);
      },
      (gone, why) => onControllerGone(gone, why),
      log,
    );
    return link;
  };

  const onControllerGone = (link: Link, why: string): void => {
    if (link !== controller || disposed) return;
    const wasReady = link.whenReady();
    deaths += 1;
    log(`the controller worker stopped (${why}); the device's watchdog turns output off`);
    hostAlarms = [
      ...hostAlarms,
      {
        id: `controller-stopped-${deaths}`,
        priority: 'high',
        cause: `controller stopped: ${why}`,
        action: "No command reaches the device now: its watchdog turns every output off within 1 s. Check the patient. A new controller starts and connects again (the device's HELLO switches output off); start a new session to go on.",
        atMs: scheduler.now(),
      },
    ];
    raw = deathSnapshot(raw, why);
    publish();
    void wasReady.then((ready) => {
      if (!ready) failedStarts += 1;
      if (failedStarts >= MAX_FAILED_STARTS) {
        log(`the controller worker failed to start ${failedStarts} times in a row: not starting it again`);
        resolveFirst();
        return;
      }
      if (!disposed) controller = startController();
    });
  };

  const startPure = (): Link => {
    pureStarts += 1;
    const link: Link = new Link(
      'pure',
      options.factory,
      config('pure'),
      () => undefined,
      () => undefined,
      (gone, why) => {
        if (gone === pure && !disposed) {
          log(`the worker for protocol and report work stopped (${why}); a new one starts with the next such call`);
          pure = undefined;
        }
      },
      log,
    );
    return link;
  };

  controller = startController();
  pure = startPure();

  const call = async (name: CallName, input: unknown): Promise<Result<unknown>> => {
    if (name === 'acknowledgeAlarm') {
      const id = (input as { id?: unknown } | undefined)?.id;
      if (hostAlarms.some((a) => a.id === id)) {
        hostAlarms = hostAlarms.filter((a) => a.id !== id);
        publish();
        return { ok: true, data: null };
      }
    }
    if (HEAVY_CALLS.has(name)) {
      pure ??= startPure();
      const link = pure;
      if (!(await link.whenReady())) return stopped(name, 'the worker for protocol and report work could not start');
      return link.call(name, input);
    }
    const link = controller;
    // A UI's e-stop goes as the `estop` op, as the host's own: posted in this tick when the
    // controller is ready, and served there before any parsing (worker.ts, estopOp).
    if (name === 'estop') {
      const source = (input as { source?: unknown } | undefined)?.source;
      if (!ESTOP_SOURCES.has(source)) return { ok: false, error: { code: 'BAD_INPUT', message: `estop: source must be one of ${EstopSourceSchema.options.join(', ')}` } };
      if (link.isReady) return link.op({ op: 'estop', source: source as EstopSource });
    }
    if (!link.isReady && !(await link.whenReady())) return stopped(name, 'the controller is restarting: try again in a moment');
    if (name === 'estop') return link.op({ op: 'estop', source: (input as { source: EstopSource }).source });
    const r = await link.call(name, input);
    if (r.ok && name === 'connect') devicePath = (input as { path: string }).path;
    if (r.ok && name === 'disconnect') devicePath = undefined;
    return r;
  };

  const handlers = Object.fromEntries(CALL_NAMES.map((name) => [name, (input: unknown) => call(name, input)])) as unknown as ContractHandlers;

  const supervised: SupervisedController = {
    ...handlers,
    events$: events.asObservable(),
    get snapshot() {
      return shown.value;
    },
    get problems() {
      return problems;
    },
    get stats() {
      return { deaths, starts, pureStarts };
    },
    outputMayBeOn: () => controller.alive && OUTPUT_MAY_BE_ON.has(raw.state),
    emergencyStop(source) {
      // Posted in this tick: nothing on this side comes first.
      const link = controller;
      if (!link.isReady) return Promise.resolve(stopped('estop', "the controller is not running: the device's watchdog has turned output off"));
      return link.op({ op: 'estop', source });
    },
    recordControl: (change) => controller.op({ op: 'recordControl', change }),
    on(listener) {
      const sub = events.subscribe(listener);
      return () => sub.unsubscribe();
    },
    ready: () => first,
    killController: () => controller.kill(),
    async dispose() {
      if (disposed) return;
      if (supervised.outputMayBeOn()) await supervised.emergencyStop('shutdown');
      disposed = true;
      const links = [controller, ...(pure ? [pure] : [])];
      await Promise.all(
        links.map(async (link) => {
          if (!link.alive) return;
          let timer: ReturnType<typeof setTimeout> | undefined;
          await Promise.race([link.op({ op: 'dispose' }), new Promise((resolve) => (timer = setTimeout(resolve, WORKER_DISPOSE_MS)))]);
          clearTimeout(timer);
          link.kill();
        }),
      );
      events.complete();
      shown.complete();
    },
  };
  return supervised;
}
