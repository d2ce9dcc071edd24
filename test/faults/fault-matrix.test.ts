/**
 * The fault matrix (issue 6): every fault injected in every session state. For each cell: the
 * output is off within the fault's deadline (measured at the simulated device, every 10 ms tick),
 * the session ends in the right state with the right reason, and the journal on disk holds every
 * record written before the fault with its hash chain intact.
 *
 * In-process on virtual time; the real-process versions of the host kill and of the cable pull
 * are test/integration/run-sigkill.test.ts and session-pty.test.ts. The matrix is written to
 * test-results/fault-matrix.md and printed at the end of `npm test` by test/reporters/summary.ts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DeviceClient } from '../../src/device/client.js';
import { SimulatorTransport } from '../../src/device/sim-transport.js';
import { openJournal, readJournal } from '../../src/session/journal.js';
import { SessionRunner } from '../../src/session/runner.js';
import { SimulatedStimulator } from '../../src/simulator/index.js';
import { clearedFor } from '../support/session-harness.js';
import { shortProtocol } from '../support/short-protocol.js';
import { SwitchableFs } from '../support/switchable-fs.js';
import { ManualScheduler, settle } from '../support/virtual-time.js';

const FAULTS = [
  'cable-pull',
  'device-reboot',
  'dropped-acks',
  'delayed-acks',
  'crc-burst',
  'garbage-flood',
  'open-circuit',
  'compliance',
  'host-sigkill',
  'renderer-crash',
  'disk-full',
  'journal-write-error',
] as const;
type Fault = (typeof FAULTS)[number];
const STATES = ['ready', 'ramping', 'running', 'paused', 'ramping-down'] as const;
type At = (typeof STATES)[number];

/** The device's watchdog window plus one control tick of the simulator. */
const WATCHDOG_DEADLINE_MS = 1000 + 10;

interface Expect {
  /** How the session ends (or 'continues' when the fault is absorbed; 'dead' when the host died). */
  readonly outcome: 'continues' | 'completes-stop' | 'aborted' | 'stopped' | 'dead';
  /** Output must be off within this many ms of the injection (undefined: not required). */
  readonly offWithinMs?: number;
  readonly reason?: RegExp;
}

function expected(fault: Fault, at: At): Expect {
  const outputPossible = at === 'ramping' || at === 'running' || at === 'ramping-down';
  const benign = at === 'ramping-down' ? { outcome: 'completes-stop' as const } : { outcome: 'continues' as const };
  switch (fault) {
    case 'cable-pull':
      return { outcome: 'aborted', offWithinMs: WATCHDOG_DEADLINE_MS, reason: /heartbeat|AckTimeout|no reply|STOP failed|no telemetry/ };
    case 'device-reboot':
      return { outcome: 'aborted', offWithinMs: 0, reason: /restarted/ };
    case 'dropped-acks':
    case 'delayed-acks':
    case 'crc-burst':
    case 'garbage-flood':
      return benign;
    case 'open-circuit':
      return at === 'ramping' || at === 'running' ? { outcome: 'aborted', offWithinMs: 20, reason: /open circuit/ } : benign;
    case 'compliance':
      return at === 'ramping' || at === 'running' ? { outcome: 'aborted', offWithinMs: 2000, reason: /compliance/ } : benign;
    case 'host-sigkill':
      return { outcome: 'dead', offWithinMs: WATCHDOG_DEADLINE_MS };
    case 'renderer-crash':
      return { outcome: 'stopped', offWithinMs: 0, reason: /emergency stop \(renderer-crash\)/ };
    case 'disk-full':
    case 'journal-write-error':
      return at === 'ready' ? { outcome: 'continues' } : { outcome: 'aborted', offWithinMs: outputPossible ? 0 : undefined!, reason: /journal/ };
  }
}

interface CellResult {
  readonly fault: Fault;
  readonly at: At;
  readonly outcome: string;
  readonly offAfterMs: number | null;
  readonly reason: string;
  readonly journalRecords: number;
}
const results: CellResult[] = [];
const root = mkdtempSync(path.join(tmpdir(), 'edn-fault-matrix-'));

