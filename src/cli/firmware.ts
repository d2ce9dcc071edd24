/**
 * The reference firmware (firmware-protocol/c) as a simulated device for `edn simulate --firmware`:
 * the host port as a child process, or the mps2-an385 image in QEMU, behind the same shape as the
 * TypeScript simulator (bytes in, bytes out, `--json` events, fault injection), so the command, and
 * every test that drives it, treats the three implementations alike.
 *
 * Where each fault acts:
 * - on the device (reboot, open / load changes, over-current, internal fault, stage-fail): a
 *   control command to the firmware (the host port's stdin; the QEMU image's second UART), which
 *   the firmware's board code carries out (ports/host/board.c, ports/mps2-an385/main.c);
 * - on the wire (cable pull, dropped, delayed or corrupted replies, garbage): here, between the
 *   pseudo-terminal and the firmware's UART, with the simulator's semantics (src/simulator/faults.ts):
 *   a "reply" is every line but an event (`! TEL`, `! DONE`, `! FAULT`, `! WDOG`, `! BOOT`).
 *
 * The firmware's events are JSON lines in the simulator's format (src/simulator/types.ts
 * SimEvent), parsed with zod at this trust boundary; anything else it prints is reported as an
 * error event, never passed through unchecked.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex, Readable, Writable } from 'node:stream';
import type { SchedulerLike } from 'rxjs';
import * as z from 'zod';
import { ERROR_CODES, FAULT_CODES } from '../../firmware-protocol/index.js';
import { MODEL, type FaultTarget, type SimEvent } from '../simulator/index.js';
import { int, stream } from '../simulator/random.js';

/** Which firmware build runs: the POSIX host port, or the Cortex-M3 image in QEMU. */
export type FirmwareKind = 'host' | 'qemu';

export interface FirmwareOptions {
  readonly kind: FirmwareKind;
  /** The built file: the host port executable, or the mps2-an385 ELF image. */
  readonly binary: string;
  readonly scheduler: SchedulerLike;
  /** Output channels, 1..8 (the QEMU image is built for 4). Default 4. */
  readonly channels?: number;
  /** Seed of the loads (the simulator's load model) and of injected garbage. Default 1. */
  readonly seed?: number;
  /** A narrower charge limit per phase than the compiled 12000 nC, to provoke CHARGE. */
  readonly qmax?: number;
  /** The QEMU executable. Default `qemu-system-arm`. */
  readonly qemu?: string;
}

/** Every event the simulator prints, as a zod schema (SimEvent), for the firmware's lines. */
const EventSchema = z.discriminatedUnion('event', [
  z.strictObject({ event: z.literal('output'), channel: z.number().int().min(1).max(8), on: z.boolean(), amplitudeMa: z.number().min(0).max(100) }),
  z.strictObject({ event: z.literal('watchdog') }),
  z.strictObject({ event: z.literal('estop') }),
  z.strictObject({ event: z.literal('clear') }),
  z.strictObject({ event: z.literal('fault'), channel: z.number().int().min(0).max(8), code: z.enum(FAULT_CODES) }),
  z.strictObject({ event: z.literal('boot'), bootId: z.string().regex(/^[0-9A-F]{8}$/) }),
  z.strictObject({ event: z.literal('done'), channel: z.number().int().min(1).max(8) }),
  z.strictObject({ event: z.literal('rejected'), code: z.enum(ERROR_CODES), line: z.string().max(256) }),
]);
/** A control command the firmware could not carry out. */
const ErrorSchema = z.strictObject({ event: z.literal('error'), message: z.string().max(500) });

