/**
 * DeviceClient: the host side of the wire protocol over any Transport. Handshake, request / ack /
 * retry, the e-stop path, boot-id tracking and disconnection. It never decides on its own to cause
 * current: the stimulating requests (SET, START, AMP) take only the guard's `Checked` values
 * (see stimulating.ts), and the generic `request()` cannot send them at all.
 *
 * Lanes: control requests go one at a time in order; the heartbeat has its own lane so a slow
 * SET never delays it; the e-stop has its own path that writes at once, overtakes everything,
 * withdraws whatever is queued and repeats until the device acknowledges.
 */
import { Subject, type Observable, type SchedulerLike, type Subscription } from 'rxjs';
import {
  PROTOCOL_VERSION,
  decodeDeviceLine,
  encode,
  nextSeq,
  setReadbackCrc,
  type DeviceEvent,
  type DeviceToHost,
  type ReplyArgs,
  type RequestArgs,
  type RequestVerb,
} from '../../firmware-protocol/index.js';
import { type Checked, isChecked } from '../domain/safety/guard.js';
import type { AmplitudeChange, StimulationParams } from '../domain/stimulation.js';
import { echoMismatch } from './echo.js';
import { type DeviceError, type Result, err, ok } from './errors.js';
import { type DeviceInfo, deviceInfoFromHello } from './identity.js';
import { ampArgs, setArgs } from './stimulating.js';
import { ACK_RETRIES, ACK_TIMEOUT_MS } from './timing.js';
import type { Transport, TransportInput } from './transport.js';

/** Verbs any caller may send. SET, START and AMP exist only behind Checked values. */
export type PlainVerb = Exclude<RequestVerb, 'SET' | 'START' | 'AMP' | 'ESTOP' | 'HELLO'>;
/**
 * The same list at run time: the types keep TypeScript callers to it, this keeps any other caller
 * (a cast, plain JavaScript, a value that came over IPC) to it too.
 */
const PLAIN_VERBS: { readonly [V in PlainVerb]: true } = { STOP: true, CLEAR: true, HB: true, STATUS: true, IMP: true };
const isPlainVerb = (verb: string): verb is PlainVerb => Object.hasOwn(PLAIN_VERBS, verb);

export interface DeviceClientOptions {
  readonly transport: Transport;
  readonly scheduler: SchedulerLike;
  /** ms to wait for a reply before re-sending the same line. Default ACK_TIMEOUT_MS (200). */
  readonly ackTimeoutMs?: number;
  /** Re-sends after the first attempt. Default ACK_RETRIES (3). */
  readonly retries?: number;
  /** Protocol versions this host accepts. Default [1, 1]. */
  readonly versions?: { readonly min: number; readonly max: number };
}

/** Every line in or out, with the scheduler's time, for the journal and for diagnosis. */
export interface TrafficRecord {
  readonly dir: 'tx' | 'rx';
  readonly line: string;
  readonly atMs: number;
}

/** A line the client could not use. */
export interface RejectedLine {
  readonly code: string;
  readonly detail: string;
  readonly line?: string;
}

/** Lines counted by the client. */
export interface ClientCounters {
  linesIn: number;
  linesOut: number;
  /** Lines that could not be used (bad CRC, garbage, over-long, unexpected). */
  rejected: number;
  /** Replies whose request had already been answered, given up or withdrawn. */
  staleReplies: number;
  /** `! ERR` lines: the device could not read one of our frames. */
  deviceErrors: number;
}

type Lane = 'control' | 'heartbeat';

interface Pending {
  readonly seq: number;
  readonly verb: RequestVerb;
  /** The request's arguments, to compare with what the reply echoes. */
  readonly args: Readonly<Record<string, unknown>>;
  readonly line: string;
  readonly lane: Lane | 'estop';
  attempts: number;
  timer: Subscription | undefined;
  readonly settle: (result: Result<Record<string, unknown>>) => void;
}

interface Queued {
  readonly verb: RequestVerb;
  readonly args: Record<string, unknown>;
  readonly settle: (result: Result<Record<string, unknown>>) => void;
}

export class DeviceClient {
  readonly #transport: Transport;
  readonly #scheduler: SchedulerLike;
  readonly #ackTimeoutMs: number;
  readonly #retries: number;
  readonly #versions: { min: number; max: number };

