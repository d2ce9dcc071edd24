/**
 * The session suite (session-suite.ts) in-process: the simulator over the SimulatorTransport, on
 * virtual time. Faults are the simulator's own methods; the device's output is `sim.snapshot()`;
 * the journal is the real one, in a temporary data directory, on the session clock.
 */
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeviceClient, type TrafficRecord } from '../../src/device/client.js';
import { SimulatorTransport } from '../../src/device/sim-transport.js';
import { openJournal } from '../../src/session/journal.js';
import { SessionRunner } from '../../src/session/runner.js';
import { readJournal } from '../../src/session/journal.js';
import type { SessionSnapshot } from '../../src/session/runner.js';
import { SimulatedStimulator, applyFault, parseFaultSpec } from '../../src/simulator/index.js';
import { clearedFor } from '../support/session-harness.js';
import { shortProtocol } from '../support/short-protocol.js';
import { ManualScheduler, settle } from '../support/virtual-time.js';
import { type HostFactory, type SeenDeviceEvent, type SessionHost, sessionSuite } from './session-suite.js';

/** Virtual ms per step of `until`; promise chains settle between steps, as on an event loop. */
const STEP_MS = 10;

/** What each scheduled action will run, for failure messages. */
function pendingWork(scheduler: ManualScheduler): string[] {
  return scheduler.actions.map((a) => `at ${a.delay} ms: ${String((a as unknown as { work: unknown }).work).replace(/\s+/g, ' ').slice(0, 120)}`);
}

const dirs: string[] = [];
const disposed: { sim: SimulatedStimulator; transportClosed: () => boolean; scheduler: ManualScheduler }[] = [];

function createHost(amplitude: 'ramp' | 'instant' = 'ramp'): Promise<SessionHost> {
  const scheduler = new ManualScheduler();
  const sim = new SimulatedStimulator({ scheduler, seed: 7, amplitude });
  const deviceEvents: SeenDeviceEvent[] = [];
  sim.onEvent((e) => deviceEvents.push({ ...e, at: scheduler.now() }));
  sim.start();
  const transport = new SimulatorTransport(sim);
  let transportClosed = false;
  transport.closed$.subscribe(() => (transportClosed = true));
  const client = new DeviceClient({ transport, scheduler });
  const traffic: TrafficRecord[] = [];
  client.traffic$.subscribe((t) => traffic.push(t));
  const dataDir = mkdtempSync(join(tmpdir(), 'edn-session-inprocess-'));
  dirs.push(dataDir);
  const journals: string[] = [];
  let sessions = 0;
  const runner = new SessionRunner({
    client,
    scheduler,
    recorder: (sessionId) => {
      const journal = openJournal({ dataDir, sessionId, clock: { monotonicMs: () => scheduler.now(), wallIso: () => new Date().toISOString() } });
      journals.push(journal.path);
      return journal;
    },
    newSessionId: () => `S-VIRTUAL-${++sessions}`,
  });

  async function until(predicate: () => boolean, limitMs: number, what: string): Promise<void> {
    const end = scheduler.now() + limitMs;
    await settle(20);
    while (!predicate()) {
      if (scheduler.now() >= end) throw new Error(`timed out after ${limitMs} ms of virtual time waiting for ${what}; session ${runner.state}`);
      scheduler.advanceTo(Math.min(end, scheduler.now() + STEP_MS));
      await settle(20);
    }
  }

  const host: SessionHost = {
    runner,
    client,
    journals,
    deviceEvents,
    traffic,
    jitterMs: 0,
    timerSlackMs: 0,
    now: () => scheduler.now(),
    until,
    async call<T>(promise: Promise<T>, what: string, limitMs = 5000): Promise<T> {
      let done = false;
      let value: T | undefined;
      let failure: unknown;
      let failed = false;
      promise.then(
        (v) => {
          done = true;
          value = v;
        },
        (e: unknown) => {
          failed = true;
          failure = e;
        },
      );
      await until(() => done || failed, limitMs, what);
      if (failed) throw failure instanceof Error ? failure : new Error(String(failure));
      return value as T;
    },
    async elapse(ms: number, why: string): Promise<void> {
      const end = scheduler.now() + ms;
      await until(() => scheduler.now() >= end, ms + STEP_MS, `${ms} ms to pass (${why})`);
    },
    inject(fault: string): Promise<number> {
      const parsed = parseFaultSpec(`${fault}@0ms`, sim.channelCount);
      if (!parsed.ok) throw new Error(parsed.error);
      applyFault(sim, parsed.spec.fault);
      return Promise.resolve(scheduler.now());
    },
    output(channel: number) {
      const c = sim.snapshot().channels.find((x) => x.channel === channel);
      if (!c) throw new Error(`the simulator has no channel ${channel}`);
      return { on: c.state === 'ON', amplitudeMa: c.setpointUa / 1000 };
    },
    async dispose(): Promise<void> {
      runner.dispose();
      client.dispose();
      await transport.close();
      sim.dispose();
      disposed.push({ sim, transportClosed: () => transportClosed, scheduler });
    },
  };
  return Promise.resolve(host);
}

