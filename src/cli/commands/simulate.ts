/**
 * `edn simulate --pty`: the simulated stimulator as its own process, on a pseudo-terminal pair.
 *
 * socat makes the pair (src/cli/pty.ts). The simulator opens the DEVICE end with the real
 * `serialport` package (raw mode, non-blocking reads and writes on serialport's own poller: a tty
 * opened with node:fs would block a libuv thread on every read, and a tty.WriteStream writes
 * synchronously and could stall the event loop when nobody drains the other end). The HOST end
 * (and `--link PATH`, a symlink to it) is for the host, as if it were the stimulator's serial port.
 *
 * Output: readable log lines, or with `--json` one JSON object per line on stdout: `ready` first,
 * then every simulator event (src/simulator/types.ts, SimEvent), `injected` when a fault is
 * applied, and `error` for a control command it could not accept. Control commands are read from
 * stdin, one per line, in both modes. Without `--pty` it is a usage error: the wire protocol needs
 * a byte stream of its own, and stdout carries the log.
 */
import type { Readable } from 'node:stream';
import type { SchedulerLike } from 'rxjs';
import { SerialPort } from 'serialport';
import * as z from 'zod';
import { MAX_CHANNELS } from '../../../firmware-protocol/index.js';
import { monotonicScheduler } from '../../device/time.js';
import { DEFAULT_LIMITS, FAULT_SPEC_SYNTAX, SimulatedStimulator, applyFault, parseFaultSpec, type FaultSpec, type FaultTarget, type SimEvent } from '../../simulator/index.js';
import { type CliIO, type Command, EXIT, UsageError, parse, write } from '../command.js';
import { FirmwareDevice, type FirmwareKind, type FirmwareOptions } from '../firmware.js';
import { DEFAULT_BUILD_DIR, FirmwareBuildError, buildFirmware } from '../firmware-build.js';
import { PtyError, SOCAT_PACKAGE, openPtyPair, type PtyExit, type PtyPairOptions } from '../pty.js';

const USAGE = `Usage: edn simulate --pty [--firmware host|qemu] [--link PATH] [--json [--timestamps]]
                    [--fault SPEC]... [--channels N] [--seed N] [--qmax NC]

Run the simulated stimulator as its own process on a pseudo-terminal pair made by socat (Debian
package '${SOCAT_PACKAGE}'). A host opens the pair's host end, printed at start, exactly as it would
open the stimulator's serial port (115200 8N1); the simulator holds the other end. Runs until
SIGINT (Ctrl-C) or SIGTERM, then stops the simulator and socat and exits 0.

With --firmware, the device is the reference firmware in C (firmware-protocol/c) instead of the
TypeScript simulator: 'host' runs its POSIX port as a child process, 'qemu' runs its Cortex-M3
image (mps2-an385) in qemu-system-arm. It is built first if needed (make, into
firmware-protocol/c/build or EDN_FW_BUILD_DIR). Same options, events and control commands.

Options:
  --pty            required: create the pseudo-terminal pair (socat)
  --link PATH      also make the host end available at PATH (a symlink, removed at exit;
                   letters, digits and . _ / + @ - only)
  --json           machine-readable output: one JSON object per line on stdout (below)
  --timestamps     with --json, every object also carries "wallMs": when it was written, in
                   milliseconds since the Unix epoch from this process's high-resolution clock
                   (performance.timeOrigin + performance.now(), sub-millisecond), so another
                   process on the same machine can time it against its own such clock
  --fault SPEC     schedule a fault, T after start; repeatable. SPEC is one of:
${wrap(FAULT_SPEC_SYNTAX, 19, 100)}
  --firmware KIND  the device is the C firmware: host (a process) or qemu (Cortex-M3 in QEMU)
  --channels N     number of output channels, 1..${MAX_CHANNELS} (default 4; the qemu image has 4)
  --seed N         seed for load noise and injected garbage, 0..4294967295 (default 1)
  --qmax NC        the device's charge limit per phase, 1..${DEFAULT_LIMITS.qmax} nC (default ${DEFAULT_LIMITS.qmax}):
                   lower it to make a SET or AMP within the other limits answer CHARGE
  --help           this text

Output with --json (one object per line; 'ready' always comes first):
  {"event":"ready","path":"/dev/pts/N"[,"link":"PATH"]}   path: the end the HOST opens
  {"event":"boot","bootId":"0A1B2C3D"}
  {"event":"output","channel":1,"on":true,"amplitudeMa":4}  every output change
  {"event":"watchdog"}  {"event":"estop"}  {"event":"clear"}  {"event":"done","channel":1}
  {"event":"fault","channel":2,"code":"OPEN"}  {"event":"rejected","code":"BAD_CRC","line":"..."}
  {"event":"injected","fault":"reboot"}       a fault is applied now (from --fault or stdin);
                                              the events it causes follow
  {"event":"error","message":"..."}           a control command was refused; keeps running
Without --json the same events are printed as readable lines.

Control commands on stdin, one per line (both modes), as JSON or as a bare fault spec:
  {"fault":"reboot"}  {"fault":"cable-pull"}  {"fault":"reconnect"}  {"fault":"drop:3"}
  {"fault":"open:2"}  {"fault":"load:1:20000"}  {"fault":"garbage:4096"}  reboot  drop:3@2s
  The @T part is optional on stdin: without it the fault is applied at once, with it T from now.
  End of stdin does not stop the simulator. Like any program that reads the terminal, it is
  stopped (SIGTTIN) if run in the background of an interactive shell: add '< /dev/null' there.

Environment:
  EDN_SOCAT        the socat executable to run (default: socat on PATH)
  EDN_FW_BUILD_DIR where --firmware builds (default: firmware-protocol/c/build)
  EDN_QEMU         the QEMU executable for --firmware qemu (default: qemu-system-arm on PATH)

Exit codes: 0 stopped by a signal; 1 socat missing or failed, a port could not be opened, or the
firmware could not be built or started (or stopped by itself); 2 bad command line.

Example:
  edn simulate --pty --link /tmp/edn-sim --json --fault reboot@30s
  (a host then opens /tmp/edn-sim as its serial port)`;

