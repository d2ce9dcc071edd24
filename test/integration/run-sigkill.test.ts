/**
 * Issue 4, "Done means": kill the `edn run` process with SIGKILL during stimulation. Real
 * processes throughout: the simulator (`edn simulate --pty --json`, on a socat pseudo-terminal)
 * and `edn run --port <pty>` as two children of this test. Once the run reports `running` and the
 * simulator reports its outputs on at the target, the run is killed; then
 *
 * - the simulator's watchdog switches the output off within its 1000 ms window of the last frame
 *   (measured from the kill, which is after the last frame the run could send, to the arrival of
 *   the simulator's `watchdog` and `output` events: the 10 ms control tick and pipe delivery are
 *   the only allowance);
 * - the journal reads back intact up to the kill: hash chain verified, at most a torn last line,
 *   the session-start record, and every record behind a line the run printed before it died.
 *
 * Every wait is for an event with a bounded deadline; nothing sleeps.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type JournalRecordOf, type RecordType, readJournal } from '../../src/session/journal.js';
import { startEdn, stopAllEdn } from '../support/edn-process.js';
import { closeAllHostPorts, requireSocat } from '../support/pty.js';
import { screeningAnswers, shortProtocol, shortProtocolFile } from '../support/short-protocol.js';
import { startSimulator, stopAllSimulators } from '../support/sim-process.js';
import { type TimedSimEvent, timeSimEvents } from '../support/timed-sim-events.js';

/** The device watchdog window (PROTOCOL.md). */
const WATCHDOG_MS = 1000;
/** The simulator's control tick plus delivery of its stdout line to this process, on a busy 2-core machine. */
const ALLOWANCE_MS = 100;
const PATIENT = 'PT-0042';
/** 60 s of stimulation: the device's own duration cannot end the output during the test. */
const PROTOCOL = { id: 'knee-oa-bench', durationMin: 1 } as const;
const TARGET_MA = 2;

const dirs: string[] = [];

beforeAll(() => requireSocat());

afterEach(async () => {
  const left = await stopAllEdn();
  expect(await closeAllHostPorts()).toEqual([]);
  await stopAllSimulators(); // throws if the simulator did not exit 0 or left socat behind
  for (const d of dirs.splice(0)) {
    rmSync(d, { recursive: true, force: true });
    expect(existsSync(d)).toBe(false);
  }
  expect(left).toEqual([]);
});

