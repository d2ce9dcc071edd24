/**
 * `edn simulate` with its outside world replaced: a fake pty pair and device end, stdin as a
 * PassThrough, and virtual time, around the REAL simulator. The real socat and serial port are in
 * test/integration/pty-simulator.test.ts.
 */
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { decodeDeviceLine, encode, type DeviceToHost, type Request } from '../../../firmware-protocol/index.js';
import type { CliIO } from '../../../src/cli/command.js';
import { parseControl, runSimulate, type DeviceEnd, type PtyLike, type SimulateDeps } from '../../../src/cli/commands/simulate.js';
import { COMMANDS, main } from '../../../src/cli/main.js';
import type { PtyExit } from '../../../src/cli/pty.js';
import { ManualScheduler } from '../../support/virtual-time.js';

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
  get lines(): string[] {
    return this.text.split('\n').filter((l) => l.length > 0);
  }
}

class FakePty implements PtyLike {
  readonly hostPath = '/dev/pts/98';
  readonly devicePath = '/dev/pts/99';
  readonly linkPath?: string;
  closed = false;
  readonly exited: Promise<PtyExit>;
  exit: (e: PtyExit) => void = () => undefined;
  constructor(link?: string) {
    if (link !== undefined) this.linkPath = link;
    this.exited = new Promise((resolve) => {
      this.exit = resolve;
    });
  }
  close(): Promise<PtyExit> {
    this.closed = true;
    this.exit({ code: 143, signal: null });
    return this.exited;
  }
}