/** The simulator's end of the pty, as the command uses it. */
export interface DeviceEnd {
  /** Write bytes (a latin1 string: one char per byte). */
  write(chunk: string): void;
  /** Bytes from the host. */
  onData(listener: (bytes: Uint8Array) => void): void;
  /** Called once if the end closes or fails on its own (not after close()). */
  onLost(listener: (why: string) => void): void;
  close(): Promise<void>;
}

/** The pty pair, as the command uses it (src/cli/pty.ts PtyPair satisfies it). */
export interface PtyLike {
  readonly hostPath: string;
  readonly devicePath: string;
  readonly linkPath?: string;
  readonly exited: Promise<PtyExit>;
  close(): Promise<PtyExit>;
}

/** What the command needs from the outside world; tests replace any of it. */
export interface SimulateDeps {
  /** Time for the simulator. Default: the monotonic real-time scheduler. */
  readonly scheduler: SchedulerLike;
  /** Wall-clock epoch ms at high resolution, for `--timestamps`. Default: performance.timeOrigin + performance.now(). */
  readonly wallClock: () => number;
  /** Control commands. Default: process.stdin. */
  readonly stdin: Readable;
  openPty(options: PtyPairOptions): Promise<PtyLike>;
  openDeviceEnd(path: string): Promise<DeviceEnd>;
  /** Build the firmware (`--firmware`); resolves with the built file first. */
  buildFirmware(kind: FirmwareKind, buildDir: string): Promise<string[]>;
  /** Start the firmware (`--firmware`). */
  startFirmware(options: FirmwareOptions): Promise<FirmwareDevice>;
}

/** The mps2-an385 image's channels (ports/mps2-an385: EDN_MAX_CHANNELS=4). */
const QEMU_CHANNELS = 4;

/** A control command on stdin (JSON form). */
const ControlCommand = z.strictObject({ fault: z.string().min(1).max(200) });

/** Longest control line accepted, in characters. */
const MAX_CONTROL_LINE = 1024;

/** The `simulate` subcommand; tests may replace its outside world. */
export function simulateCommand(overrides: Partial<SimulateDeps> = {}): Command {
  return {
    name: 'simulate',
    usage: USAGE,
    run: (argv, io) => runSimulate(argv, io, overrides),
  };
}

