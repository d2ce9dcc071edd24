/**
 * `edn run --sim ... --json` end to end, as a child process: the documented event lines and exit
 * codes (0 completed, 1 refused before output, 2 usage, 3 stopped), SIGINT as an e-stop, and
 * `edn report` on the journal the run wrote. Every wait is for a line of the child's output or its
 * exit, with a bounded deadline.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type JournalRecord, type JournalRecordOf, type RecordType, readJournal } from '../../src/session/journal.js';
import { type EdnJsonLine, type EdnProcess, runEdn, startEdn, stopAllEdn } from '../support/edn-process.js';
import { screeningAnswers, shortProtocol, shortProtocolFile } from '../support/short-protocol.js';

const PATIENT = 'PT-0042';
/** 3 s of stimulation: the whole session, start to end, in a few seconds. */
const SHORT = { id: 'knee-oa-short', durationMin: 0.05 } as const;
/** 60 s: long enough to be interrupted. */
const LONG = { id: 'knee-oa-bench', durationMin: 1 } as const;

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'edn-run-cli-'));
});
afterEach(async () => {
  const left = await stopAllEdn();
  rmSync(dir, { recursive: true, force: true });
  expect(left).toEqual([]);
  expect(existsSync(dir)).toBe(false);
});

/** Write the protocol and screening files; returns the arguments that name them. */
function files(options: typeof SHORT | typeof LONG, yes: readonly string[] = []): { protocol: string; screening: string; dataDir: string } {
  const protocol = join(dir, `${options.id}.json`);
  writeFileSync(protocol, JSON.stringify(shortProtocolFile(options), null, 2));
  const screening = join(dir, `screening-${yes.join('-') || 'clear'}.json`);
  writeFileSync(screening, JSON.stringify(screeningAnswers(shortProtocol(options), PATIENT, yes), null, 2));
  return { protocol, screening, dataDir: join(dir, 'data') };
}

function runArgs(f: ReturnType<typeof files>, targetMa: string, source: readonly string[] = ['--sim']): string[] {
  return ['run', ...source, '--protocol', f.protocol, '--screening', f.screening, '--target-ma', targetMa, '--side', 'left', '--data-dir', f.dataDir, '--json'];
}

const isState = (state: string) => (e: EdnJsonLine) => e.event === 'state' && e.state === state;
const statesOf = (p: EdnProcess) => p.events().filter((e) => e.event === 'state').map((e) => e.state);

function of<T extends RecordType>(records: readonly JournalRecord[], type: T): JournalRecordOf<T>[] {
  return records.filter((r): r is JournalRecordOf<T> => r.type === type);
}

/** The journal at `path`, read back with its chain verified and no torn line. */
function journalAt(path: unknown): JournalRecord[] {
  expect(typeof path).toBe('string');
  const read = readJournal({ path: path as string });
  expect(read.problems).toEqual([]);
  expect(read.chainIntact).toBe(true);
  expect(read.truncatedTail).toBeNull();
  expect(read.records[0]?.type).toBe('session-start');
  return [...read.records];
}

/** A refusal: exit 1, one `refused` line and nothing else, nothing written to the data directory. */
function expectRefused(p: EdnProcess, f: ReturnType<typeof files>, message: RegExp): void {
  expect(p.exit).toEqual({ code: 1, signal: null });
  expect(p.events()).toEqual([{ event: 'refused', message: expect.stringMatching(message) as unknown }]);
  expect(p.nonJson).toEqual([]);
  expect(p.stderr).toBe('');
  expect(existsSync(f.dataDir)).toBe(false);
}

