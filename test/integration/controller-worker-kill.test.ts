/**
 * Issue 10 §1, "Done means": the ControllerService runs in its own worker (a child process, as
 * under `edn web`), and killing that worker mid-session is seen by the UI side at once. Real
 * processes, a real pty and the simulator in its own process (`edn simulate --pty --json`), so the
 * device is alone once the worker is gone, exactly as a stimulator on a serial port would be:
 *
 * - the device reports every output off within its 1000 ms watchdog window of the kill (or sooner:
 *   the new worker's HELLO switches output off too);
 * - the UI side's snapshot carries a high alarm "controller stopped" at once, kept until it is
 *   acknowledged, and the session shows aborted with nothing claimed on;
 * - a new worker connects again with a fresh HELLO; the killed session's journal reads back as
 *   incomplete (never intact); the next session runs.
 *
 * Every wait is for an event with a bounded deadline; nothing sleeps.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Snapshot } from '../../src/app/contract.js';
import { type SupervisedController, superviseController } from '../../src/app/worker-host.js';
import { nodeWorkerFactory } from '../../src/app/worker-node.js';
import { closeAllHostPorts, requireSocat } from '../support/pty.js';
import { screeningAnswers, shortProtocol, shortProtocolFile } from '../support/short-protocol.js';
import { startSimulator, stopAllSimulators } from '../support/sim-process.js';
import { type TimedSimEvent, timeSimEvents } from '../support/timed-sim-events.js';

const WATCHDOG_MS = 1000;
/** The simulator's control tick plus delivery of its stdout line to this process, on a busy 2-core machine. */
const ALLOWANCE_MS = 100;
/** "At once": the worker's exit event reaching this thread, on a busy machine. */
const SEEN_MS = 250;
const PATIENT = 'PT-0042';
const PROTOCOL = { id: 'knee-oa-bench', durationMin: 1 } as const;
const TARGET_MA = 2;

const dirs: string[] = [];
const supervisors: SupervisedController[] = [];

beforeAll(() => requireSocat());

afterEach(async () => {
  for (const s of supervisors.splice(0)) await s.dispose();
  expect(await closeAllHostPorts()).toEqual([]);
  await stopAllSimulators();
  for (const d of dirs.splice(0)) {
    rmSync(d, { recursive: true, force: true });
    expect(existsSync(d)).toBe(false);
  }
});

