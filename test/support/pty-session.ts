/**
 * The session suite's host over a real pseudo-terminal, for any device process: the
 * host (runner, client and the real `serialport` package in SerialTransport) in this process,
 * `edn simulate --pty --json <args>` in its own, on real time with the monotonic scheduler. Faults
 * are `{"fault":...}` control lines on its stdin; the device's output is what its JSON `output`
 * events say; the journal is the real one in a temporary data directory. Used by
 * test/integration/session-pty.test.ts (the TypeScript simulator) and the firmware suites
 * (`--firmware host` and `--firmware qemu`): the same suite, the same assertions.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceClient, type TrafficRecord } from '../../src/device/client.js';
import { SerialTransport } from '../../src/device/serial-transport.js';
import { monotonicScheduler } from '../../src/device/time.js';
import type { TransportClosed } from '../../src/device/transport.js';
import { openJournal, systemClock } from '../../src/session/journal.js';
import { SessionRunner } from '../../src/session/runner.js';
import type { HostFactory, SeenDeviceEvent, SessionHost } from '../integration/session-suite.js';
import { closeAllHostPorts } from './pty.js';
import { startSimulator, stopAllSimulators } from './sim-process.js';
import { timeSimEvents } from './timed-sim-events.js';

/** How often `until` looks again, ms (a poll interval, not a wait for anything). */
const POLL_MS = 5;
/**
 * Timing allowance between this process and the simulator process, ms: stdout pipe and pty
 * delivery plus the scheduling of two node processes and socat on a busy 2-core machine.
 */
const JITTER_MS = 100;


function nextPoll(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function createHost(args: readonly string[], env: Readonly<Record<string, string>>, dirs: string[], transports: OpenTransport[]): Promise<SessionHost> {
  const sim = await startSimulator({ args, env });
  const seen = timeSimEvents(sim);
  const transport = await SerialTransport.open({ path: sim.path });
  let closed: TransportClosed | undefined;
  transport.closed$.subscribe((c) => (closed = c));
  transports.push({ closed: () => closed, path: sim.path });
  const client = new DeviceClient({ transport, scheduler: monotonicScheduler });
  const traffic: TrafficRecord[] = [];
  client.traffic$.subscribe((t) => traffic.push(t));
  const dataDir = mkdtempSync(join(tmpdir(), 'edn-session-pty-'));
  dirs.push(dataDir);
  const journals: string[] = [];
  const runner = new SessionRunner({
    client,
    scheduler: monotonicScheduler,
    recorder: (sessionId) => {
      const journal = openJournal({ dataDir, sessionId, clock: systemClock });
      journals.push(journal.path);
      return journal;
    },
  });
  const now = () => monotonicScheduler.now();

  async function until(predicate: () => boolean, limitMs: number, what: string): Promise<void> {
    const end = now() + limitMs;
    while (!predicate()) {
      if (now() >= end) throw new Error(`timed out after ${limitMs} ms waiting for ${what}; session ${runner.state}; simulator said:\n  ${seen.events.slice(-8).map((e) => JSON.stringify(e)).join('\n  ')}`);
      await nextPoll(POLL_MS);
    }
  }

  const host: SessionHost = {
    runner,
    client,
    journals,
    deviceEvents: seen.events,
    traffic,
    jitterMs: JITTER_MS,
    // libuv compares timers with a loop clock in whole ms, and a loaded 2-core machine adds a little.
    timerSlackMs: 2,
    now,
    until,
    async call<T>(promise: Promise<T>, what: string, limitMs = 5000): Promise<T> {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no result within ${limitMs} ms for ${what}; session ${runner.state}`)), limitMs);
      });
      try {
        return await Promise.race([promise, late]);
      } finally {
        clearTimeout(timer);
      }
    },
    async elapse(ms: number, why: string): Promise<void> {
      const end = now() + ms;
      await until(() => now() >= end, ms + 1000, `${ms} ms to pass (${why})`);
    },
    async inject(fault: string): Promise<number> {
      const from = seen.events.length;
      sim.control({ fault });
      let applied: SeenDeviceEvent | undefined;
      await until(() => (applied = seen.events.slice(from).find((e) => e.event === 'injected' && e.fault === fault)) !== undefined, 3000, `the simulator to apply ${fault}`);
      return applied!.at;
    },
    output: (channel) => seen.output(channel),
    async dispose(): Promise<void> {
      runner.dispose();
      client.dispose();
      await transport.close();
      seen.stop();
    },
  };
  return host;
}

interface OpenTransport {
  closed: () => TransportClosed | undefined;
  path: string;
}

/**
 * A session host over a real pseudo-terminal to `edn simulate --pty --json <args>` in its own
 * process (the simulator, or with `--firmware host|qemu` the C firmware), on real time.
 */
export function ptyFactory(name: string, args: readonly string[], env: Readonly<Record<string, string>> = {}): HostFactory {
  const dirs: string[] = [];
  const transports: OpenTransport[] = [];
  return {
    name,
    create: () => createHost(args, env, dirs, transports),
  async cleanup(): Promise<void> {
    const problems: string[] = [];
    for (const t of transports.splice(0)) {
      if (t.closed()?.reason !== 'closed') problems.push(`the serial port ${t.path} was not closed by the host (${JSON.stringify(t.closed())})`);
    }
    const ports = await closeAllHostPorts();
    if (ports.length > 0) problems.push(`host ports left open: ${ports.join(', ')}`);
    try {
      await stopAllSimulators(); // throws if a simulator did not exit 0 or left a process (socat) behind
    } catch (e) {
      problems.push(String(e));
    }
    for (const dir of dirs.splice(0)) {
      rmSync(dir, { recursive: true, force: true });
      if (existsSync(dir)) problems.push(`temporary directory ${dir} was not removed`);
    }
    if (problems.length > 0) throw new Error(problems.join('\n'));
  },
};
}
