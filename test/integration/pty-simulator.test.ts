/**
 * The simulator as its own process (`edn simulate --pty --json`) on a socat pseudo-terminal pair,
 * driven by a host that opens the other end with the REAL `serialport` package and reads it through
 * the capped line reader. Real time and real processes: every wait is for a specific line or event
 * with a bounded deadline (never a fixed sleep), and afterEach checks that no process or port is
 * left. Missing socat makes these tests FAIL: CI installs the Debian package.
 */
import { mkdtemp, readlink, rm } from 'node:fs/promises';
import { existsSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setReadbackCrc, type SetArgs } from '../../firmware-protocol/index.js';
import { openPtyPair, type PtyPair } from '../../src/cli/pty.js';
import { MAX_BUFFERED_BYTES } from '../../src/device/line-reader.js';
import { closeAllHostPorts, openHostPort, requireSocat, type HostLine, type HostPort } from '../support/pty.js';
import { startSimulator, stopAllSimulators, type SimJsonEvent, type SimProcess } from '../support/sim-process.js';

const PROGRAM = (ch: number, amp: number): SetArgs => ({ ch, mode: 'CONT', f: 2000, pw: 250, wf: 'SYM', amp, dur: 1200, ramp: 1000 });

const pairs: PtyPair[] = [];
const tempDirs: string[] = [];

beforeAll(() => requireSocat());