async function cell(fault: Fault, at: At): Promise<CellResult> {
  const scheduler = new ManualScheduler();
  const sim = new SimulatedStimulator({ scheduler, seed: 11 });
  sim.start();
  const transport = new SimulatorTransport(sim);
  let hostDead = false;
  const client = new DeviceClient({ transport, scheduler });
  const fs = new SwitchableFs();
  const dataDir = path.join(root, `${fault}-${at}`);
  mkdirSync(dataDir, { recursive: true });
  const journals: string[] = [];
  const runner = new SessionRunner({
    client,
    scheduler,
    recorder: (id) => {
      const j = openJournal({ dataDir, sessionId: id, clock: { monotonicMs: () => scheduler.now(), wallIso: () => new Date(Date.UTC(2026, 10, 27) + scheduler.now()).toISOString() }, fs });
      journals.push(j.path);
      return j;
    },
    newSessionId: () => 'M1',
  });
  const step = async (ms: number) => {
    const end = scheduler.now() + ms;
    while (scheduler.now() < end) {
      scheduler.advanceTo(Math.min(end, scheduler.now() + 10));
      await settle(20);
    }
  };
  const until = async (pred: () => boolean, limit: number, what: string) => {
    const end = scheduler.now() + limit;
    await settle(20);
    while (!pred()) {
      if (scheduler.now() >= end) throw new Error(`${fault} × ${at}: timed out waiting for ${what} (state ${runner.state})`);
      scheduler.advanceTo(Math.min(end, scheduler.now() + 10));
      await settle(20);
    }
  };
  const call = async <T>(p: Promise<T>): Promise<T> => {
    let v: { value: T } | undefined;
    void p.then((value) => (v = { value }));
    await until(() => v !== undefined, 5000, 'a call');
    return v!.value;
  };
  const outputOn = () => sim.snapshot().channels.some((c) => c.state === 'ON' && c.setpointUa > 0);

  // Reach the state.
  const protocol = shortProtocol({ durationMin: 1, maxMa: 4, rampMaPerS: 1 });
  expect((await call(runner.connect())).ok).toBe(true);
  if (at !== 'ready') {
    expect(runner.prepare({ protocol }).ok).toBe(true);
    expect((await call(runner.submitScreening(clearedFor(protocol)))).ok).toBe(true);
    expect((await call(runner.start({ targetMa: 3 }))).ok).toBe(true);
    await until(() => outputOn(), 1000, 'output on');
    if (at === 'running' || at === 'paused' || at === 'ramping-down') await until(() => runner.state === 'running', 10_000, 'running');
    if (at === 'paused') await call(runner.pause());
    if (at === 'ramping-down') {
      sim.delayReplies(150); // the STOP's acknowledgement takes a while: ramping-down lasts
      void runner.stop();
      await settle(20);
    }
  }
  expect(runner.state).toBe(at);
  const before = journals[0] ? readJournal({ path: journals[0] }).records.length : 0;

  // Inject.
  const t0 = scheduler.now();
  let offAt: number | null = outputOn() ? null : t0;
  const watch = () => {
    if (offAt === null && !outputOn()) offAt = scheduler.now();
  };
  sim.onEvent(watch);
  switch (fault) {
    case 'cable-pull':
      sim.cablePull();
      break;
    case 'device-reboot':
      sim.reboot();
      break;
    case 'dropped-acks':
      sim.dropReplies(2);
      break;
    case 'delayed-acks':
      sim.delayReplies(300); // longer than the 200 ms ack timeout: the retry is answered from the device's store
      break;
    case 'crc-burst':
      // Three corrupted lines in a row: inside the retry budget (4 attempts). Four or more bad
      // replies to the same request in a row are, by design, a dead link (AckTimeout, abort).
      sim.corruptNextLines(3);
      break;
    case 'garbage-flood':
      sim.garbageFlood(50_000);
      break;
    case 'open-circuit':
      sim.setLoad(1, 'OPEN');
      break;
    case 'compliance':
      sim.setLoad(1, 90_000); // 3 mA x 90 kOhm = 270 V, far above the 80 V compliance
      break;
    case 'host-sigkill':
      // The host process dies: nothing more is written to the port or the journal, no timer runs.
      hostDead = true;
      fs.mode = 'frozen';
      transport.write = () => undefined;
      runner.dispose();
      client.dispose();
      break;
    case 'renderer-crash':
      // What electron/main does when the renderer crashes with output possibly on (ControllerService.emergencyStop).
      void runner.estop('renderer-crash');
      break;
    case 'disk-full':
      fs.mode = 'ENOSPC';
      runner.addNote('a note the disk cannot take');
      break;
    case 'journal-write-error':
      fs.mode = 'EIO';
      runner.addNote('a note the disk cannot take');
      break;
  }
  watch();
  await step(3000);
  watch();
  if (fault === 'delayed-acks') sim.delayReplies(0);

  const exp = expected(fault, at);
  const state = hostDead ? 'dead' : runner.state;
  const reason = hostDead ? 'host killed' : (runner.snapshot.reason ?? '');
  // The outcome.
  if (exp.outcome === 'continues') expect(at === 'ramping' ? ['ramping', 'running'] : [at], `${fault} × ${at}: ${reason}`).toContain(state);
  else if (exp.outcome === 'completes-stop') expect(state).toBe('stopped');
  else expect(state, `${fault} × ${at}: ${reason}`).toBe(exp.outcome);
  if (exp.reason) expect(reason).toMatch(exp.reason);
  // The output.
  if (exp.offWithinMs !== undefined) {
    expect(offAt, `${fault} × ${at}: output still on`).not.toBeNull();
    expect(offAt! - t0, `${fault} × ${at}: output off after ${offAt! - t0} ms`).toBeLessThanOrEqual(exp.offWithinMs);
  }
  if (exp.outcome !== 'continues') expect(outputOn()).toBe(false);
  // The journal: intact, and everything written before the fault still there.
  let journalRecords = 0;
  if (journals[0]) {
    const read = readJournal({ path: journals[0] });
    expect(read.chainIntact, `${fault} × ${at}: ${JSON.stringify(read.problems)}`).toBe(true);
    expect(read.records.length).toBeGreaterThanOrEqual(before);
    journalRecords = read.records.length;
  }
  if (!hostDead) {
    if (fs.mode === 'ENOSPC' || fs.mode === 'EIO') {
      fs.mode = 'ok';
    }
    runner.dispose();
    client.dispose();
  }
  await transport.close();
  sim.dispose();
  const offAfterMs = offAt === null ? null : offAt - t0;
  return { fault, at, outcome: state, offAfterMs, reason, journalRecords };
}

describe('fault matrix', () => {
  for (const fault of FAULTS) {
    for (const at of STATES) {
      const exp = expected(fault, at);
      const want = exp.outcome === 'continues' ? 'continues' : exp.outcome === 'completes-stop' ? 'the stop completes' : exp.outcome === 'dead' ? 'device off by its watchdog' : exp.outcome;
      it(`${fault} × ${at}: ${want}${exp.offWithinMs !== undefined ? `, output off within ${exp.offWithinMs} ms` : ''}`, async () => {
        results.push(await cell(fault, at));
      });
    }
  }
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  const header = `| fault | ${STATES.join(' | ')} |\n|---|${STATES.map(() => '---').join('|')}|`;
  const rows = FAULTS.map((f) => {
    const cells = STATES.map((s) => {
      const r = results.find((x) => x.fault === f && x.at === s);
      if (!r) return 'FAILED';
      return `${r.outcome}${r.offAfterMs !== null && r.offAfterMs > 0 ? ` (off ${r.offAfterMs} ms)` : ''}`;
    });
    return `| ${f} | ${cells.join(' | ')} |`;
  });
  mkdirSync('test-results', { recursive: true });
  writeFileSync('test-results/fault-matrix.md', `${header}\n${rows.join('\n')}\n`);
});