async function waitFor(predicate: () => boolean, limitMs: number, what: string, context: () => string = () => ''): Promise<void> {
  const end = performance.now() + limitMs;
  while (!predicate()) {
    if (performance.now() >= end) throw new Error(`no ${what} within ${limitMs} ms\n${context()}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('H28 the controller worker killed mid-session (a child process as under edn web, real pty, simulator process)', () => {
  it('output off within the watchdog, "controller stopped" at once, a fresh HELLO, an incomplete journal, and the next session runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'edn-worker-kill-'));
    dirs.push(dir);
    const dataDir = join(dir, 'data');
    mkdirSync(join(dataDir, 'protocols'), { recursive: true });
    writeFileSync(join(dataDir, 'protocols', `${PROTOCOL.id}.json`), JSON.stringify(shortProtocolFile(PROTOCOL), null, 2));
    const answers = screeningAnswers(shortProtocol(PROTOCOL), PATIENT);

    const sim = await startSimulator({ args: ['--seed', '7'] });
    const seen = timeSimEvents(sim);
    const sup = superviseController({ dataDir, allowHardware: true, factory: nodeWorkerFactory() });
    supervisors.push(sup);
    const snapshots: { at: number; s: Snapshot }[] = [];
    sup.on((e) => {
      if (e.event === 'snapshot') snapshots.push({ at: performance.now(), s: e.data });
    });
    const context = () => `snapshots: ${snapshots.slice(-4).map((x) => `${x.s.state}${x.s.reason ? ` (${x.s.reason})` : ''}`).join(', ')}\nsimulator: ${seen.events.slice(-6).map((e) => JSON.stringify(e)).join('\n  ')}`;
    await sup.ready();
    expect(sup.stats).toEqual({ deaths: 0, starts: 1, pureStarts: 1 });

    const connected = await sup.connect({ path: sim.path });
    expect(connected.ok ? connected.data.transport : connected.error.message).toBe(sim.path);
    const firstBoot = connected.ok ? connected.data.bootId : '';
    const screened = await sup.submitScreening({ side: 'left', protocolId: PROTOCOL.id, answers, acknowledgements: [] });
    expect(screened.ok ? screened.data.status : screened.error.message).toBe('cleared');
    const journal = sup.snapshot.journal;
    const sessionId = sup.snapshot.sessionId;
    expect(journal).toEqual(expect.stringContaining(join(dataDir, 'sessions')));
    const started = await sup.start({ targetMa: TARGET_MA });
    expect(started.ok ? 'started' : started.error.message).toBe('started');
    const onAtTarget = (ch: number) => seen.output(ch).on && seen.output(ch).amplitudeMa === TARGET_MA;
    await waitFor(() => onAtTarget(1) && onAtTarget(2), 8000, `both channels on at ${TARGET_MA} mA`, context);
    expect(sup.outputMayBeOn()).toBe(true);

    // A call in flight when the worker dies is answered, not left hanging.
    const eventsBefore = seen.events.length;
    const killedAt = performance.now();
    sup.killController();
    const inFlight = sup.getSnapshot({});

    // The UI side sees it at once.
    await waitFor(() => snapshots.some((x) => x.at >= killedAt && x.s.alarms.some((a) => a.cause.startsWith('controller stopped'))), SEEN_MS, 'a "controller stopped" alarm', context);
    const alarmed = snapshots.find((x) => x.at >= killedAt && x.s.alarms.some((a) => a.cause.startsWith('controller stopped')))!;
    expect(alarmed.at - killedAt).toBeLessThan(SEEN_MS);
    const alarm = alarmed.s.alarms.find((a) => a.cause.startsWith('controller stopped'))!;
    expect(alarm.priority).toBe('high');
    expect(alarmed.s.state).toBe('aborted');
    expect(alarmed.s.channels.every((c) => !c.on && c.commandedMa === 0 && c.measuredMa === null)).toBe(true);
    expect(sup.outputMayBeOn()).toBe(false);
    const answered = await inFlight;
    expect(answered.ok ? 'answered ok' : answered.error.code).toMatch(/^(answered ok|INTERNAL)$/);

    // The device, alone, switches every output off within its watchdog window.
    const after = (): TimedSimEvent[] => seen.events.slice(eventsBefore);
    await waitFor(() => !seen.output(1).on && !seen.output(2).on, WATCHDOG_MS + ALLOWANCE_MS + 500, 'both channels off', context);
    const offs = after().filter((e) => e.event === 'output' && e.on === false);
    expect(offs.map((e) => e.channel).sort()).toEqual([1, 2]);
    for (const off of offs) expect(off.at - killedAt).toBeLessThanOrEqual(WATCHDOG_MS + ALLOWANCE_MS);
    expect(after().filter((e) => e.event === 'output' && e.on === true)).toEqual([]);

    // A new worker connects again: a fresh HELLO (same device, same boot).
    await waitFor(() => sup.snapshot.state === 'ready' && sup.snapshot.device !== undefined, 15_000, 'the new controller connected (ready)', context);
    expect(sup.stats).toMatchObject({ deaths: 1, starts: 2 });
    expect(sup.snapshot.device?.bootId).toBe(firstBoot);
    // The same device, not rebooted: the new worker's HELLO started a new host session on it.
    expect(after().filter((e) => e.event === 'boot')).toEqual([]);
    // The alarm stays until acknowledged, then goes.
    expect(sup.snapshot.alarms.map((a) => a.id)).toContain(alarm.id);
    const acked = await sup.acknowledgeAlarm({ id: alarm.id });
    expect(acked.ok).toBe(true);
    expect(sup.snapshot.alarms.map((a) => a.id)).not.toContain(alarm.id);

    // The killed session's journal: incomplete, never intact.
    const sessions = await sup.listSessions({});
    expect(sessions.ok).toBe(true);
    const killed = sessions.ok ? sessions.data.find((s) => s.sessionId === sessionId) : undefined;
    expect(killed).toMatchObject({ intact: false, endReason: null });
    // Never "intact": the index knows it started and no end came ("open ... the program stopped").
    expect(killed?.integrity).toMatch(/^(open \(a session may be running, or the program stopped\)|incomplete|truncated)/);
    const report = await sup.openReport({ sessionId: sessionId!, format: 'md' });
    expect(report.ok ? report.data.intact : report.error.message).toBe(false);

    // The next session works.
    const again = await sup.submitScreening({ side: 'left', protocolId: PROTOCOL.id, answers, acknowledgements: [] });
    expect(again.ok ? again.data.status : again.error.message).toBe('cleared');
    expect(sup.snapshot.sessionId).not.toBe(sessionId);
    const restarted = await sup.start({ targetMa: 1 });
    expect(restarted.ok ? 'started' : restarted.error.message).toBe('started');
    await waitFor(() => seen.output(1).on && seen.output(1).amplitudeMa === 1, 8000, 'channel 1 on at 1 mA in the next session', context);
    const stopped = await sup.stop({});
    expect(stopped.ok ? 'stopped' : stopped.error.message).toBe('stopped');
    await waitFor(() => sup.snapshot.state === 'stopped', 8000, 'the next session stopped', context);
  }, 60_000);
});