function cleanup(): Promise<void> {
  const problems: string[] = [];
  for (const d of disposed.splice(0)) {
    if (!d.transportClosed()) problems.push('a transport was left open');
    if (!d.sim.snapshot().disposed) problems.push('a simulator was left running');
    if (d.scheduler.pending > 0) problems.push(`timers still scheduled after dispose:\n  ${pendingWork(d.scheduler).join('\n  ')}`);
  }
  for (const dir of dirs.splice(0)) {
    rmSync(dir, { recursive: true, force: true });
    if (existsSync(dir)) problems.push(`temporary directory ${dir} was not removed`);
  }
  if (problems.length > 0) return Promise.reject(new Error(problems.join('\n')));
  return Promise.resolve();
}

const factory: HostFactory = { name: 'in-process, SimulatorTransport, virtual time', create: () => createHost('ramp'), cleanup };

sessionSuite(factory);

// The same suite against a device that applies every amplitude at once (no slew of its own): what
// the device delivers is then exactly what the host commanded, so a host that jumps shows here.
sessionSuite({ name: 'in-process, a non-slewing device, virtual time', create: () => createHost('instant'), cleanup });

// What only the in-process run can show: the simulator answers synchronously, inside the write.
// (Both were defects this suite found; the client now arms the timer first and holds such replies.)
describe('DeviceClient over the synchronous SimulatorTransport', () => {
  function rig() {
    const scheduler = new ManualScheduler();
    const sim = new SimulatedStimulator({ scheduler, seed: 7 });
    sim.start();
    const transport = new SimulatorTransport(sim);
    const client = new DeviceClient({ transport, scheduler });
    const traffic: TrafficRecord[] = [];
    client.traffic$.subscribe((t) => traffic.push(t));
    return { scheduler, sim, transport, client, traffic };
  }

  it('a request answered during its own write leaves no ack timer behind; dispose() cancels every timer', async () => {
    const { scheduler, sim, transport, client } = rig();
    expect(await client.connect()).toMatchObject({ ok: true });
    expect(await client.request('STATUS', {})).toMatchObject({ ok: true });
    client.dispose();
    await transport.close();
    sim.dispose();
    expect(pendingWork(scheduler)).toEqual([]);
  });

  it('traffic$ (and so the journal) has each command before its reply', async () => {
    const { sim, transport, client, traffic } = rig();
    expect(await client.connect()).toMatchObject({ ok: true });
    expect(traffic.map((t) => t.dir)).toEqual(['tx', 'rx']);
    client.dispose();
    await transport.close();
    sim.dispose();
  });
});

describe('SessionRunner on a slow link (in-process, virtual time)', () => {
  it('enters "running" only once every channel has started and reached its target', async () => {
    // Found by the pty suite (a ramp journaled as 'titration' on a busy machine): #rampStep used
    // to count only the channels already ON, so a loop tick that fell while #beginOutput was
    // still waiting for SET/START replies declared the session `running` at 0 mA. Replies 250 ms
    // late make that tick certain here.
    const h = await createHost();
    try {
      const protocol = shortProtocol({ id: 'knee-oa-bench', durationMin: 0.5 });
      let firstRunning: SessionSnapshot | undefined;
      h.runner.snapshot$.subscribe((s) => {
        if (s.state === 'running') firstRunning ??= s;
      });
      expect(await h.call(h.runner.connect(), 'connect')).toMatchObject({ ok: true });
      expect(h.runner.prepare({ protocol })).toEqual({ ok: true, value: undefined });
      expect(await h.call(h.runner.submitScreening(clearedFor(protocol, 'PT-0042')), 'screening')).toMatchObject({ ok: true });
      await h.inject('delay:250'); // every reply 250 ms late: each request is re-sent once (200 ms ack timeout), then answered
      expect(await h.call(h.runner.start({ targetMa: 0.2 }), 'start')).toEqual({ ok: true, value: undefined });
      await h.until(() => h.runner.snapshot.channels.every((c) => c.on && c.commandedMa === 0.2), 5000, '0.2 mA on both channels');
      expect(h.runner.state).toBe('running');
      expect(firstRunning?.channels.map((c) => ({ channel: c.channel, on: c.on, commandedMa: c.commandedMa }))).toEqual([
        { channel: 1, on: true, commandedMa: 0.2 },
        { channel: 2, on: true, commandedMa: 0.2 },
      ]);
      expect(await h.call(h.runner.stop(), 'stop')).toMatchObject({ ok: true });
      const records = readJournal({ path: h.journals[0]! }).records;
      expect(records.filter((r) => r.type === 'amplitude' && r.data.cause === 'titration')).toEqual([]);
    } finally {
      await h.dispose();
      await factory.cleanup();
    }
  });
});