/** Poll `predicate` until it holds; fail after `limitMs` naming `what`. */
async function waitFor(predicate: () => boolean, limitMs: number, what: string, context: () => string): Promise<void> {
  const end = performance.now() + limitMs;
  while (!predicate()) {
    if (performance.now() >= end) throw new Error(`no ${what} within ${limitMs} ms\n${context()}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function of<T extends RecordType>(records: readonly { type: string }[], type: T): JournalRecordOf<T>[] {
  return records.filter((r): r is JournalRecordOf<T> => r.type === type);
}

describe('SIGKILL of `edn run` during stimulation (real processes, real pty)', () => {
  it('the simulator watchdog switches the output off within 1000 ms, and the journal reads back intact up to the kill', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'edn-sigkill-'));
    dirs.push(dir);
    const protocolFile = join(dir, 'protocol.json');
    writeFileSync(protocolFile, JSON.stringify(shortProtocolFile(PROTOCOL), null, 2));
    const screeningFile = join(dir, 'screening.json');
    writeFileSync(screeningFile, JSON.stringify(screeningAnswers(shortProtocol(PROTOCOL), PATIENT), null, 2));
    const dataDir = join(dir, 'data');

    const sim = await startSimulator({ args: ['--seed', '7'] });
    const seen = timeSimEvents(sim);
    const run = startEdn(['run', '--port', sim.path, '--protocol', protocolFile, '--screening', screeningFile, '--target-ma', String(TARGET_MA), '--side', 'left', '--data-dir', dataDir, '--json']);
    const context = () => `edn run said:\n  ${run.lines.slice(-6).join('\n  ')}\nstderr: ${run.stderr}\nsimulator said:\n  ${seen.events.slice(-6).map((e) => JSON.stringify(e)).join('\n  ')}`;

    await run.nextEvent((e) => e.event === 'state' && e.state === 'running', 'the state line "running"', 20_000);
    const onAtTarget = (ch: number) => seen.output(ch).on && seen.output(ch).amplitudeMa === TARGET_MA;
    await waitFor(() => onAtTarget(1) && onAtTarget(2), 5000, `simulator output events with both channels on at ${TARGET_MA} mA`, context);
    expect(run.exit).toBeUndefined();

    const eventsBeforeKill = seen.events.length;
    const killedAt = performance.now();
    expect(run.child.kill('SIGKILL')).toBe(true);
    expect(await run.waitExit(5000)).toEqual({ code: null, signal: 'SIGKILL' });

    // The device, alone now, switches off on its own.
    const after = (): TimedSimEvent[] => seen.events.slice(eventsBeforeKill);
    await waitFor(() => after().some((e) => e.event === 'watchdog'), 3000, "the simulator's watchdog event", context);
    await waitFor(() => !seen.output(1).on && !seen.output(2).on, 1000, 'simulator output events with both channels off', context);
    const watchdog = after().find((e) => e.event === 'watchdog')!;
    const offs = after().filter((e) => e.event === 'output' && e.on === false);
    expect(offs.map((e) => e.channel).sort()).toEqual([1, 2]);
    const lastOffAt = Math.max(...offs.map((e) => e.at));
    // The last frame reached the device before the kill, so its watchdog window ends within
    // 1000 ms of the kill (plus its 10 ms tick and delivery of the event to this process).
    expect(watchdog.at).toBeGreaterThan(killedAt);
    expect(watchdog.at - killedAt).toBeLessThanOrEqual(WATCHDOG_MS + ALLOWANCE_MS);
    expect(lastOffAt - killedAt).toBeLessThanOrEqual(WATCHDOG_MS + ALLOWANCE_MS);
    for (const off of offs) expect(off.at).toBeGreaterThanOrEqual(watchdog.at);
    // The watchdog and nothing else: no e-stop, fault, end of duration or reboot.
    expect(after().filter((e) => ['estop', 'fault', 'done', 'boot'].includes(e.event))).toEqual([]);
    expect(after().filter((e) => e.event === 'output' && e.on === true)).toEqual([]);

    // The journal, up to the kill.
    const reported = run.events();
    const device = reported.find((e) => e.event === 'device');
    const electrodes = reported.find((e) => e.event === 'electrodes');
    expect(device).toBeDefined();
    expect(electrodes?.journal).toEqual(expect.stringContaining(join(dataDir, 'sessions')));
    expect(reported.some((e) => e.event === 'end')).toBe(false);
    const read = readJournal({ path: String(electrodes!.journal) });
    expect(read.problems).toEqual([]);
    expect(read.chainIntact).toBe(true);
    if (read.truncatedTail) expect(read.truncatedTail.bytes).toBeGreaterThan(0); // a torn last line is allowed
    read.records.forEach((r, i) => expect(r.n).toBe(i));
    const records = read.records;
    expect(records[0]?.type).toBe('session-start');
    const start = of(records, 'session-start')[0]!.data;
    expect(start).toMatchObject({ patientRef: PATIENT, protocol: { id: PROTOCOL.id, hash: shortProtocol(PROTOCOL).hash }, device: { transport: sim.path, bootId: device!.bootId, serial: device!.serial } });
    expect(of(records, 'session-end')).toEqual([]);
    // Every safety record behind a line the run printed: its electrode check, every state it
    // entered once the journal was open (in order), and every amplitude it reported commanded.
    expect(of(records, 'electrodes').map((r) => r.data.results)).toEqual([electrodes!.results]);
    const reportedStates = reported.filter((e) => e.event === 'state').map((e) => e.state);
    const journaled = of(records, 'state').map((r) => r.data.to);
    const sinceOpen = reportedStates.slice(reportedStates.indexOf('checking-electrodes'));
    expect(sinceOpen).toEqual(['checking-electrodes', 'ramping', 'running']);
    expect(journaled.slice(0, sinceOpen.length)).toEqual(sinceOpen);
    const amplitudeLines = reported.filter((e) => e.event === 'amplitude') as unknown as { channels: { channel: number; commandedMa: number }[] }[];
    expect(amplitudeLines.length).toBeGreaterThan(0);
    for (const line of amplitudeLines) {
      for (const c of line.channels) {
        if (c.commandedMa === 0) continue;
        expect(of(records, 'amplitude').some((r) => r.data.channel === c.channel && r.data.commandedMa === c.commandedMa), `amplitude ${c.commandedMa} mA on channel ${c.channel}`).toBe(true);
      }
    }
    for (const ch of [1, 2]) expect(Math.max(...of(records, 'amplitude').filter((r) => r.data.channel === ch).map((r) => r.data.commandedMa))).toBe(TARGET_MA);
    const verbs = new Set(of(records, 'command').map((r) => r.data.verb));
    for (const v of ['IMP', 'SET', 'START', 'AMP'] as const) expect(verbs).toContain(v);
  }, 40_000);
});