  readonly #events = new Subject<DeviceEvent>();
  readonly #failures = new Subject<DeviceError>();
  readonly #traffic = new Subject<TrafficRecord>();
  readonly #rejected = new Subject<RejectedLine>();

  #seq = 0;
  #inFlight = new Map<number, Pending>();
  #controlQueue: Queued[] = [];
  #controlBusy = false;
  #heartbeatBusy = false;
  #estop: Promise<Result<void>> | undefined;
  #latched = false;
  #info: DeviceInfo | undefined;
  #failure: DeviceError | undefined;
  #subscriptions: Subscription[] = [];
  /** Depth of transport.write() calls in progress, and the input that arrived during them. */
  #writing = 0;
  #heldInput: TransportInput[] = [];
  #counters: ClientCounters = { linesIn: 0, linesOut: 0, rejected: 0, staleReplies: 0, deviceErrors: 0 };

  /** Device events: TEL, DONE, FAULT, WDOG, BOOT. */
  readonly events$: Observable<DeviceEvent> = this.#events.asObservable();
  /** Failures that end any session: Disconnected, Rebooted. Each is emitted once. */
  readonly failures$: Observable<DeviceError> = this.#failures.asObservable();
  /** Every line sent and received. */
  readonly traffic$: Observable<TrafficRecord> = this.#traffic.asObservable();
  /** Lines that could not be used (counted; never a crash). */
  readonly rejected$: Observable<RejectedLine> = this.#rejected.asObservable();