describe('edn run --sim --json, in a child process', () => {
  it('completes a session: exit 0, the documented event lines, a journal that `edn report` reports', async () => {
    const f = files(SHORT);
    const run = await runEdn(runArgs(f, '1'));
    expect(run.stderr).toBe('');
    expect(run.exit).toEqual({ code: 0, signal: null });
    expect(run.nonJson).toEqual([]);
    expect(statesOf(run)).toEqual(['idle', 'connecting', 'ready', 'screening', 'checking-electrodes', 'ramping', 'running', 'ramping-down', 'completed']);
    // The lines exactly as the issue documents them.
    expect(run.lines).toContain('{"event":"state","state":"ramping"}');
    expect(run.lines.at(-1)).toMatch(/^\{"event":"end","reason":"completed",/);
    const events = run.events();
    expect(events.find((e) => e.event === 'device')).toMatchObject({ model: 'EDN-SIM4', serial: expect.stringMatching(/^SIM-/) as unknown, bootId: expect.stringMatching(/^[0-9A-F]{8}$/) as unknown });
    const electrodes = events.find((e) => e.event === 'electrodes')!;
    expect(electrodes.results).toEqual([expect.objectContaining({ channel: 1, ok: true }), expect.objectContaining({ channel: 2, ok: true })]);
    const amps = events.filter((e) => e.event === 'amplitude') as { channels: { channel: number; commandedMa: number; targetMa: number }[] }[];
    expect(amps.some((a) => a.channels.every((c) => c.commandedMa === 1 && c.targetMa === 1))).toBe(true);
    expect(Math.max(...amps.flatMap((a) => a.channels.map((c) => c.commandedMa)))).toBe(1);
    const end = events.at(-1)!;
    expect(end).toMatchObject({ event: 'end', reason: 'completed', journal: electrodes.journal });
    expect(end.stimulationS).toBeGreaterThanOrEqual(3 - 0.001);
    expect(end.stimulationS).toBeLessThan(3.5);

    const records = journalAt(end.journal);
    expect(String(end.journal).startsWith(join(f.dataDir, 'sessions'))).toBe(true);
    expect(of(records, 'session-start')[0]!.data).toMatchObject({ patientRef: PATIENT, protocol: { id: SHORT.id, hash: shortProtocol(SHORT).hash }, side: 'left', device: { transport: 'simulator' } });
    expect(of(records, 'session-end').map((r) => r.data)).toEqual([expect.objectContaining({ reason: 'completed', finalState: 'completed' })]);

    const report = await runEdn(['report', String(end.journal)]);
    expect(report.stderr).toBe('');
    expect(report.exit).toEqual({ code: 0, signal: null });
    expect(report.stdout).toContain(PATIENT);
    expect(report.stdout).toContain(shortProtocol(SHORT).name);
    expect(report.stdout).toContain(SHORT.id);
    expect(report.stdout).toMatch(/completed/);
    // H32 the report names the side treated.
    expect(report.stdout).toContain('**Treated side:** left');
    expect(report.stdout).toMatch(/\| 1 \| left knee: /);
  });

  it('H32 refuses without --side for a protocol on the affected side, and --side bilateral where it has no channel for each side: exit 1, nothing written', async () => {
    const f = files(SHORT);
    const args = runArgs(f, '1');
    const without = args.filter((a, i) => a !== '--side' && args[i - 1] !== '--side');
    expectRefused(await runEdn(without), f, /treats the affected side: choose the treated side \(left or right\) before the electrode check \(--side left\|right\)$/);
    const bilateral = args.map((a, i) => (args[i - 1] === '--side' ? 'bilateral' : a));
    expectRefused(await runEdn(bilateral), f, /does not allow bilateral treatment .*choose left or right$/);
    const wrong = await runEdn(args.map((a, i) => (args[i - 1] === '--side' ? 'up' : a)));
    expect(wrong.exit).toEqual({ code: 2, signal: null });
    expect(wrong.stderr).toMatch(/^edn run: --side must be one of left, right, bilateral, not 'up'\n/);
  });

  it('refuses a target above the protocol maximum with exit 1, before a port is opened or a journal written', async () => {
    const f = files(SHORT);
    const message = /^--target-ma 3 mA is above 2 mA, the maximum of phase 'periosteal EDN' of knee-oa-short$/;
    const sim = await runEdn(runArgs(f, '3'));
    expectRefused(sim, f, message);
    // The same refusal with a port that cannot even be opened: the target is checked first.
    const port = await runEdn(runArgs(f, '3', ['--port', join(dir, 'no-such-tty')]));
    expectRefused(port, f, message);
  });

  it('refuses a screening that blocks (an implanted pacemaker) with exit 1, naming the reason', async () => {
    const f = files(SHORT, ['implantedElectronicDevice']);
    const run = await runEdn(runArgs(f, '1'));
    expectRefused(run, f, /screening does not clear this patient \(blocked\):\nanswers\.implantedElectronicDevice: absolute: contraindicated: stimulation currents can interfere with implanted or wearable electronic devices/);
  });

  /** Start a run of the long protocol, wait until it stimulates at 1 mA, then SIGINT it. */
  async function interrupted(): Promise<EdnProcess> {
    const f = files(LONG);
    const run = startEdn(runArgs(f, '1'));
    await run.nextEvent(isState('running'), 'the state line "running"', 20_000);
    await run.nextEvent(
      (e) => e.event === 'amplitude' && (e.channels as { commandedMa: number }[]).every((c) => c.commandedMa === 1),
      'an amplitude line with 1 mA commanded on every channel',
      5000,
    );
    expect(run.child.kill('SIGINT')).toBe(true);
    expect(await run.waitExit(10_000)).toEqual({ code: 3, signal: null });
    return run;
  }

  it('treats SIGINT during stimulation as an e-stop: exit 3 and {"event":"end","reason":"stopped"}', async () => {
    const run = await interrupted();
    expect(run.stderr).toBe('');
    expect(run.nonJson).toEqual([]);
    expect(statesOf(run).slice(-3)).toEqual(['ramping', 'running', 'stopped']);
    expect(run.lines.at(-1)).toMatch(/^\{"event":"end","reason":"stopped",/);
    const end = run.events().at(-1)!;
    expect(end).toMatchObject({ event: 'end', reason: 'stopped', detail: 'emergency stop (signal)' });
    expect(end.stimulationS).toBeGreaterThan(0);
    expect(end.stimulationS).toBeLessThan(60);

    const records = journalAt(end.journal);
    expect(of(records, 'estop').map((r) => r.data)[0]).toEqual({ source: 'signal', acked: false });
    expect(of(records, 'state').at(-1)!.data).toEqual({ from: 'running', to: 'stopped', reason: 'emergency stop (signal)' });
    const estop = of(records, 'command').find((c) => c.data.verb === 'ESTOP');
    expect(estop).toBeDefined();
    expect(of(records, 'ack').some((a) => a.data.verb === 'ESTOP' && a.data.seq === estop!.data.seq && a.data.ok)).toBe(true);
  });

  it('ends the journal of a SIGINT e-stop as the run reports it: stopped, emergency stop (signal), confirmed', async () => {
    // Found by this test: `edn run` used to dispose the runner on the first terminal snapshot,
    // before SessionRunner.estop() had the device's confirmation, so the journal ended
    // {reason: 'aborted', detail: 'the application closed'} and the confirmation was lost.
    const run = await interrupted();
    const end = run.events().at(-1)!;
    const records = journalAt(end.journal);
    expect(of(records, 'estop').map((r) => r.data)).toEqual([
      { source: 'signal', acked: false },
      { source: 'signal', acked: true },
    ]);
    expect(of(records, 'session-end').map((r) => r.data)).toEqual([expect.objectContaining({ reason: 'stopped', finalState: 'stopped', detail: 'emergency stop (signal)' })]);
  });

  it('exits 2 with the usage on a usage error, and runs nothing', async () => {
    const f = files(SHORT);
    const both = await runEdn(runArgs(f, '1', ['--sim', '--port', '/dev/null']));
    expect(both.exit).toEqual({ code: 2, signal: null });
    expect(both.stdout).toBe('');
    expect(both.stderr).toMatch(/^edn run: give exactly one of --port PATH or --sim\n\nUsage: edn run /);
    const missing = await runEdn(['run', '--sim', '--protocol', f.protocol, '--screening', f.screening, '--json']);
    expect(missing.exit).toEqual({ code: 2, signal: null });
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toMatch(/^edn run: --target-ma is required\n/);
    expect(existsSync(f.dataDir) && readdirSync(f.dataDir).length > 0).toBe(false);
  });
});