class FakeDeviceEnd implements DeviceEnd {
  written = '';
  closed = false;
  #data: (bytes: Uint8Array) => void = () => undefined;
  #lost: (why: string) => void = () => undefined;
  write(chunk: string): void {
    this.written += chunk;
  }
  onData(listener: (bytes: Uint8Array) => void): void {
    this.#data = listener;
  }
  onLost(listener: (why: string) => void): void {
    this.#lost = listener;
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
  /** The host sends a request. */
  send(request: Request): void {
    this.#data(Buffer.from(`${encode(request)}\n`, 'latin1'));
  }
  lose(why: string): void {
    this.#lost(why);
  }
  /** Every line the simulator wrote, decoded. */
  messages(): DeviceToHost[] {
    return this.written
      .split('\n')
      .filter((l) => l.length > 0)
      .flatMap((l) => {
        const d = decodeDeviceLine(l);
        return d.ok ? [d.message] : [];
      });
  }
}

interface Rig {
  readonly io: CliIO;
  readonly stdout: Sink;
  readonly stderr: Sink;
  readonly stdin: PassThrough;
  readonly scheduler: ManualScheduler;
  readonly pty: FakePty;
  readonly device: FakeDeviceEnd;
  readonly abort: AbortController;
  readonly deps: Partial<SimulateDeps>;
  /** stdout lines parsed as JSON. */
  json(): Record<string, unknown>[];
}

function rig(options: { link?: string; env?: Record<string, string> } = {}): Rig {
  const stdout = new Sink();
  const stderr = new Sink();
  const stdin = new PassThrough();
  const scheduler = new ManualScheduler();
  const pty = new FakePty(options.link);
  const device = new FakeDeviceEnd();
  const abort = new AbortController();
  const io: CliIO = { stdout, stderr, cwd: '/tmp', env: options.env ?? {}, signals: abort.signal };
  const deps: Partial<SimulateDeps> = {
    scheduler,
    stdin,
    openPty: () => Promise.resolve(pty),
    openDeviceEnd: () => Promise.resolve(device),
  };
  return { io, stdout, stderr, stdin, scheduler, pty, device, abort, deps, json: () => stdout.lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

/** Let pending promise callbacks and stream events run (bounded; no timers involved). */
async function settle(until: () => boolean = () => false, turns = 50): Promise<void> {
  for (let i = 0; i < turns && !until(); i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

const HELLO: Request = { type: 'request', seq: 1, verb: 'HELLO', args: { vmin: 1, vmax: 1 } };
const SET1: Request = { type: 'request', seq: 2, verb: 'SET', args: { ch: 1, mode: 'CONT', f: 2000, pw: 250, wf: 'SYM', amp: 4000, dur: 1200, ramp: 1000 } };
const START1: Request = { type: 'request', seq: 3, verb: 'START', args: { ch: 1 } };

describe('edn simulate: command line', () => {
  function io(env: Record<string, string> = {}) {
    const stdout = new Sink();
    const stderr = new Sink();
    return { stdout, stderr, io: { stdout, stderr, cwd: '/tmp', env } satisfies CliIO };
  }

  it('is registered and has complete --help', async () => {
    expect(COMMANDS.map((c) => c.name)).toContain('simulate');
    const { stdout, io: cli } = io();
    expect(await main(['simulate', '--help'], cli)).toBe(0);
    for (const word of ['--pty', '--firmware KIND', '--qmax NC', 'stage-fail:N@T', 'EDN_FW_BUILD_DIR', '--link PATH', '--json', '--fault SPEC', '--channels N', '--seed N', 'reboot@T', 'drop:N@T', 'cable-pull', '"event":"ready"', '"event":"output"', '"event":"error"', '{"fault":"reboot"}', "Debian\npackage 'socat'", 'EDN_SOCAT', 'Exit codes']) {
      expect(stdout.text.replace(/ +/g, ' ')).toContain(word.replace(/ +/g, ' '));
    }
    expect(Math.max(...stdout.text.split('\n').map((l) => l.length))).toBeLessThanOrEqual(100);
  });

  it.each([
    [[], /--pty is required/],
    [['--json'], /--pty is required/],
    [['--pty', 'extra'], /unexpected argument 'extra'/],
    [['--pty', '--bogus'], /bogus/],
    [['--pty', '--channels', '9'], /--channels must be an integer in 1\.\.8/],
    [['--pty', '--channels', '2', '--fault', 'open:3@1s'], /'3' is not a channel \(1\.\.2\)/],
    [['--pty', '--seed', '4294967296'], /--seed must be an integer in 0\.\.4294967295/],
    [['--pty', '--fault', 'reboot'], /missing '@<time>'/],
    [['--pty', '--fault', 'explode@1s'], /unknown fault 'explode'/],
    [['--pty', '--link', '/tmp/a,b'], /link path '\/tmp\/a,b'/],
    [['--pty', '--firmware', 'arduino'], /--firmware must be 'host' or 'qemu', not 'arduino'/],
    [['--pty', '--firmware', 'qemu', '--channels', '2'], /built for 4 channels, not 2/],
    [['--pty', '--qmax', '0'], /--qmax must be an integer in 1\.\.12000/],
    [['--pty', '--qmax', '12001'], /--qmax must be an integer in 1\.\.12000/],
    [['--pty', '--fault', 'stage-fail:0@1s'], /'0' is not a count/],
    [['--pty', '--timestamps'], /--timestamps needs --json/],
  ])('refuses %j as a usage error (exit 2)', async (argv, message) => {
    const { stderr, io: cli } = io();
    expect(await main(['simulate', ...argv], cli)).toBe(2);
    expect(stderr.text).toMatch(message);
    expect(stderr.text).toContain('Usage: edn simulate');
  });

  it('exits 1 naming the Debian package when socat is missing', async () => {
    const { stdout, stderr, io: cli } = io({ EDN_SOCAT: '/nonexistent/socat' });
    expect(await main(['simulate', '--pty', '--json'], cli)).toBe(1);
    expect(stderr.text).toMatch(/socat is not installed.*Debian package 'socat'/);
    expect(JSON.parse(stdout.text)).toMatchObject({ event: 'error', fatal: true, message: expect.stringContaining("'socat'") as unknown });
  });
});

describe('edn simulate: running', () => {
  it('--qmax gives the simulated device a smaller charge limit, so that CHARGE can be provoked', async () => {
    const r = rig();
    const run = runSimulate(['--pty', '--json', '--qmax', '3000'], r.io, r.deps);
    await settle(() => r.stdout.lines.length >= 2);
    r.device.send(HELLO);
    r.device.send({ ...SET1, args: { ...SET1.args, amp: 20_000, pw: 250 } });
    const [hello, set] = r.device.messages().slice(1);
    expect(hello).toMatchObject({ type: 'ok', verb: 'HELLO', args: { qmax: 3000 } });
    expect(set).toMatchObject({ type: 'err', args: { code: 'CHARGE', msg: 'amp x pw 5000 nC above qmax 3000 nC' } });
    r.abort.abort();
    expect(await run).toBe(0);
  });

  it('--firmware: a failed build is reported and exits 1 before any pty is made', async () => {
    const r = rig({ env: { EDN_FW_BUILD_DIR: '/tmp/edn-fw-unit' } });
    let dir = '';
    const deps: Partial<SimulateDeps> = {
      ...r.deps,
      buildFirmware: (_kind, buildDir) => {
        dir = buildDir;
        return Promise.reject(new Error('make: arm-none-eabi-gcc: not found'));
      },
      openPty: () => Promise.reject(new Error('must not be called')),
    };
    expect(await runSimulate(['--pty', '--json', '--firmware', 'qemu'], r.io, deps)).toBe(1);
    expect(dir).toBe('/tmp/edn-fw-unit');
    expect(r.json()).toEqual([{ event: 'error', fatal: true, message: expect.stringContaining('arm-none-eabi-gcc: not found') as unknown }]);
  });

  it('prints ready first, then every simulator event, and answers the host on the device end', async () => {
    const r = rig();
    const run = runSimulate(['--pty', '--json', '--seed', '7'], r.io, r.deps);
    await settle(() => r.stdout.lines.length >= 2);
    expect(r.json()).toEqual([{ event: 'ready', path: '/dev/pts/98' }, { event: 'boot', bootId: expect.stringMatching(/^[0-9A-F]{8}$/) as unknown }]);
    const bootId = r.json()[1]!.bootId;
    expect(r.device.messages()).toEqual([{ type: 'event', event: 'BOOT', args: { boot: bootId, proto: 1 } }]);

    r.device.send(HELLO);
    r.device.send(SET1);
    r.device.send(START1);
    expect(r.device.messages().slice(1).map((m) => (m.type === 'ok' ? m.verb : m.type))).toEqual(['HELLO', 'SET', 'START']);
    expect(r.json().slice(2)).toEqual([{ event: 'output', channel: 1, on: true, amplitudeMa: 0 }]);

    r.scheduler.advance(500);
    expect(r.json().at(-1)).toMatchObject({ event: 'output', channel: 1, on: true });
    r.scheduler.advance(520); // 1020 ms after the last frame: the watchdog has tripped
    expect(r.json().slice(-2)).toEqual([
      { event: 'watchdog' },
      { event: 'output', channel: 1, on: false, amplitudeMa: 0 },
    ]);
    expect(r.device.messages().at(-1)).toEqual({ type: 'event', event: 'WDOG', args: {} });

    r.abort.abort();
    expect(await run).toBe(0);
    expect([r.device.closed, r.pty.closed]).toEqual([true, true]);
    const printed = r.stdout.text;
    const written = r.device.written;
    r.scheduler.advance(10_000); // disposed: nothing more happens
    expect([r.stdout.text, r.device.written]).toEqual([printed, written]);
    expect(r.stdin.listenerCount('data')).toBe(0);
    expect(r.stderr.text).toBe('');
  });

  it('--timestamps stamps every JSON line with the wall clock read as it is written (the e-stop bench times the device against the page by it)', async () => {
    const r = rig();
    let now = 1_764_800_000_000.25;
    const run = runSimulate(['--pty', '--json', '--timestamps'], r.io, { ...r.deps, wallClock: () => now });
    await settle(() => r.stdout.lines.length >= 2);
    expect(r.json()).toEqual([
      { event: 'ready', path: '/dev/pts/98', wallMs: 1_764_800_000_000.25 },
      { event: 'boot', bootId: expect.stringMatching(/^[0-9A-F]{8}$/) as unknown, wallMs: 1_764_800_000_000.25 },
    ]);
    r.device.send(HELLO);
    r.device.send(SET1);
    r.device.send(START1);
    now += 12.5;
    r.device.send({ type: 'request', seq: 4, verb: 'ESTOP', args: {} });
    expect(r.json().slice(-2)).toEqual([
      { event: 'estop', wallMs: 1_764_800_000_012.75 },
      { event: 'output', channel: 1, on: false, amplitudeMa: 0, wallMs: 1_764_800_000_012.75 },
    ]);
    r.abort.abort();
    expect(await run).toBe(0);
  });

  it('writes no wallMs without --timestamps', async () => {
    const r = rig();
    const run = runSimulate(['--pty', '--json'], r.io, { ...r.deps, wallClock: () => 1 });
    await settle(() => r.stdout.lines.length >= 2);
    expect(r.json().every((e) => !('wallMs' in e))).toBe(true);
    expect(r.json()).toHaveLength(2);
    r.abort.abort();
    expect(await run).toBe(0);
  });

  it('adds the link to the ready line', async () => {
    const r = rig({ link: '/tmp/edn-sim' });
    const run = runSimulate(['--pty', '--json', '--link', '/tmp/edn-sim'], r.io, r.deps);
    await settle(() => r.stdout.lines.length >= 1);
    expect(r.json()[0]).toEqual({ event: 'ready', path: '/dev/pts/98', link: '/tmp/edn-sim' });
    r.abort.abort();
    expect(await run).toBe(0);
  });

  it('schedules --fault specs relative to start and reports them before their effects', async () => {
    const r = rig();
    const run = runSimulate(['--pty', '--json', '--fault', 'reboot@2s', '--fault', 'garbage:100@3s'], r.io, r.deps);
    await settle(() => r.stdout.lines.length >= 2);
    r.scheduler.advance(1999);
    expect(r.json().map((e) => e.event)).toEqual(['ready', 'boot']);
    r.scheduler.advance(1);
    expect(r.json().slice(2)).toEqual([{ event: 'injected', fault: 'reboot@2s' }, { event: 'boot', bootId: expect.any(String) as unknown }]);
    expect(r.json()[3]!.bootId).not.toBe(r.json()[1]!.bootId);
    const before = r.device.written.length;
    r.scheduler.advance(1000);
    expect(r.json().at(-1)).toEqual({ event: 'injected', fault: 'garbage:100@3s' });
    expect(r.device.written.length - before).toBe(100);
    r.abort.abort();
    expect(await run).toBe(0);
  });

  it('takes control commands on stdin and answers bad ones with an error event, without stopping', async () => {
    const r = rig();
    const run = runSimulate(['--pty', '--json', '--channels', '2'], r.io, r.deps);
    await settle(() => r.stdout.lines.length >= 2);
    const since = r.stdout.lines.length;
    const sendAndSettle = async (text: string) => {
      const n = r.stdout.lines.length;
      r.stdin.write(text);
      await settle(() => r.stdout.lines.length > n);
    };
    await sendAndSettle('{"fault":"reboot"}\n');
    await sendAndSettle('not json\n');
    await sendAndSettle('{"fault":"reboot"\n');
    await sendAndSettle('{"fault":1}\n');
    await sendAndSettle('{"fault":"reboot","at":1}\n');
    await sendAndSettle('[1,2]\n');
    await sendAndSettle('{"fault":"open:3"}\n');
    await sendAndSettle('{"fault":"drop:0"}\n');
    await sendAndSettle(`${'x'.repeat(3000)}\n`);
    await sendAndSettle('  drop:3  \n\n');
    await sendAndSettle('{"fault":"load:1:20000"}\n');
    await sendAndSettle('{"fault":"cable-pull"}\n{"fault":"reconnect"}\n');
    const events = r.json().slice(since);
    expect(events.map((e) => (e.event === 'error' ? `error: ${String(e.message)}` : e.event === 'injected' ? `injected ${String(e.fault)}` : String(e.event)))).toEqual([
      'injected reboot',
      'boot',
      "error: fault 'not json': unknown fault 'not json'; known: reboot, drop, delay, open, load, cable-pull, reconnect, corrupt, garbage, overcurrent, internal, stage-fail",
      'error: control command is not valid JSON: "{\\"fault\\":\\"reboot\\""',
      'error: control command must be {"fault":"<spec>"}: fault: Invalid input: expected string, received number',
      'error: control command must be {"fault":"<spec>"}: command: Unrecognized key: "at"',
      'error: control command must be {"fault":"<spec>"}: command: Invalid input: expected object, received array',
      "error: fault 'open:3': '3' is not a channel (1..2)",
      "error: fault 'drop:0': '0' is not a count (1 or more)",
      'error: control line longer than 1024 characters (3000) ignored',
      'injected drop:3',
      'injected load:1:20000',
      'injected cable-pull',
      'injected reconnect',
    ]);
    const snapshotBefore = r.stdout.lines.length;
    // A timed command: T from now.
    r.stdin.write('{"fault":"reboot@500ms"}\n');
    await settle();
    expect(r.stdout.lines.length).toBe(snapshotBefore);
    r.scheduler.advance(500);
    expect(r.json().slice(snapshotBefore).map((e) => e.event)).toEqual(['injected', 'boot']);
    r.stdin.end(); // end of stdin does not stop it
    await settle();
    expect(r.abort.signal.aborted).toBe(false);
    r.abort.abort();
    expect(await run).toBe(0);
    expect(r.stdout.lines.every((l) => typeof (JSON.parse(l) as { event?: unknown }).event === 'string')).toBe(true);
  });

  it('prints readable lines without --json', async () => {
    const r = rig({ link: '/tmp/edn-sim' });
    const run = runSimulate(['--pty', '--link', '/tmp/edn-sim'], r.io, r.deps);
    await settle(() => r.stdout.lines.length >= 2);
    r.device.send(HELLO);
    r.device.send(SET1);
    r.device.send(START1);
    r.device.send({ type: 'request', seq: 4, verb: 'ESTOP', args: {} });
    r.device.send({ type: 'request', seq: 5, verb: 'CLEAR', args: {} });
    r.stdin.write('reboot\nexplode\n');
    await settle(() => r.stderr.text.length > 0);
    r.abort.abort();
    expect(await run).toBe(0);
    const text = r.stdout.lines.map((l) => l.replace(/^\[ *[0-9.]+ s\] /, ''));
    expect(text[0]).toBe('ready: a host opens /dev/pts/98 (also at /tmp/edn-sim) at 115200 8N1; the simulator holds /dev/pts/99. Ctrl-C stops.');
    expect(text).toEqual([
      text[0],
      expect.stringMatching(/^boot: boot id [0-9A-F]{8}$/),
      'output ch1 ON  0.000 mA',
      'ESTOP: every output off, latched',
      'output ch1 OFF',
      'CLEAR: latch released',
      'fault injected: reboot',
      expect.stringMatching(/^boot: boot id [0-9A-F]{8}$/),
      'stopped',
    ]);
    expect(r.stdout.lines[0]).toMatch(/^\[ {4}0\.000 s\] /);
    expect(r.stderr.text).toBe("edn simulate: fault 'explode': unknown fault 'explode'; known: reboot, drop, delay, open, load, cable-pull, reconnect, corrupt, garbage, overcurrent, internal, stage-fail\n");
  });

  it('exits 1 when socat dies or the device end is lost, cleaning up', async () => {
    const a = rig();
    const runA = runSimulate(['--pty', '--json'], a.io, a.deps);
    await settle(() => a.stdout.lines.length >= 2);
    a.pty.exit({ code: 1, signal: null });
    expect(await runA).toBe(1);
    expect(a.stderr.text).toBe('edn simulate: socat exited unexpectedly (code 1)\n');
    expect(a.json().at(-1)).toEqual({ event: 'error', message: 'socat exited unexpectedly (code 1)', fatal: true });
    expect([a.device.closed, a.pty.closed]).toEqual([true, true]);

    const b = rig();
    const runB = runSimulate(['--pty'], b.io, b.deps);
    await settle(() => b.stdout.lines.length >= 2);
    b.device.lose('EIO');
    expect(await runB).toBe(1);
    expect(b.stderr.text).toBe('edn simulate: the device end /dev/pts/99 was lost: EIO\n');
    expect([b.device.closed, b.pty.closed]).toEqual([true, true]);
  });

  it('exits 1 when the device end cannot be opened, closing the pty', async () => {
    const r = rig();
    const code = await runSimulate(['--pty'], r.io, { ...r.deps, openDeviceEnd: () => Promise.reject(new Error('Permission denied')) });
    expect(code).toBe(1);
    expect(r.stderr.text).toBe('edn simulate: cannot open the device end /dev/pts/99: Permission denied\n');
    expect(r.pty.closed).toBe(true);
    expect(r.stdout.text).toBe('');
  });

  it('stops at once when the signal was already raised', async () => {
    const r = rig();
    r.abort.abort();
    expect(await runSimulate(['--pty', '--json'], r.io, r.deps)).toBe(0);
    expect(r.json().map((e) => e.event)).toEqual(['ready', 'boot']);
    expect([r.device.closed, r.pty.closed]).toEqual([true, true]);
  });
});

describe('parseControl', () => {
  it('takes JSON or a bare spec, with the time optional', () => {
    expect(parseControl('{"fault":"reboot"}', 4)).toMatchObject({ ok: true, timed: false, spec: { fault: { kind: 'reboot' }, atMs: 0 } });
    expect(parseControl('drop:3', 4)).toMatchObject({ ok: true, timed: false, spec: { fault: { kind: 'drop', count: 3 } } });
    expect(parseControl('{"fault":"load:1:20000@1.5s"}', 4)).toMatchObject({ ok: true, timed: true, spec: { atMs: 1500, fault: { kind: 'load', channel: 1, ohms: 20000 } } });
    expect(parseControl('garbage:4096', 4)).toMatchObject({ ok: true, spec: { fault: { kind: 'garbage', bytes: 4096 } } });
    expect(parseControl('{"fault":"open:5"}', 4)).toEqual({ ok: false, error: "fault 'open:5': '5' is not a channel (1..4)" });
    expect(parseControl('"reboot"', 4)).toMatchObject({ ok: false, error: expect.stringMatching(/must be \{"fault"/) as unknown });
    expect(parseControl('{"fault":""}', 4)).toMatchObject({ ok: false });
  });
});
