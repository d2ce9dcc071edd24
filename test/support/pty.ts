/**
 * Host-side helpers for real-I/O tests over a pseudo-terminal: the host end opened with the REAL
 * `serialport` package, read through the project's capped line reader and decoded with the codec;
 * an expect-style stream to wait on with bounded deadlines; and a registry so that `afterEach` can
 * close every port a test opened and say which were left open.
 *
 *     const port = await openHostPort(sim.path);
 *     const hello = await port.ok('HELLO', { vmin: 1, vmax: 1 });
 *     await port.nextEvent('BOOT');
 *     afterEach(async () => expect(await closeAllHostPorts()).toEqual([]));
 */
import { execFileSync } from 'node:child_process';
import { SerialPort } from 'serialport';
import {
  decodeDeviceLine,
  encode,
  nextSeq,
  type Decoded,
  type DeviceEvent,
  type DeviceToHost,
  type ErrReply,
  type EventName,
  type OkReply,
  type ReplyArgs,
  type Request,
  type RequestArgs,
  type RequestVerb,
} from '../../firmware-protocol/index.js';
import { LineReader, type ReadRecord } from '../../src/device/line-reader.js';

/** Default deadline for one awaited item, in ms: generous for a loaded 2-core CI machine. */
export const DEFAULT_WAIT_MS = 5000;

// ---- waiting on ordered streams -----------------------------------------------------------------

/**
 * An ordered stream of items a test waits on, expect-script style: `next(match, what)` resolves
 * with the first item after the cursor that matches and moves the cursor past it; it fails after a
 * bounded deadline (or when the stream ends) with a message naming what was awaited and listing
 * what arrived instead. Real time, but never a fixed sleep.
 */
export class ExpectStream<T> {
  /** Everything received so far, in order. */
  readonly items: T[] = [];
  #cursor = 0;
  #ended: string | undefined;
  readonly #waiters = new Set<() => void>();

  constructor(
    /** Names the stream in failure messages, e.g. `simulator events`. */
    readonly name: string,
    private readonly show: (item: T) => string = (item) => JSON.stringify(item),
  ) {}