  constructor(options: DeviceClientOptions) {
    this.#transport = options.transport;
    this.#scheduler = options.scheduler;
    this.#ackTimeoutMs = options.ackTimeoutMs ?? ACK_TIMEOUT_MS;
    this.#retries = options.retries ?? ACK_RETRIES;
    this.#versions = { min: options.versions?.min ?? PROTOCOL_VERSION, max: options.versions?.max ?? PROTOCOL_VERSION };
    this.#subscriptions.push(
      this.#transport.input$.subscribe((input) => this.#onInput(input)),
      this.#transport.closed$.subscribe((closed) => {
        this.#fail({ code: 'Disconnected', detail: `${this.#transport.name}: ${closed.detail}` });
      }),
    );
  }

  /** The device's identity and limits from the last successful handshake. */
  get info(): DeviceInfo | undefined {
    return this.#info;
  }

  /** True after an e-stop until a CLEAR is acknowledged. */
  get latched(): boolean {
    return this.#latched;
  }

  /** The failure that ended this client's usefulness (disconnection or reboot), if any. */
  get failure(): DeviceError | undefined {
    return this.#failure;
  }

  get counters(): Readonly<ClientCounters> {
    return { ...this.#counters };
  }

  get transportName(): string {
    return this.#transport.name;
  }

  /**
   * HELLO: negotiate the version and learn the device's identity and limits. Refuses a device that
   * speaks no version we accept, or whose limits are missing or unsafe (see identity.ts).
   */
  async connect(): Promise<Result<DeviceInfo>> {
    if (this.#failure?.code === 'Disconnected') return err(this.#failure);
    const reply = await this.#enqueue('HELLO', { vmin: this.#versions.min, vmax: this.#versions.max });
    if (!reply.ok) {
      if (reply.error.code === 'DeviceRejected' && reply.error.deviceCode === 'VERSION') {
        return err({
          code: 'HandshakeRefused',
          detail: `the device speaks no protocol version in ${this.#versions.min}..${this.#versions.max}${reply.error.detail ? ` (${reply.error.detail})` : ''}`,
        });
      }
      return reply;
    }
    const info = deviceInfoFromHello(reply.value as ReplyArgs<'HELLO'>, this.#versions);
    if (!info.ok) return info;
    this.#info = info.value;
    this.#failure = undefined;
    return info;
  }

  /** HB on its own lane. Returns at once with `busy` if the previous heartbeat is still waiting. */
  async heartbeat(): Promise<Result<'acked' | 'busy'>> {
    if (this.#heartbeatBusy) return ok('busy');
    this.#heartbeatBusy = true;
    try {
      const r = await this.#send('HB', {}, 'heartbeat');
      return r.ok ? ok('acked') : r;
    } finally {
      this.#heartbeatBusy = false;
    }
  }

  /** A request that cannot cause current: STOP, CLEAR, HB, STATUS, IMP. */
  async request<V extends PlainVerb>(verb: V, args: RequestArgs<V>): Promise<Result<ReplyArgs<V>>> {
    if (!isPlainVerb(verb)) return err({ code: 'Unchecked', verb, detail: `${String(verb)} is not sent by request(): only the guard's Checked values reach the device` });
    const r = await this.#enqueue(verb, args);
    if (r.ok && verb === 'CLEAR') this.#latched = false;
    if (r.ok && verb === 'STATUS') this.#checkBoot((r.value as ReplyArgs<'STATUS'>).boot);
    return r as Result<ReplyArgs<V>>;
  }

  /** SET from a Checked value, verified by the CRC the device echoes of what it stored. */
  async stage(checked: Checked<StimulationParams>): Promise<Result<{ readonly crc: string }>> {
    if (!isChecked(checked)) return err(unchecked('stage'));
    const args = setArgs(checked);
    if (!args.ok) return args;
    const blocked = this.#refuseStimulation('SET');
    if (blocked) return blocked;
    const r = await this.#enqueue('SET', args.value);
    if (!r.ok) return r;
    const stored = (r.value as ReplyArgs<'SET'>).crc;
    const sent = setReadbackCrc(args.value);
    if (stored !== sent) return err({ code: 'ReadbackMismatch', channel: args.value.ch, sent, stored });
    return ok({ crc: stored });
  }

  /** START the channel of a Checked program that was staged. */
  async start(checked: Checked<StimulationParams>): Promise<Result<void>> {
    if (!isChecked(checked)) return err(unchecked('start'));
    const blocked = this.#refuseStimulation('START');
    if (blocked) return blocked;
    const r = await this.#enqueue('START', { ch: checked.value.channel });
    return r.ok ? ok(undefined) : r;
  }

  /** AMP from a Checked amplitude change. */
  async setAmplitude(checked: Checked<AmplitudeChange>): Promise<Result<void>> {
    if (!isChecked(checked)) return err(unchecked('setAmplitude'));
    const args = ampArgs(checked);
    if (!args.ok) return args;
    const blocked = this.#refuseStimulation('AMP');
    if (blocked) return blocked;
    const r = await this.#enqueue('AMP', args.value);
    return r.ok ? ok(undefined) : r;
  }

  /**
   * Emergency stop. Written to the port at once, ahead of anything queued and regardless of any
   * request in flight; queued and in-flight requests are withdrawn; re-sent every ack timeout until
   * the device acknowledges. Resolves when acknowledged, or with Disconnected if the port is gone.
   */
  estop(): Promise<Result<void>> {
    this.#latched = true;
    if (this.#estop) return this.#estop;
    const seq = this.#takeSeq();
    const line = encode({ type: 'request', seq, verb: 'ESTOP', args: {} });
    let resolve!: (r: Result<void>) => void;
    const promise = new Promise<Result<void>>((r) => (resolve = r));
    // Registered before the write: an in-process device answers inside write(), and a later
    // estop() must find this one finished, not a stale promise.
    this.#estop = promise;
    const pending: Pending = {
      seq,
      verb: 'ESTOP',
      args: {},
      line,
      lane: 'estop',
      attempts: 0,
      timer: undefined,
      settle: (r) => {
        if (this.#estop === promise) this.#estop = undefined;
        resolve(r.ok ? ok(undefined) : r);
      },
    };
    this.#inFlight.set(seq, pending);
    // Write first; bookkeeping after. Nothing here may stand between the call and the bytes.
    this.#transmit(pending);
    this.#withdrawAll('an e-stop overtook it');
    return promise;
  }

  /** Stop listening and cancel every timer. Pending requests settle as Cancelled. */
  dispose(): void {
    this.#withdrawAll('the client was closed', true);
    for (const s of this.#subscriptions) s.unsubscribe();
    this.#subscriptions = [];
    this.#events.complete();
    this.#failures.complete();
    this.#traffic.complete();
    this.#rejected.complete();
  }

  // ---- internals ------------------------------------------------------------------------------------

  #refuseStimulation(verb: RequestVerb): { ok: false; error: DeviceError } | undefined {
    if (this.#failure) return err(this.#failure);
    if (!this.#info) return err({ code: 'NotConnected', verb });
    if (this.#latched) return err({ code: 'Cancelled', verb, reason: 'the e-stop is latched; clear it first' });
    return undefined;
  }

  #takeSeq(): number {
    const seq = this.#seq;
    this.#seq = nextSeq(seq);
    return seq;
  }

  #enqueue(verb: RequestVerb, args: Record<string, unknown>): Promise<Result<Record<string, unknown>>> {
    if (this.#failure?.code === 'Disconnected') return Promise.resolve(err(this.#failure));
    return new Promise((settle) => {
      this.#controlQueue.push({ verb, args, settle });
      this.#pump();
    });
  }

  #pump(): void {
    if (this.#controlBusy) return;
    const next = this.#controlQueue.shift();
    if (!next) return;
    this.#controlBusy = true;
    void this.#send(next.verb, next.args, 'control').then((r) => {
      this.#controlBusy = false;
      next.settle(r);
      this.#pump();
    });
  }

  #send(verb: RequestVerb, args: Record<string, unknown>, lane: Lane): Promise<Result<Record<string, unknown>>> {
    if (this.#failure?.code === 'Disconnected') return Promise.resolve(err(this.#failure));
    const seq = this.#takeSeq();
    let line: string;
    try {
      line = encode({ type: 'request', seq, verb, args } as Parameters<typeof encode>[0]);
    } catch (e) {
      return Promise.resolve(err({ code: 'Unencodable', detail: e instanceof Error ? e.message : String(e) }));
    }
    return new Promise((resolve) => {
      const pending: Pending = { seq, verb, args, line, lane, attempts: 0, timer: undefined, settle: resolve };
      this.#inFlight.set(seq, pending);
      this.#transmit(pending);
    });
  }

  /**
   * Arm the ack timer, write the line, then report it. The line is written before anything else
   * observes it (nothing may stand between an e-stop and its bytes); a reply that arrives inside
   * write() (an in-process transport answers synchronously) is held back until the command it
   * answers has been reported, so the traffic, and the journal, read in causal order.
   */
  #transmit(p: Pending): void {
    p.attempts += 1;
    this.#counters.linesOut += 1;
    p.timer?.unsubscribe();
    p.timer = this.#scheduler.schedule(() => this.#onAckTimeout(p), this.#ackTimeoutMs);
    const at = this.#scheduler.now();
    this.#writing += 1;
    try {
      this.#transport.write(p.line);
    } finally {
      this.#writing -= 1;
    }
    this.#traffic.next({ dir: 'tx', line: p.line, atMs: at });
    if (this.#writing === 0 && this.#heldInput.length > 0) {
      const held = this.#heldInput;
      this.#heldInput = [];
      for (const input of held) this.#onInput(input);
    }
  }

  #onAckTimeout(p: Pending): void {
    if (this.#inFlight.get(p.seq) !== p) return;
    // The e-stop is re-sent until acknowledged, however long that takes; others give up.
    if (p.lane === 'estop' || p.attempts <= this.#retries) {
      this.#transmit(p);
      return;
    }
    this.#settle(p, err({ code: 'AckTimeout', verb: p.verb, seq: p.seq, attempts: p.attempts, waitedMs: p.attempts * this.#ackTimeoutMs }));
  }

  #settle(p: Pending, result: Result<Record<string, unknown>>): void {
    if (this.#inFlight.get(p.seq) !== p) return;
    this.#inFlight.delete(p.seq);
    p.timer?.unsubscribe();
    p.settle(result);
  }

  #withdrawAll(reason: string, includeEstop = false): void {
    const queued = this.#controlQueue;
    this.#controlQueue = [];
    for (const q of queued) q.settle(err({ code: 'Cancelled', verb: q.verb, reason }));
    for (const p of [...this.#inFlight.values()]) {
      if (p.lane === 'estop' && !includeEstop) continue;
      this.#settle(p, err({ code: 'Cancelled', verb: p.verb, reason }));
    }
  }

  #fail(failure: DeviceError): void {
    if (this.#failure && this.#failure.code === failure.code) return;
    if (failure.code === 'Disconnected' && this.#failure?.code === 'Disconnected') return;
    this.#failure = failure;
    // The device's session with us is gone: a new HELLO is needed before anything else.
    if (failure.code === 'Rebooted' || failure.code === 'SessionLost') this.#info = undefined;
    const queued = this.#controlQueue;
    this.#controlQueue = [];
    for (const q of queued) q.settle(err(failure));
    for (const p of [...this.#inFlight.values()]) {
      // After a reboot the device is still there: an e-stop in flight keeps trying.
      if (p.lane === 'estop' && failure.code !== 'Disconnected') continue;
      this.#settle(p, err(failure));
    }
    this.#failures.next(failure);
  }

  #checkBoot(bootId: string): void {
    const known = this.#info?.bootId;
    if (known !== undefined && bootId !== known) this.#fail({ code: 'Rebooted', previousBootId: known, bootId });
  }

  #onInput(input: TransportInput): void {
    if (this.#writing > 0) {
      this.#heldInput.push(input);
      return;
    }
    if (input.kind === 'overflow') {
      this.#reject({ code: 'TOO_LONG', detail: `dropped a line of more than ${input.droppedBytes} bytes` });
      return;
    }
    this.#counters.linesIn += 1;
    const text = input.text;
    this.#traffic.next({ dir: 'rx', line: text, atMs: this.#scheduler.now() });
    if (text.length === 0 || text === '\r') return;
    const decoded = decodeDeviceLine(text);
    if (!decoded.ok) {
      const p = decoded.error.seq === undefined ? undefined : this.#inFlight.get(decoded.error.seq);
      if (p) {
        this.#settle(p, err({ code: 'BadReply', verb: p.verb, seq: p.seq, decodeCode: decoded.error.code, detail: decoded.error.message }));
      } else {
        this.#reject({ code: decoded.error.code, detail: decoded.error.message, line: text });
      }
      return;
    }
    this.#onMessage(decoded.message, text);
  }

  #onMessage(m: DeviceToHost, text: string): void {
    if (m.type === 'event') {
      if (m.event === 'BOOT') this.#checkBoot(m.args.boot);
      this.#events.next(m);
      return;
    }
    if (m.type === 'err' && m.seq === null) {
      // `! ERR code=...`: the device could not read one of our frames; the retry covers it.
      this.#counters.deviceErrors += 1;
      this.#rejected.next({ code: `DEVICE_${m.args.code}`, detail: 'the device rejected a frame it could not attribute', line: text });
      return;
    }
    const p = m.seq === null ? undefined : this.#inFlight.get(m.seq);
    if (!p) {
      this.#counters.staleReplies += 1;
      return;
    }
    if (m.type === 'err') {
      this.#settle(p, err({ code: 'DeviceRejected', verb: p.verb, seq: p.seq, deviceCode: m.args.code, ...(m.args.msg === undefined ? {} : { detail: m.args.msg }) }));
      // A device that had a session with us and now says there is none reset or timed out without
      // a word (no BOOT, no WDOG): every session on it is over (PROTOCOL.md §9 NO_HELLO).
      if (m.args.code === 'NO_HELLO' && this.#info && p.verb !== 'HELLO') {
        this.#fail({ code: 'SessionLost', verb: p.verb, detail: m.args.msg ?? '' });
      }
      return;
    }
    if (m.verb !== p.verb) {
      this.#settle(p, err({ code: 'UnexpectedReply', verb: p.verb, seq: p.seq, got: `OK ${m.verb}` }));
      return;
    }
    const mismatch = echoMismatch(p.verb, p.args, m.args);
    if (mismatch) {
      if (p.lane === 'estop') {
        // An ESTOP "acknowledged" as not latched is no confirmation: keep repeating it.
        this.#reject({ code: 'ECHO_MISMATCH', detail: `ESTOP answered with ${mismatch.field}=${mismatch.got}`, line: text });
        return;
      }
      this.#settle(p, err({ code: 'EchoMismatch', verb: p.verb, seq: p.seq, ...mismatch }));
      return;
    }
    if (m.verb === 'ESTOP') this.#latched = true;
    this.#settle(p, ok(m.args as Record<string, unknown>));
  }

  #reject(r: RejectedLine): void {
    this.#counters.rejected += 1;
    this.#rejected.next(r);
  }
}

/** The verb each Checked-taking method sends. */
const VERB_OF = { stage: 'SET', start: 'START', setAmplitude: 'AMP' } as const;

/**
 * A stimulating request whose value the guard did not issue (a forged `Checked`): never sent.
 * Named by the method, not the verb, so the refusal is not itself a SET/START/AMP argument that
 * the choke-point rule would (rightly) question in a method that lost its Checked parameter.
 */
function unchecked(method: keyof typeof VERB_OF): DeviceError {
  return { code: 'Unchecked', verb: VERB_OF[method], detail: 'the value was not issued by the guard (src/domain/safety/guard.ts)' };
}
