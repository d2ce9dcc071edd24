/**
 * Device checks over a real pseudo-terminal for any `edn simulate --pty --json <args>` device (the
 * C firmware with `--firmware host` in `npm test`, `--firmware qemu` in `npm run test:firmware`),
 * on real time, measured on the host's clock as PROTOCOL.md §12.5 states them:
 *
 * - the line-level handshake: HELLO, IMP, SET with its read-back CRC (computed by the codec from
 *   what was sent), START, TEL following the ramp, AMP, STOP, ESTOP / CLEAR, STATUS;
 * - DONE at the device-enforced duration, within [dur, dur + 10 ms + delivery] of START;
 * - the watchdog after SIGKILL of the host: `edn run` (the real host application) is killed while
 *   stimulating, and the device alone switches its outputs off within its 1000 ms window (the
 *   issue's "watchdog trip after SIGKILL of the host").
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { setReadbackCrc, type SetArgs } from '../../firmware-protocol/index.js';
import { startEdn, stopAllEdn } from '../support/edn-process.js';
import { closeAllHostPorts, openHostPort } from '../support/pty.js';
import { screeningAnswers, shortProtocol, shortProtocolFile } from '../support/short-protocol.js';
import { startSimulator, stopAllSimulators } from '../support/sim-process.js';
import { type TimedSimEvent, timeSimEvents } from '../support/timed-sim-events.js';

/** PROTOCOL.md §11 and §12.5. */
const WATCHDOG_MS = 1000;
const TICK_MS = 10;
/** Delivery of a line or an event to this process through pty, pipes and a busy 2-core machine. */
const ALLOWANCE_MS = 100;