export async function runSimulate(argv: readonly string[], io: CliIO, overrides: Partial<SimulateDeps> = {}): Promise<number> {
  const { values, positionals } = parse(argv, {
    pty: { type: 'boolean' },
    link: { type: 'string' },
    json: { type: 'boolean' },
    timestamps: { type: 'boolean' },
    fault: { type: 'string', multiple: true },
    channels: { type: 'string' },
    seed: { type: 'string' },
    qmax: { type: 'string' },
    firmware: { type: 'string' },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  if (values.pty !== true) {
    throw new UsageError('--pty is required: the simulator runs on a pseudo-terminal pair (socat) that a host opens like a serial port');
  }
  if (values.timestamps === true && values.json !== true) throw new UsageError('--timestamps needs --json (it adds a field to each JSON line)');
  const channels = integerOption('--channels', values.channels, 1, MAX_CHANNELS) ?? 4;
  const seed = integerOption('--seed', values.seed, 0, 0xffffffff);
  const qmax = integerOption('--qmax', values.qmax, 1, DEFAULT_LIMITS.qmax);
  const firmware = values.firmware;
  if (firmware !== undefined && firmware !== 'host' && firmware !== 'qemu') {
    throw new UsageError(`--firmware must be 'host' or 'qemu', not '${firmware}'`);
  }
  if (firmware === 'qemu' && channels !== QEMU_CHANNELS) {
    throw new UsageError(`--firmware qemu: the mps2-an385 image is built for ${QEMU_CHANNELS} channels, not ${channels}`);
  }
  const faults: FaultSpec[] = [];
  for (const text of values.fault ?? []) {
    const parsed = parseFaultSpec(text, channels);
    if (!parsed.ok) throw new UsageError(parsed.error);
    faults.push(parsed.spec);
  }
  const deps: SimulateDeps = {
    scheduler: monotonicScheduler,
    wallClock: () => performance.timeOrigin + performance.now(),
    stdin: process.stdin,
    openPty: openPtyPair,
    openDeviceEnd: openSerialDeviceEnd,
    buildFirmware: (kind, dir) => buildFirmware(kind, dir),
    startFirmware: (options) => FirmwareDevice.start(options),
    ...overrides,
  };
  const out = new Output(io, values.json === true, deps.scheduler, values.timestamps === true ? deps.wallClock : undefined);

  // 0. The firmware build, when the device is the C firmware (make is incremental).
  let binary: string | undefined;
  if (firmware !== undefined) {
    try {
      [binary] = await deps.buildFirmware(firmware, io.env.EDN_FW_BUILD_DIR ?? DEFAULT_BUILD_DIR);
    } catch (err) {
      out.fatal(err instanceof FirmwareBuildError ? err.message : `cannot build the firmware: ${String(err)}`);
      return EXIT.failed;
    }
  }

  // 1. The pty pair.
  let pty: PtyLike;
  try {
    const socat = io.env.EDN_SOCAT;
    pty = await deps.openPty({ cwd: io.cwd, ...(values.link === undefined ? {} : { link: values.link }), ...(socat ? { socat } : {}) });
  } catch (err) {
    if (err instanceof PtyError && err.code === 'BAD_LINK') throw new UsageError(err.message);
    out.fatal(err instanceof PtyError ? err.message : `cannot create the pty pair: ${String(err)}`);
    return EXIT.failed;
  }

  // 2. The simulator's end of it.
  let device: DeviceEnd;
  try {
    device = await deps.openDeviceEnd(pty.devicePath);
  } catch (err) {
    await pty.close();
    out.fatal(`cannot open the device end ${pty.devicePath}: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT.failed;
  }

  // 3. The simulator (or the firmware), wired to it. Its events wait for the ready line.
  let ready = false;
  const early: (() => void)[] = [];
  const later = (f: () => void) => (ready ? f() : early.push(f));
  let sim: SimulatedStimulator | undefined;
  let fw: FirmwareDevice | undefined;
  let target: FaultTarget & { receive(bytes: Uint8Array): void };
  if (binary !== undefined && firmware !== undefined) {
    try {
      fw = await deps.startFirmware({
        kind: firmware,
        binary,
        scheduler: deps.scheduler,
        channels,
        ...(seed === undefined ? {} : { seed }),
        ...(qmax === undefined ? {} : { qmax }),
        ...(io.env.EDN_QEMU ? { qemu: io.env.EDN_QEMU } : {}),
      });
    } catch (err) {
      await device.close();
      await pty.close();
      out.fatal(`cannot start the ${firmware} firmware: ${err instanceof Error ? err.message : String(err)}`);
      return EXIT.failed;
    }
    fw.onTransmit((chunk) => device.write(chunk));
    fw.onEvent((e) => later(() => out.event(e)));
    fw.onError((message) => later(() => out.error(message)));
    target = fw;
  } else {
    sim = new SimulatedStimulator({ scheduler: deps.scheduler, channels, ...(seed === undefined ? {} : { seed }), ...(qmax === undefined ? {} : { limits: { qmax } }) });
    sim.onTransmit((chunk) => device.write(chunk));
    sim.onEvent((e) => out.event(e));
    target = sim;
  }
  device.onData((bytes) => target.receive(bytes));

  let stopping = false;
  let fatal: (why: string) => void = () => undefined;
  const failed = new Promise<string>((resolve) => {
    fatal = resolve;
  });
  device.onLost((why) => fatal(`the device end ${pty.devicePath} was lost: ${why}`));
  void pty.exited.then((exit) => {
    if (!stopping) fatal(`socat exited unexpectedly (${exit.signal ?? `code ${exit.code}`})`);
  });
  void fw?.exited.then((why) => {
    if (!stopping) fatal(`the firmware stopped by itself: ${why}`);
  });

  // `injected` is reported before the fault acts, so that it precedes the events it causes.
  const inject = (spec: FaultSpec, label: string): void => {
    out.injected(label);
    try {
      applyFault(target, spec.fault);
    } catch (err) {
      out.error(`fault '${label}' could not be applied: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const control = (line: string): void => {
    const result = parseControl(line, channels);
    if (!result.ok) {
      out.error(result.error);
      return;
    }
    const { spec, timed } = result;
    const label = spec.text.replace(/@0ms$/, '');
    if (timed) target.runAfter(spec.atMs, () => inject(spec, label));
    else inject(spec, label);
  };
  const stopControl = readLines(deps.stdin, control, (tooLong) => out.error(`control line longer than ${MAX_CONTROL_LINE} characters (${tooLong}) ignored`));

  // 4. Go: ready first, then the boot and everything after it.
  out.ready(pty);
  ready = true;
  for (const f of early.splice(0)) f();
  sim?.start();
  for (const spec of faults) target.runAt(spec.atMs, () => inject(spec, spec.text));

  const signal = io.signals;
  const aborted = new Promise<void>((resolve) => {
    if (signal === undefined) return;
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
  const why = await Promise.race([aborted.then(() => undefined), failed]);

  // 5. Shut down: simulator, stdin, device end, socat.
  stopping = true;
  stopControl();
  sim?.dispose();
  await fw?.dispose();
  await device.close();
  await pty.close();
  if (why !== undefined) {
    out.fatal(why);
    return EXIT.failed;
  }
  out.stopped();
  return EXIT.ok;
}

// ---- control commands -----------------------------------------------------------------------------

type ControlResult = { readonly ok: true; readonly spec: FaultSpec; readonly timed: boolean } | { readonly ok: false; readonly error: string };

/** One stdin line: `{"fault":"SPEC"}` or a bare SPEC, with `@T` optional. Never throws. */
export function parseControl(line: string, channels: number): ControlResult {
  let text: string;
  if (line.startsWith('{') || line.startsWith('[') || line.startsWith('"')) {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return { ok: false, error: `control command is not valid JSON: ${clip(line)}` };
    }
    const parsed = ControlCommand.safeParse(value);
    if (!parsed.success) {
      return { ok: false, error: `control command must be {"fault":"<spec>"}: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'command'}: ${i.message}`).join('; ')}` };
    }
    text = parsed.data.fault;
  } else {
    text = line;
  }
  const timed = text.includes('@');
  const parsed = parseFaultSpec(timed ? text : `${text}@0ms`, channels);
  if (!parsed.ok) return { ok: false, error: timed ? parsed.error : parsed.error.replace(`'${text}@0ms'`, `'${text}'`) };
  return { ok: true, spec: parsed.spec, timed };
}

/** Split a readable into trimmed non-empty lines; returns a function that stops listening. */
function readLines(input: Readable, onLine: (line: string) => void, onTooLong: (chars: number) => void): () => void {
  let partial = '';
  let skipping = 0;
  const onData = (chunk: Buffer | string) => {
    partial += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const length = skipping + nl;
      const line = partial.slice(0, nl).trim();
      partial = partial.slice(nl + 1);
      skipping = 0;
      if (length > MAX_CONTROL_LINE) onTooLong(length);
      else if (line) onLine(line);
    }
    if (partial.length > MAX_CONTROL_LINE) {
      skipping += partial.length;
      partial = '';
    }
  };
  const onError = () => undefined; // a closed stdin is not a reason to stop
  input.on('data', onData);
  input.on('error', onError);
  return () => {
    input.off('data', onData);
    input.off('error', onError);
    input.pause();
    const handle = input as Readable & { unref?: () => void };
    if (typeof handle.unref === 'function') handle.unref();
  };
}

// ---- output ---------------------------------------------------------------------------------------

class Output {
  readonly #t0: number;

  constructor(
    private readonly io: CliIO,
    private readonly json: boolean,
    private readonly scheduler: SchedulerLike,
    /** `--timestamps`: stamps each JSON line with "wallMs". */
    private readonly wallClock: (() => number) | undefined,
  ) {
    this.#t0 = scheduler.now();
  }

  ready(pty: PtyLike): void {
    if (this.json) {
      this.#json({ event: 'ready', path: pty.hostPath, ...(pty.linkPath === undefined ? {} : { link: pty.linkPath }) });
    } else {
      const link = pty.linkPath === undefined ? '' : ` (also at ${pty.linkPath})`;
      this.#log(`ready: a host opens ${pty.hostPath}${link} at 115200 8N1; the simulator holds ${pty.devicePath}. Ctrl-C stops.`);
    }
  }

  event(e: SimEvent): void {
    if (this.json) this.#json(e);
    else this.#log(describe(e));
  }

  injected(fault: string): void {
    if (this.json) this.#json({ event: 'injected', fault });
    else this.#log(`fault injected: ${fault}`);
  }

  /** A control command was refused: reported, and the simulator keeps running. */
  error(message: string): void {
    if (this.json) this.#json({ event: 'error', message });
    else write(this.io.stderr, `edn simulate: ${message}`);
  }

  /** The command cannot go on: always on stderr, and as an error event in --json mode. */
  fatal(message: string): void {
    write(this.io.stderr, `edn simulate: ${message}`);
    if (this.json) this.#json({ event: 'error', message, fatal: true });
  }

  stopped(): void {
    if (!this.json) this.#log('stopped');
  }

  #json(value: object): void {
    // Read the clock last, just before the write: the time the line left this process.
    write(this.io.stdout, JSON.stringify(this.wallClock === undefined ? value : { ...value, wallMs: this.wallClock() }));
  }

  #log(text: string): void {
    const s = ((this.scheduler.now() - this.#t0) / 1000).toFixed(3).padStart(9);
    write(this.io.stdout, `[${s} s] ${text}`);
  }
}

function describe(e: SimEvent): string {
  switch (e.event) {
    case 'output':
      return e.on ? `output ch${e.channel} ON  ${e.amplitudeMa.toFixed(3)} mA` : `output ch${e.channel} OFF`;
    case 'watchdog':
      return 'WATCHDOG: no valid frame within the window; every output off, host session ended';
    case 'estop':
      return 'ESTOP: every output off, latched';
    case 'clear':
      return 'CLEAR: latch released';
    case 'fault':
      return e.channel === 0 ? `FAULT ${e.code}: every output off, latched` : `FAULT ${e.code} on ch${e.channel}: output off`;
    case 'boot':
      return `boot: boot id ${e.bootId}`;
    case 'done':
      return `done: ch${e.channel} duration elapsed, output off`;
    case 'rejected':
      return `rejected ${e.code}: ${clip(e.line)}`;
  }
}

// ---- helpers --------------------------------------------------------------------------------------

function integerOption(name: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  if (!/^(0|[1-9][0-9]*)$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UsageError(`${name} must be an integer in ${min}..${max}, not '${text}'`);
  }
  return Number(text);
}

/** Re-flow space-separated items (split at runs of 2+ spaces) into lines of at most `width`. */
function wrap(text: string, margin: number, width: number): string {
  const items = text.split(/\s{2,}|\n/).filter((i) => i.length > 0);
  const lines: string[] = [];
  let line = '';
  for (const item of items) {
    if (line && margin + line.length + 2 + item.length > width) {
      lines.push(line);
      line = '';
    }
    line = line ? `${line}  ${item}` : item;
  }
  if (line) lines.push(line);
  return lines.map((l) => `${' '.repeat(margin)}${l}`).join('\n');
}

function clip(text: string, max = 80): string {
  const shown = JSON.stringify(text);
  return shown.length > max ? `${shown.slice(0, max)}...` : shown;
}

/** Open the simulator's end of the pty with the serialport package (raw, 115200 8N1). */
export async function openSerialDeviceEnd(path: string): Promise<DeviceEnd> {
  const port = new SerialPort({ path, baudRate: 115_200, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  let closing = false;
  let lost: (why: string) => void = () => undefined;
  port.on('error', (err: Error) => {
    if (!closing) lost(err.message);
  });
  port.on('close', () => {
    if (!closing) lost('closed');
  });
  return {
    write: (chunk) => {
      if (!closing) port.write(Buffer.from(chunk, 'latin1'));
    },
    onData: (listener) => port.on('data', listener),
    onLost: (listener) => {
      lost = listener;
    },
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        if (!port.isOpen) {
          resolve();
          return;
        }
        port.close(() => resolve());
      }),
  };
}