afterEach(async () => {
  await closeAllHostPorts();
  await Promise.all(pairs.splice(0).map((p) => p.close()));
  await stopAllSimulators(); // throws if a simulator did not exit 0 or left a process behind
  await Promise.all(tempDirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** Start a simulator, open its host end, and do the handshake. */
async function connect(args: readonly string[] = ['--seed', '7']): Promise<{ sim: SimProcess; port: HostPort; bootId: string }> {
  const sim = await startSimulator({ args });
  const boot = await sim.nextEvent({ event: 'boot' });
  const port = await openHostPort(sim.path);
  const hello = await port.ok('HELLO', { vmin: 1, vmax: 1 });
  expect(hello.boot).toBe(boot.bootId);
  return { sim, port, bootId: String(boot.bootId) };
}

const isOutput = (channel: number, on: boolean, amplitudeMa?: number) => (e: SimJsonEvent) =>
  e.event === 'output' && e.channel === channel && e.on === on && (amplitudeMa === undefined || e.amplitudeMa === amplitudeMa);

describe('edn simulate --pty over a real serial port', () => {
  it('runs a handshake, SET, START, AMP, STOP, ESTOP and CLEAR', async () => {
    const sim = await startSimulator({ args: ['--seed', '7'] });
    expect(sim.events.items[0]).toEqual({ event: 'ready', path: sim.path });
    expect(sim.path).toMatch(/^\/dev\/pts\/\d+$/);
    const boot = await sim.nextEvent({ event: 'boot' });
    expect(boot.bootId).toMatch(/^[0-9A-F]{8}$/);

    const port = await openHostPort(sim.path);
    const hello = await port.ok('HELLO', { vmin: 1, vmax: 3 });
    expect(hello).toMatchObject({ proto: 1, model: 'EDN-SIM4', sn: 'SIM-00000007', boot: boot.bootId, ch: 4, amax: 20000, wdog: 1000 });
    port.heartbeat(250);

    // SET: the reply's read-back CRC is that of the program the host sent.
    const program = PROGRAM(1, 1000);
    expect(await port.ok('SET', program)).toEqual({ ch: 1, crc: setReadbackCrc(program) });

    // START: output on at 0 mA, rising at 1 mA/s to 1 mA; telemetry flows.
    expect(await port.ok('START', { ch: 1 })).toEqual({ ch: 1 });
    await sim.nextEvent(isOutput(1, true, 0), 'output ch1 on at 0 mA');
    await sim.nextEvent(isOutput(1, true, 1), 'output ch1 reaching 1 mA');
    const tel = await port.nextEvent('TEL', (t) => t.args.ch === 1 && t.args.i > 0);
    expect(tel.args.z).toBeGreaterThan(1000);

    // AMP down: immediate.
    expect(await port.ok('AMP', { ch: 1, amp: 500 })).toEqual({ ch: 1, amp: 500 });
    await sim.nextEvent(isOutput(1, true, 0.5), 'output ch1 at 0.5 mA');

    // STOP: off at once.
    expect(await port.ok('STOP', { ch: 1 })).toEqual({ ch: 1 });
    await sim.nextEvent(isOutput(1, false, 0), 'output ch1 off');

    // ESTOP: everything off, latched; START refused while latched; CLEAR releases.
    await port.ok('SET', PROGRAM(2, 2000));
    await port.ok('START', { ch: 2 });
    await sim.nextEvent(isOutput(2, true), 'output ch2 on');
    expect(await port.ok('ESTOP', {})).toEqual({ latched: true });
    await sim.nextEvent({ event: 'estop' });
    await sim.nextEvent(isOutput(2, false, 0), 'output ch2 off after ESTOP');
    const refused = await port.call('SET', PROGRAM(2, 2000));
    expect(refused.type === 'err' && refused.args.code).toBe('LATCHED');
    expect(await port.ok('CLEAR', {})).toEqual({ latched: false });
    await sim.nextEvent({ event: 'clear' });
    expect(await port.ok('SET', PROGRAM(2, 2000))).toEqual({ ch: 2, crc: setReadbackCrc(PROGRAM(2, 2000)) });

    expect(port.lines.items.filter((l) => !l.decoded.ok)).toEqual([]);
    expect(port.errors).toEqual([]);
    expect(sim.nonJson).toEqual([]);
    await port.close();
  });

  it('trips the watchdog when the host goes quiet: outputs off, ! WDOG, session ended', async () => {
    const { sim, port } = await connect();
    await port.ok('SET', PROGRAM(3, 3000));
    const stopHeartbeat = port.heartbeat(250);
    await port.ok('START', { ch: 3 });
    const startedAt = performance.now();
    await sim.nextEvent(isOutput(3, true, 0), 'output ch3 on');
    // Heartbeats keep it alive past a whole window...
    const isHbReply = (l: HostLine) => l.decoded.ok && l.decoded.message.type === 'ok' && l.decoded.message.verb === 'HB';
    await port.lines.next((l) => isHbReply(l) && performance.now() - startedAt > 1500, 'an HB reply 1.5 s after START');
    expect(sim.events.items.filter((e) => e.event === 'watchdog')).toEqual([]);
    expect(port.lines.items.filter((l) => l.decoded.ok && l.decoded.message.type === 'event' && l.decoded.message.event === 'WDOG')).toEqual([]);
    // ...then silence.
    stopHeartbeat();
    const lastFrameAt = performance.now();
    const seq = port.request('STATUS', {});
    await port.lines.next((l) => l.decoded.ok && l.decoded.message.type === 'ok' && l.decoded.message.seq === seq, 'the STATUS reply');
    const wdog = await port.nextEvent('WDOG', () => true, 5000);
    const quietMs = performance.now() - lastFrameAt;
    expect(wdog.args).toEqual({});
    expect(quietMs).toBeGreaterThanOrEqual(1000);
    expect(quietMs).toBeLessThan(4000);
    await sim.nextEvent({ event: 'watchdog' });
    // The output-off line may arrive in a later chunk than the watchdog's: wait for it.
    await sim.nextEvent(isOutput(3, false, 0));
    const hb = await port.call('HB', {});
    expect(hb.type === 'err' && hb.args.code).toBe('NO_HELLO');
    await port.close();
  });

  it('applies stdin control faults: reboot gives ! BOOT with a new boot id; bad commands are answered, not fatal', async () => {
    const { sim, port, bootId } = await connect();
    sim.events.skipAll();

    sim.control('this is not json {');
    expect((await sim.nextEvent({ event: 'error' })).message).toMatch(/unknown fault|not valid JSON/);
    sim.control({ fault: 'explode' });
    expect((await sim.nextEvent({ event: 'error' })).message).toMatch(/unknown fault 'explode'/);
    sim.control({ fault: 'reboot', extra: 1 });
    expect((await sim.nextEvent({ event: 'error' })).message).toMatch(/must be \{"fault"/);
    sim.control({ fault: 'open:9' });
    expect((await sim.nextEvent({ event: 'error' })).message).toMatch(/channel/);

    sim.control({ fault: 'reboot' });
    await sim.nextEvent({ event: 'injected', fault: 'reboot' });
    const boot = await sim.nextEvent({ event: 'boot' });
    expect(boot.bootId).not.toBe(bootId);
    const line = await port.nextEvent('BOOT');
    expect(line.args).toEqual({ boot: boot.bootId, proto: 1 });
    // A rebooted device has no host session.
    const hb = await port.call('HB', {});
    expect(hb.type === 'err' && hb.args.code).toBe('NO_HELLO');
    expect((await port.ok('HELLO', { vmin: 1, vmax: 1 })).boot).toBe(boot.bootId);

    // drop:1 loses the next reply (the device executed the request).
    sim.control({ fault: 'drop:1' });
    await sim.nextEvent({ event: 'injected', fault: 'drop:1' });
    const dropped = port.request('STATUS', {});
    const next = await port.call('HB', {}); // answered after STATUS was read: its reply was the one dropped
    expect(next.type).toBe('ok');
    expect(port.lines.items.filter((l) => l.decoded.ok && l.decoded.message.type !== 'event' && l.decoded.message.seq === dropped)).toEqual([]);
    port.heartbeat(250);

    // garbage:N reaches the host as junk the capped reader survives (its unterminated tail may
    // swallow the next reply: the host's retry of the same line is answered again).
    sim.control('garbage:20000');
    await sim.nextEvent({ event: 'injected', fault: 'garbage:20000' });
    await port.lines.next((l) => !l.decoded.ok, 'a garbled line');
    expect((await port.callRetrying('HB', {})).type).toBe('ok');
    expect(port.reader.bufferedBytes).toBeLessThanOrEqual(MAX_BUFFERED_BYTES);

    sim.control({ fault: 'cable-pull' });
    await sim.nextEvent({ event: 'injected', fault: 'cable-pull' });
    sim.control({ fault: 'reconnect' });
    await sim.nextEvent({ event: 'injected', fault: 'reconnect' });
    expect(await port.ok('HB', {})).toEqual({});
    expect(sim.nonJson).toEqual([]);
    await port.close();
  });

  it('schedules --fault specs relative to start', async () => {
    const sim = await startSimulator({ args: ['--fault', 'reboot@1500ms', '--channels', '2'] });
    const first = await sim.nextEvent({ event: 'boot' });
    await sim.nextEvent({ event: 'injected', fault: 'reboot@1500ms' });
    const second = await sim.nextEvent({ event: 'boot' });
    expect(second.bootId).not.toBe(first.bootId);
    const port = await openHostPort(sim.path);
    expect((await port.ok('HELLO', { vmin: 1, vmax: 1 })).ch).toBe(2);
    await port.close();
  });

  it('offers the host end at --link PATH too, and removes the link at exit', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'edn-pty-'));
    tempDirs.push(dir);
    const link = join(dir, 'stimulator');
    const sim = await startSimulator({ link });
    expect(sim.events.items[0]).toEqual({ event: 'ready', path: sim.path, link });
    expect(await readlink(link)).toBe(sim.path);
    const port = await openHostPort(link);
    await port.ok('HELLO', { vmin: 1, vmax: 1 });
    await port.close();
    // A host may close and reopen the port: the same pair serves it again.
    const again = await openHostPort(link);
    await again.ok('HELLO', { vmin: 1, vmax: 1 });
    await again.close();
    expect(await sim.stop('SIGINT')).toEqual({ code: 0, signal: null });
    expect(sim.leftovers()).toEqual([]);
    expect(existsSync(link) || isSymlink(link)).toBe(false);
  });

  it('exits 1 naming the Debian package when socat is missing', async () => {
    const attempt = startSimulator({ env: { EDN_SOCAT: '/nonexistent/socat' } });
    await expect(attempt).rejects.toThrow(/exited \(code 1\).*Debian package 'socat'/s);
  });
});

describe('openPtyPair', () => {
  it('connects the host end to the device end both ways', async () => {
    const pair = await openPtyPair();
    pairs.push(pair);
    expect(pair.hostPath).toMatch(/^\/dev\/pts\/\d+$/);
    expect(pair.devicePath).toMatch(/^\/dev\/pts\/\d+$/);
    expect(pair.devicePath).not.toBe(pair.hostPath);
    const host = await openHostPort(pair.hostPath);
    const device = await openHostPort(pair.devicePath);
    host.send('to the device');
    expect((await device.lines.next(() => true, 'a line at the device end')).text).toBe('to the device');
    device.send('to the host');
    expect((await host.lines.next(() => true, 'a line at the host end')).text).toBe('to the host');
    await host.close();
    await device.close();
    const exit = await pair.close();
    expect(exit.code !== 0 || exit.signal !== null).toBe(true); // we stopped it
  });

  it('refuses a link path socat cannot parse, and reports a missing socat', async () => {
    await expect(openPtyPair({ link: '/tmp/a,b' })).rejects.toMatchObject({ code: 'BAD_LINK' });
    await expect(openPtyPair({ socat: '/nonexistent/socat' })).rejects.toMatchObject({ code: 'SOCAT_MISSING', message: expect.stringMatching(/Debian package 'socat'/) as unknown });
  });
});

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