  push(item: T): void {
    this.items.push(item);
    for (const wake of [...this.#waiters]) wake();
  }

  /** No more items will come; `why` goes into the failure of anyone still waiting. */
  end(why: string): void {
    this.#ended ??= why;
    for (const wake of [...this.#waiters]) wake();
  }

  get ended(): boolean {
    return this.#ended !== undefined;
  }

  /** Index the next `next()` starts searching from. */
  get cursor(): number {
    return this.#cursor;
  }

  /** Consume everything received so far: the next `next()` sees only new items. */
  skipAll(): void {
    this.#cursor = this.items.length;
  }

  /** Move the cursor back to `index` (from an earlier `cursor`), to search those items again. */
  rewind(index: number): void {
    this.#cursor = Math.max(0, Math.min(index, this.#cursor));
  }

  /** Items received but not yet passed over by `next()`. */
  pending(): readonly T[] {
    return this.items.slice(this.#cursor);
  }

  /**
   * The first item after the cursor that `match` accepts. Items passed over stay consumed.
   * Rejects after `timeoutMs` ms, or when the stream ends first.
   */
  next<S extends T>(match: (item: T) => item is S, what: string, timeoutMs?: number): Promise<S>;
  next(match: (item: T) => boolean, what: string, timeoutMs?: number): Promise<T>;
  next(match: (item: T) => boolean, what: string, timeoutMs = DEFAULT_WAIT_MS): Promise<T> {
    const started = this.#cursor;
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        for (let i = this.#cursor; i < this.items.length; i++) {
          const item = this.items[i]!;
          if (match(item)) {
            this.#cursor = i + 1;
            resolve(item);
            return true;
          }
        }
        this.#cursor = this.items.length;
        if (this.#ended === undefined) return false;
        reject(new Error(`${this.name}: ended (${this.#ended}) while waiting for ${what}${this.#seen(started)}`));
        return true;
      };
      if (check()) return;
      const wake = () => {
        if (!check()) return;
        clearTimeout(timer);
        this.#waiters.delete(wake);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(wake);
        reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms${this.#seen(started)}`));
      }, timeoutMs);
      this.#waiters.add(wake);
    });
  }

  #seen(from: number): string {
    const seen = this.items.slice(from);
    if (seen.length === 0) return '; nothing arrived';
    const last = seen.slice(-8).map((item) => this.show(item));
    return `; ${seen.length} arrived meanwhile, the last ${last.length}:\n  ${last.join('\n  ')}`;
  }
}

// ---- socat ----------------------------------------------------------------------------------------

/**
 * Throws (so the test FAILS, never skips) when socat is missing: CI installs the Debian package.
 */
export function requireSocat(): void {
  try {
    execFileSync('socat', ['-V'], { stdio: 'ignore', timeout: 5000 });
  } catch (err) {
    throw new Error(`socat is required by the pseudo-terminal tests: install the Debian package 'socat' (apt-get install socat). (${String(err)})`);
  }
}

// ---- the host end ---------------------------------------------------------------------------------

/** One line as the host received it: the text (latin1, without `\n`) and its decoding. */
export interface HostLine {
  readonly text: string;
  /** An over-long line arrives as `{ok: false, error: {code: 'TOO_LONG'}}` with text ''. */
  readonly decoded: Decoded<DeviceToHost>;
}

type Reply<V extends RequestVerb> = Extract<OkReply, { verb: V }> | ErrReply;

const openPorts = new Set<HostPort>();

/** A host's serial port on a pty, through the real `serialport` package and the capped reader. */
export class HostPort {
  /** Every line read, decoded; wait on it with `next`. */
  readonly lines: ExpectStream<HostLine>;
  /** Errors the port emitted (a test may assert there were none). */
  readonly errors: Error[] = [];
  readonly reader = new LineReader();
  #seq = 0;
  #closing: Promise<void> | undefined;
  readonly #timers = new Set<() => void>();

  private constructor(
    readonly path: string,
    readonly port: SerialPort,
  ) {
    this.lines = new ExpectStream<HostLine>(`lines from ${path}`, (l) => (l.decoded.ok ? l.text : `${l.text} (${l.decoded.error.code})`));
    port.on('error', (err: Error) => this.errors.push(err));
    port.on('close', () => this.lines.end('port closed'));
    this.reader.on('data', (r: ReadRecord) => this.lines.push(toHostLine(r)));
    port.pipe(this.reader);
  }

  /** Open `path` at 115200 8N1 (the protocol's physical layer). */
  static async open(path: string, baudRate = 115_200): Promise<HostPort> {
    const port = new SerialPort({ path, baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(new Error(`cannot open ${path}: ${err.message}`)) : resolve())));
    const host = new HostPort(path, port);
    openPorts.add(host);
    return host;
  }

  get isOpen(): boolean {
    return this.port.isOpen;
  }

  /** Write raw text (latin1) followed by `\n`. */
  send(text: string): void {
    this.port.write(Buffer.from(`${text}\n`, 'latin1'));
  }

  /** Write raw bytes as they are. */
  sendBytes(bytes: Uint8Array): void {
    this.port.write(bytes);
  }

  /** Encode and send a request with the next sequence number; returns the seq used. */
  request<V extends RequestVerb>(verb: V, args: RequestArgs<V>): number {
    this.#seq = nextSeq(this.#seq);
    const seq = this.#seq;
    this.send(encode({ type: 'request', seq, verb, args } as Request));
    return seq;
  }

  /** Send a request and wait for its reply (OK or ERR with the same seq). */
  async call<V extends RequestVerb>(verb: V, args: RequestArgs<V>, timeoutMs = DEFAULT_WAIT_MS): Promise<Reply<V>> {
    const seq = this.request(verb, args);
    const line = await this.lines.next((l) => l.decoded.ok && l.decoded.message.type !== 'event' && l.decoded.message.seq === seq, `the reply to ${verb} (seq ${seq})`, timeoutMs);
    return (line.decoded as { ok: true; message: Reply<V> }).message;
  }

  /**
   * Like {@link call}, but re-sends the SAME line (same seq) when no reply came within `eachMs`,
   * up to `attempts` sends in all, as a host does (the device answers a byte-identical retry from
   * its stored reply). For links a test makes lossy (dropped, corrupted or garbled replies).
   */
  async callRetrying<V extends RequestVerb>(verb: V, args: RequestArgs<V>, attempts = 4, eachMs = 1000): Promise<Reply<V>> {
    this.#seq = nextSeq(this.#seq);
    const seq = this.#seq;
    const line = encode({ type: 'request', seq, verb, args } as Request);
    const isReply = (l: HostLine) => l.decoded.ok && l.decoded.message.type !== 'event' && l.decoded.message.seq === seq;
    const from = this.lines.cursor;
    for (let attempt = 1; ; attempt++) {
      this.send(line);
      try {
        const reply = await this.lines.next(isReply, `the reply to ${verb} (seq ${seq}, attempt ${attempt} of ${attempts})`, eachMs);
        return (reply.decoded as { ok: true; message: Reply<V> }).message;
      } catch (err) {
        if (attempt >= attempts || this.lines.ended) throw err;
        // Look again from where this call started: a late reply still counts.
        this.lines.rewind(from);
      }
    }
  }

  /** Send a request and return the arguments of its OK reply; throws on ERR. */
  async ok<V extends RequestVerb>(verb: V, args: RequestArgs<V>, timeoutMs = DEFAULT_WAIT_MS): Promise<ReplyArgs<V>> {
    const reply = await this.call(verb, args, timeoutMs);
    if (reply.type === 'err') throw new Error(`${verb} was refused: ${reply.args.code}${reply.args.msg === undefined ? '' : ` (${reply.args.msg})`}`);
    return (reply as unknown as { args: ReplyArgs<V> }).args;
  }

  /** Wait for the next unsolicited event `name` (optionally one `match` accepts). */
  async nextEvent<E extends EventName>(name: E, match: (e: Extract<DeviceEvent, { event: E }>) => boolean = () => true, timeoutMs = DEFAULT_WAIT_MS): Promise<Extract<DeviceEvent, { event: E }>> {
    const line = await this.lines.next(
      (l) => l.decoded.ok && l.decoded.message.type === 'event' && l.decoded.message.event === name && match(l.decoded.message as Extract<DeviceEvent, { event: E }>),
      `event ${name}`,
      timeoutMs,
    );
    return (line.decoded as { ok: true; message: Extract<DeviceEvent, { event: E }> }).message;
  }

  /**
   * Send `HB` every `everyMs` ms (the host's heartbeat, 250 ms by the protocol) until the returned
   * function is called or the port closes. Replies are read like any other line.
   */
  heartbeat(everyMs = 250): () => void {
    const timer = setInterval(() => {
      if (this.port.isOpen) this.request('HB', {});
    }, everyMs);
    const stop = () => {
      clearInterval(timer);
      this.#timers.delete(stop);
    };
    this.#timers.add(stop);
    return stop;
  }

  /** Close the port (idempotent); resolves when it is closed. */
  close(): Promise<void> {
    for (const stop of [...this.#timers]) stop();
    this.#closing ??= new Promise<void>((resolve) => {
      openPorts.delete(this);
      this.port.unpipe(this.reader);
      this.reader.destroy();
      if (!this.port.isOpen) {
        this.lines.end('port closed');
        resolve();
        return;
      }
      this.port.close(() => {
        this.lines.end('port closed');
        resolve();
      });
    });
    return this.#closing;
  }
}

function toHostLine(record: ReadRecord): HostLine {
  if (record.kind === 'overflow') {
    return { text: '', decoded: { ok: false, error: { code: 'TOO_LONG', message: `dropped a ${record.droppedBytes}-byte line` } } };
  }
  return { text: record.text, decoded: decodeDeviceLine(record.text) };
}

/** Open the host end of a pty with the real serialport package (closed by {@link closeAllHostPorts}). */
export function openHostPort(path: string, baudRate = 115_200): Promise<HostPort> {
  return HostPort.open(path, baudRate);
}

/**
 * Close every port a test left open and check each really is closed; returns the paths that had
 * been left open (a test that closes its own ports can assert none).
 */
export async function closeAllHostPorts(): Promise<string[]> {
  const left = [...openPorts];
  await Promise.all(left.map((p) => p.close()));
  const still = left.filter((p) => p.isOpen);
  if (still.length > 0) throw new Error(`ports still open after close: ${still.map((p) => p.path).join(', ')}`);
  return left.map((p) => p.path);
}