/** Events that are not replies (never dropped or delayed by the wire faults). */
const EVENT_LINE = /^! (TEL|DONE|FAULT|WDOG|BOOT)( |$)/;
const CORRUPT_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** Purposes of the PRNG streams (the simulator's values, so a seed gives the same garbage). */
const RNG = { garbage: 0x6a7b, corrupt: 0xc0de } as const;

/** The three byte streams a running firmware offers. */
interface Backend {
  /** The firmware's UART: bytes to and from the device. */
  readonly uart: Duplex;
  /** JSON event lines from the firmware. */
  readonly events: Readable;
  /** Control command lines to the firmware. */
  readonly control: Writable;
  /** Settles when the firmware process ends (never rejects). */
  readonly exited: Promise<string>;
  stop(): Promise<void>;
}

export class FirmwareDevice implements FaultTarget {
  readonly channelCount: number;
  readonly #scheduler: SchedulerLike;
  readonly #tx: ((chunk: string) => void)[] = [];
  readonly #ev: ((e: SimEvent) => void)[] = [];
  /** What arrived before the first listener of its kind (the power-up BOOT line and event). */
  readonly #heldTx: string[] = [];
  readonly #heldEv: SimEvent[] = [];
  #booted: () => void = () => undefined;
  readonly #errors: ((message: string) => void)[] = [];
  readonly #timers = new Set<{ unsubscribe(): void }>();
  readonly #garbage: () => number;
  readonly #corruptRandom: () => number;
  #backend: Backend | undefined;
  #startedAt = 0;
  #partial = '';
  #eventPartial = '';
  #disposed = false;
  readonly #link = { pulled: false, drop: 0, delayMs: 0, corrupt: 0 };

  private constructor(options: FirmwareOptions) {
    this.#scheduler = options.scheduler;
    this.channelCount = options.channels ?? 4;
    const seed = options.seed ?? MODEL.defaultSeed;
    this.#garbage = stream(seed, RNG.garbage);
    this.#corruptRandom = stream(seed, RNG.corrupt);
  }

  /**
   * Start the firmware; resolves once it has booted (its `boot` event arrived), so that a host
   * that opens the port next finds a running device. Rejects if it exits or stays silent for
   * `bootTimeoutMs` (default 20 s: QEMU on a loaded machine).
   */
  static async start(options: FirmwareOptions, bootTimeoutMs = 20_000): Promise<FirmwareDevice> {
    const device = new FirmwareDevice(options);
    device.#startedAt = options.scheduler.now();
    const booted = new Promise<void>((resolve) => (device.#booted = resolve));
    const backend = options.kind === 'host' ? startHost(options) : await startQemu(options);
    device.#backend = backend;
    device.#wire(backend);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`the ${options.kind} firmware did not boot within ${bootTimeoutMs} ms`), bootTimeoutMs);
    });
    const failure = await Promise.race([booted.then(() => undefined), backend.exited, late]);
    clearTimeout(timer);
    if (failure !== undefined) {
      await device.dispose();
      throw new Error(failure);
    }
    return device;
  }

  /** Settles with a reason when the firmware ends by itself. */
  get exited(): Promise<string> {
    return this.#backend?.exited ?? Promise.resolve('not started');
  }

  #wire(b: Backend): void {
    b.uart.on('data', (chunk: Buffer) => this.#fromDevice(chunk.toString('latin1')));
    b.uart.on('error', () => undefined);
    b.events.on('data', (chunk: Buffer) => {
      this.#eventPartial += chunk.toString('utf8');
      let nl: number;
      while ((nl = this.#eventPartial.indexOf('\n')) >= 0) {
        const line = this.#eventPartial.slice(0, nl).trim();
        this.#eventPartial = this.#eventPartial.slice(nl + 1);
        if (line) this.#eventLine(line);
      }
    });
    b.control.on('error', () => undefined);
  }

  #eventLine(line: string): void {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      this.#error(`the firmware printed a line that is not JSON: ${line.slice(0, 120)}`);
      return;
    }
    const event = EventSchema.safeParse(value);
    if (event.success) {
      if (event.data.event === 'boot') this.#booted();
      if (this.#disposed) return;
      if (this.#ev.length === 0) this.#heldEv.push(event.data);
      for (const l of [...this.#ev]) l(event.data);
      return;
    }
    const error = ErrorSchema.safeParse(value);
    this.#error(error.success ? `firmware: ${error.data.message}` : `the firmware printed an unknown event: ${line.slice(0, 120)}`);
  }

  #error(message: string): void {
    for (const l of [...this.#errors]) l(message);
  }

  /** Lines from the firmware's UART towards the host, through the wire faults. */
  #fromDevice(text: string): void {
    this.#partial += text;
    let nl: number;
    while ((nl = this.#partial.indexOf('\n')) >= 0) {
      const line = this.#partial.slice(0, nl);
      this.#partial = this.#partial.slice(nl + 1);
      if (EVENT_LINE.test(line)) this.#send(line);
      else this.#reply(line);
    }
  }

  #reply(line: string): void {
    if (this.#link.drop > 0) {
      this.#link.drop--;
      return;
    }
    if (this.#link.delayMs > 0) {
      this.runAfter(this.#link.delayMs, () => this.#send(line));
      return;
    }
    this.#send(line);
  }

  #send(line: string): void {
    if (this.#link.corrupt > 0 && !this.#link.pulled) {
      this.#link.corrupt--;
      line = this.#corrupt(line);
    }
    this.#write(`${line}\n`);
  }

  #write(chunk: string): void {
    if (this.#disposed || this.#link.pulled) return;
    if (this.#tx.length === 0) this.#heldTx.push(chunk);
    for (const l of [...this.#tx]) l(chunk);
  }

  /** The simulator's corruption: one character before ` *` replaced by a different letter or digit. */
  #corrupt(line: string): string {
    const mark = line.lastIndexOf(' *');
    const positions: number[] = [];
    for (let i = 0; i < mark; i++) if (line[i] !== ' ') positions.push(i);
    const at = positions[int(this.#corruptRandom, positions.length)] ?? 0;
    const was = line[at];
    let by = was;
    while (by === was) by = CORRUPT_ALPHABET[int(this.#corruptRandom, CORRUPT_ALPHABET.length)];
    return `${line.slice(0, at)}${by ?? 'X'}${line.slice(at + 1)}`;
  }

  #controlLine(command: string): void {
    this.#backend?.control.write(`${command}\n`);
  }

  // ---- the simulator's shape -----------------------------------------------------------------

  /** Bytes from the host. */
  receive(bytes: Uint8Array): void {
    if (this.#disposed || this.#link.pulled) return;
    this.#backend?.uart.write(bytes);
  }

  /** What the device writes towards the host; the first listener also gets what came before it. */
  onTransmit(listener: (chunk: string) => void): void {
    this.#tx.push(listener);
    for (const chunk of this.#heldTx.splice(0)) listener(chunk);
  }

  /** The firmware's events; the first listener also gets those that came before it. */
  onEvent(listener: (e: SimEvent) => void): void {
    this.#ev.push(listener);
    for (const e of this.#heldEv.splice(0)) listener(e);
  }

  /** A message for each firmware line that was not a valid event (and each refused control command). */
  onError(listener: (message: string) => void): void {
    this.#errors.push(listener);
  }

  /** Stop the firmware and every timer. */
  async dispose(): Promise<void> {
    this.#disposed = true;
    for (const t of this.#timers) t.unsubscribe();
    this.#timers.clear();
    await this.#backend?.stop();
  }

  // ---- FaultTarget -------------------------------------------------------------------------------

  cablePull(): void {
    this.#link.pulled = true;
  }

  reconnectCable(): void {
    this.#link.pulled = false;
  }

  reboot(): void {
    this.#controlLine('reboot');
  }

  dropReplies(n: number): void {
    this.#link.drop = n;
  }

  delayReplies(ms: number): void {
    this.#link.delayMs = ms;
  }

  corruptNextLines(n: number): void {
    this.#link.corrupt = n;
  }

  garbageFlood(bytes: number): void {
    if (bytes > MODEL.maxGarbageBytes) throw new RangeError(`garbageFlood: at most ${MODEL.maxGarbageBytes} bytes`);
    for (let done = 0; done < bytes; done += MODEL.garbageChunkBytes) {
      const n = Math.min(MODEL.garbageChunkBytes, bytes - done);
      const codes = Buffer.alloc(n);
      for (let i = 0; i < n; i++) codes[i] = int(this.#garbage, MODEL.garbageNewlineOneIn) === 0 ? 0x0a : int(this.#garbage, 256);
      this.#write(codes.toString('latin1'));
    }
  }

  setLoad(channel: number, load: number | 'OPEN'): void {
    if (!Number.isInteger(channel) || channel < 1 || channel > this.channelCount) throw new RangeError(`setLoad: channel ${channel} is not in 1..${this.channelCount}`);
    this.#controlLine(`load ${channel} ${load}`);
  }

  overcurrent(): void {
    this.#controlLine('overcurrent');
  }

  internalFault(): void {
    this.#controlLine('internal');
  }

  stageFail(n: number): void {
    this.#controlLine(`stage-fail ${n}`);
  }

  runAt(atMs: number, work: () => void): void {
    this.runAfter(this.#startedAt + atMs - this.#scheduler.now(), work);
  }

  runAfter(delayMs: number, work: () => void): void {
    if (this.#disposed) return;
    const sub = this.#scheduler.schedule(() => {
      this.#timers.delete(sub);
      if (!this.#disposed) work();
    }, Math.max(0, delayMs));
    this.#timers.add(sub);
  }
}

// ---- the host port: a child process, the UART on its fd 3 ----------------------------------------

function args(o: FirmwareOptions): string[] {
  return [
    ...(o.channels === undefined ? [] : ['--channels', String(o.channels)]),
    ...(o.seed === undefined ? [] : ['--seed', String(o.seed)]),
    ...(o.qmax === undefined ? [] : ['--qmax', String(o.qmax)]),
  ];
}

function exitedOf(child: ChildProcess, what: string): Promise<string> {
  return new Promise((resolve) => {
    child.once('error', (err) => resolve(`${what} could not be started: ${err.message}`));
    child.once('close', (code, signal) => resolve(`${what} exited (${signal ?? `code ${code}`})`));
  });
}

async function stopChild(child: ChildProcess, exited: Promise<string>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  }
}

function startHost(o: FirmwareOptions): Backend {
  // stdio[3] is a socket pair (node's 'pipe' on a POSIX system): the firmware's UART.
  const child = spawn(o.binary, ['--uart-fd', '3', ...args(o)], { stdio: ['pipe', 'pipe', 'inherit', 'pipe'] });
  const exited = exitedOf(child, 'the host-port firmware');
  const uart = child.stdio[3] as Duplex;
  return {
    uart,
    events: child.stdout!,
    control: child.stdin!,
    exited,
    stop: async () => {
      uart.destroy();
      await stopChild(child, exited);
    },
  };
}

// ---- the mps2-an385 image in QEMU: UART0 and UART1 on unix sockets ------------------------------

/** Listen on a unix socket in `dir` and resolve with the first connection. */
function accept(server: Server, path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    server.once('connection', resolve);
    server.once('error', reject);
    server.listen(path);
  });
}

async function startQemu(o: FirmwareOptions): Promise<Backend> {
  const dir = mkdtempSync(join(tmpdir(), 'edn-qemu-'));
  const uartPath = join(dir, 'uart0');
  const ctlPath = join(dir, 'uart1');
  const uartServer = createServer();
  const ctlServer = createServer();
  const uartConn = accept(uartServer, uartPath);
  const ctlConn = accept(ctlServer, ctlPath);
  await Promise.all([
    new Promise((r) => uartServer.once('listening', r)),
    new Promise((r) => ctlServer.once('listening', r)),
  ]);
  // The image's limits that a test narrows are passed in memory the firmware reads at reset (its
  // "board configuration"): QEMU's generic loader writes them before the CPU starts.
  const config = [
    `-device`, `loader,addr=0x20000000,data=${0x45444e31},data-len=4`,
    `-device`, `loader,addr=0x20000004,data=${o.qmax ?? 0},data-len=4`,
    `-device`, `loader,addr=0x20000008,data=${o.seed ?? MODEL.defaultSeed},data-len=4`,
    `-device`, `loader,addr=0x2000000c,data=${randomBytes(4).readUInt32LE(0)},data-len=4`,
  ];
  const child = spawn(
    o.qemu ?? 'qemu-system-arm',
    ['-M', 'mps2-an385', '-cpu', 'cortex-m3', '-display', 'none', '-monitor', 'none', '-nodefaults', '-kernel', o.binary, '-chardev', `socket,id=u0,path=${uartPath}`, '-chardev', `socket,id=u1,path=${ctlPath}`, '-serial', 'chardev:u0', '-serial', 'chardev:u1', ...config],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const exited = exitedOf(child, 'QEMU').then((why) => `${why}${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-3).join(' / ')}` : ''}`);
  const cleanup = () => {
    uartServer.close();
    ctlServer.close();
    rmSync(dir, { recursive: true, force: true });
  };
  let uart: Socket;
  let ctl: Socket;
  try {
    [uart, ctl] = await Promise.race([
      Promise.all([uartConn, ctlConn]),
      exited.then((why) => Promise.reject(new Error(why))),
    ]);
  } catch (err) {
    await stopChild(child, exited);
    cleanup();
    throw err;
  }
  return {
    uart,
    events: ctl,
    control: ctl,
    exited,
    stop: async () => {
      uart.destroy();
      ctl.destroy();
      await stopChild(child, exited);
      cleanup();
    },
  };
}