async function waitFor(predicate: () => boolean, limitMs: number, what: string, context: () => string): Promise<void> {
  const end = performance.now() + limitMs;
  while (!predicate()) {
    if (performance.now() >= end) throw new Error(`no ${what} within ${limitMs} ms\n${context()}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export function devicePtySuite(name: string, args: readonly string[], env: Readonly<Record<string, string>>): void {
  describe(`the device over a pty (${name})`, () => {
    const dirs: string[] = [];
    afterEach(async () => {
      const left = await stopAllEdn();
      expect(await closeAllHostPorts()).toEqual([]);
      await stopAllSimulators();
      for (const d of dirs.splice(0)) {
        rmSync(d, { recursive: true, force: true });
        expect(existsSync(d)).toBe(false);
      }
      expect(left).toEqual([]);
    });

    it('handshake, SET read-back, START and the ramp in TEL, AMP, STOP, ESTOP and CLEAR, STATUS', async () => {
      const sim = await startSimulator({ args, env });
      const port = await openHostPort(sim.path);
      const stopHeartbeat = port.heartbeat();
      const hello = await port.ok('HELLO', { vmin: 1, vmax: 1 });
      expect(hello).toMatchObject({ proto: 1, ch: 4, fmin: 1000, fmax: 150_000, pwmin: 50, pwmax: 600, amin: 0, amax: 20_000, tmax: 3600, vc: 80, wdog: 1000 });
      expect(await port.ok('IMP', { ch: 1 })).toMatchObject({ ch: 1, z: expect.any(Number) as unknown });
      const program: SetArgs = { ch: 1, mode: 'BURST', f: 2000, f2: 100_000, n: 7, pw: 250, wf: 'ASYM', amp: 1500, dur: 60, ramp: 1000 };
      expect(await port.ok('SET', program)).toEqual({ ch: 1, crc: setReadbackCrc(program) });
      expect(await port.ok('START', { ch: 1 })).toEqual({ ch: 1 });
      const first = await port.nextEvent('TEL', (e) => e.args.ch === 1);
      const later = await port.nextEvent('TEL', (e) => e.args.ch === 1 && e.args.amp >= 1000);
      expect(first.args.amp).toBeLessThanOrEqual(200);
      expect(later.args.amp).toBeLessThanOrEqual(1500);
      expect(await port.ok('AMP', { ch: 1, amp: 500 })).toEqual({ ch: 1, amp: 500 });
      await port.nextEvent('TEL', (e) => e.args.ch === 1 && e.args.amp === 500);
      expect(await port.ok('STATUS', {})).toMatchObject({ boot: hello.boot, latched: false, s1: 'ON', s2: 'OFF' });
      expect(await port.ok('STOP', { ch: 1 })).toEqual({ ch: 1 });
      expect(await port.ok('ESTOP', {})).toEqual({ latched: true });
      const refused = await port.call('SET', program);
      expect(refused).toMatchObject({ type: 'err', args: { code: 'LATCHED' } });
      expect(await port.ok('CLEAR', {})).toEqual({ latched: false });
      expect(await port.ok('STATUS', {})).toMatchObject({ latched: false, s1: 'OFF' });
      stopHeartbeat();
      await port.close();
    }, 60_000);

    it('DONE at the device-enforced duration: no sooner than dur after START was sent, no later than dur + 10 ms + delivery after its OK', async () => {
      const sim = await startSimulator({ args, env });
      const port = await openHostPort(sim.path);
      const stopHeartbeat = port.heartbeat();
      await port.ok('HELLO', { vmin: 1, vmax: 1 });
      await port.ok('SET', { ch: 2, mode: 'CONT', f: 10_000, pw: 200, wf: 'SYM', amp: 800, dur: 2, ramp: 1000 });
      const sentAt = performance.now();
      await port.ok('START', { ch: 2 });
      const okAt = performance.now();
      await port.nextEvent('DONE', (e) => e.args.ch === 2, 10_000);
      const doneAt = performance.now();
      expect(doneAt - sentAt).toBeGreaterThanOrEqual(2000 - 1);
      expect(doneAt - okAt).toBeLessThanOrEqual(2000 + TICK_MS + ALLOWANCE_MS);
      expect(await port.ok('STATUS', {})).toMatchObject({ s2: 'DONE' });
      const done = await sim.nextEvent({ event: 'done', channel: 2 });
      expect(done).toEqual({ event: 'done', channel: 2 });
      stopHeartbeat();
      await port.close();
    }, 60_000);

    it('SIGKILL of `edn run` while stimulating: the device alone switches off within its watchdog window', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'edn-fw-sigkill-'));
      dirs.push(dir);
      const protocol = { id: 'knee-oa-bench', durationMin: 1 } as const;
      const protocolFile = join(dir, 'protocol.json');
      writeFileSync(protocolFile, JSON.stringify(shortProtocolFile(protocol), null, 2));
      const screeningFile = join(dir, 'screening.json');
      writeFileSync(screeningFile, JSON.stringify(screeningAnswers(shortProtocol(protocol), 'PT-0042'), null, 2));
      const sim = await startSimulator({ args, env });
      const seen = timeSimEvents(sim);
      const run = startEdn(['run', '--port', sim.path, '--protocol', protocolFile, '--screening', screeningFile, '--target-ma', '2', '--side', 'left', '--data-dir', join(dir, 'data'), '--json']);
      const context = () => `edn run said:\n  ${run.lines.slice(-6).join('\n  ')}\nstderr: ${run.stderr}\ndevice said:\n  ${seen.events.slice(-6).map((e) => JSON.stringify(e)).join('\n  ')}`;
      await run.nextEvent((e) => e.event === 'state' && e.state === 'running', 'the state line "running"', 30_000);
      const onAtTarget = (ch: number) => seen.output(ch).on && seen.output(ch).amplitudeMa === 2;
      await waitFor(() => onAtTarget(1) && onAtTarget(2), 5000, 'output events with both channels on at 2 mA', context);

      const before = seen.events.length;
      const killedAt = performance.now();
      expect(run.child.kill('SIGKILL')).toBe(true);
      expect(await run.waitExit(5000)).toEqual({ code: null, signal: 'SIGKILL' });
      const after = (): TimedSimEvent[] => seen.events.slice(before);
      await waitFor(() => after().some((e) => e.event === 'watchdog'), 3000, "the device's watchdog event", context);
      await waitFor(() => !seen.output(1).on && !seen.output(2).on, 1000, 'output events with both channels off', context);
      const watchdog = after().find((e) => e.event === 'watchdog')!;
      // The last frame left the host at most one heartbeat period (250 ms) before the kill.
      expect(watchdog.at - killedAt).toBeGreaterThanOrEqual(WATCHDOG_MS - 250 - ALLOWANCE_MS);
      expect(watchdog.at - killedAt).toBeLessThanOrEqual(WATCHDOG_MS + TICK_MS + ALLOWANCE_MS);
      const offs = after().filter((e) => e.event === 'output' && e.on === false);
      expect(offs.map((e) => e.channel).sort()).toEqual([1, 2]);
      for (const off of offs) expect(off.at).toBeGreaterThanOrEqual(watchdog.at);
      expect(after().filter((e) => ['estop', 'fault', 'done', 'boot'].includes(e.event))).toEqual([]);
      expect(after().filter((e) => e.event === 'output' && e.on === true)).toEqual([]);
    }, 60_000);
  });
}
