/**
 * H23 (the end of the record lost on a full disk) and H24 (records cut off the end of a journal).
 *
 * Found by adversarial testing: on a full disk output went off correctly, but the records held in
 * memory (the abort, the alarm, the e-stop, session-end) were dropped, the journal ended in a torn
 * line and the report called it a crash; a full disk while screening said `INTERNAL: illegal
 * session transition`; and deleting the last 20 lines of a journal (the fault, the e-stop,
 * session-end) still read as chain-intact.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SessionStore, journalIntact, journalIntegrity } from '../../../src/app/store.js';
import { DeviceClient } from '../../../src/device/client.js';
import { SimulatorTransport } from '../../../src/device/sim-transport.js';
import { type Journal, openJournal, readJournal } from '../../../src/session/journal.js';
import { buildReport } from '../../../src/session/report.js';
import { SessionRunner } from '../../../src/session/runner.js';
import { INDEX_FILE, readIndex } from '../../../src/session/session-index.js';
import { SimulatedStimulator } from '../../../src/simulator/index.js';
import { EXAMPLES, ManualClock, SESSION_ID, sessionStart } from '../../fixtures/journals/helpers.js';
import { clearedFor, kneeProtocol } from '../../support/session-harness.js';
import { SwitchableFs } from '../../support/switchable-fs.js';
import { ManualScheduler, settle } from '../../support/virtual-time.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'edn-journal-ending-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A whole small session journal: start, 30 records, end; then closed. */
function writeSession(dataDir: string, extra = 30): Journal {
  const clock = new ManualClock();
  const j = openJournal({ dataDir, sessionId: SESSION_ID, clock, fallbackDir: path.join(dataDir, 'fallback') });
  j.append('session-start', sessionStart());
  for (let i = 0; i < extra; i++) {
    clock.advance(1000);
    j.append('note', { text: `note ${i}` });
  }
  clock.advance(1000);
  j.append('session-end', EXAMPLES['session-end']);
  j.close();
  return j;
}

function cutLines(file: string, n: number): void {
  const lines = fs.readFileSync(file, 'utf8').split('\n').slice(0, -1);
  fs.writeFileSync(file, lines.slice(0, lines.length - n).map((l) => `${l}\n`).join(''));
}

describe('H24 the sessions index tells a journal cut short', () => {
  it('H24 the index gets an entry at start and at end, each once its records are on disk', () => {
    const dataDir = tempDir();
    const j = writeSession(dataDir);
    const lines = fs.readFileSync(path.join(dataDir, 'sessions', INDEX_FILE), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: string; records: number });
    expect(lines.map((l) => [l.event, l.records])).toEqual([
      ['start', 1],
      ['end', 32],
    ]);
    const read = readJournal({ path: j.path });
    expect(read.ending).toEqual({ kind: 'ended', indexed: true });
    expect(journalIntact(read)).toBe(true);
    expect(journalIntegrity(read)).toBe('intact');
  });

  it('H24 deleting the last 20 lines reads "truncated: 20 records missing after HH:MM:SS", not intact', () => {
    const dataDir = tempDir();
    const j = writeSession(dataDir);
    const before = readJournal({ path: j.path });
    cutLines(j.path, 20);
    const read = readJournal({ path: j.path });
    const lastKept = before.records[before.records.length - 21]!;
    expect(read.ending).toEqual({ kind: 'truncated', missing: 20, afterTs: lastKept.ts });
    expect(read.chainIntact).toBe(false);
    expect(read.problems).toEqual([expect.objectContaining({ kind: 'truncated' })]);
    expect(journalIntegrity(read)).toBe(`truncated: 20 records missing after ${lastKept.ts.slice(11, 19)} UTC`);
    expect(journalIntact(read)).toBe(false);
    const report = buildReport(read);
    expect(report.integrity.damaged).toBe(true);
    expect(report.integrity.notices.join(' ')).toContain(`truncated: 20 records missing after ${lastKept.ts.slice(11, 19)} UTC`);
  });

  it('H24 History lists the truncated journal with the words', async () => {
    const dataDir = tempDir();
    const j = writeSession(dataDir);
    cutLines(j.path, 20);
    const [summary] = await new SessionStore(dataDir).list();
    expect(summary?.intact).toBe(false);
    expect(summary?.integrity).toMatch(/^truncated: 20 records missing after \d\d:\d\d:\d\d UTC$/);
  });

  it('H24 a journal with no end record and no index entry is "incomplete (crash or truncation)", never intact', () => {
    const dataDir = tempDir();
    const j = writeSession(dataDir);
    fs.rmSync(path.join(dataDir, 'sessions', INDEX_FILE));
    cutLines(j.path, 1); // the session-end
    const read = readJournal({ path: j.path });
    expect(read.chainIntact).toBe(true); // what is left is a valid chain...
    expect(read.ending).toEqual({ kind: 'incomplete' });
    expect(journalIntact(read)).toBe(false); // ...but it is not intact
    expect(journalIntegrity(read)).toBe('incomplete (crash or truncation)');
  });

  it('H24 the last record rewritten (same count) no longer matches the index', () => {
    const dataDir = tempDir();
    const j = writeSession(dataDir);
    const text = fs.readFileSync(j.path, 'utf8').replace('"reason":"completed"', '"reason":"stopped"  ');
    fs.writeFileSync(j.path, text.replace('"reason":"stopped"  ', '"reason":"stopped"'));
    const read = readJournal({ path: j.path });
    expect(read.problems.map((p) => p.kind)).toEqual(['edited']);
    expect(read.problems[0]!.message).toContain('differs from the one the sessions index recorded');
    expect(journalIntact(read)).toBe(false);
  });

  it('H24 records written after the end (a late fault, an acknowledgement) are counted at close', () => {
    const dataDir = tempDir();
    const clock = new ManualClock();
    const j = openJournal({ dataDir, sessionId: SESSION_ID, clock });
    j.append('session-start', sessionStart());
    j.append('session-end', EXAMPLES['session-end']);
    j.append('fault', { channel: 2, code: 'OPEN', message: 'Channel 2 open circuit' });
    j.append('alarm-ack', { alarmId: 'A1', by: 'JD' });
    j.close();
    const entry = readIndex(path.join(dataDir, 'sessions')).last.get(path.basename(j.path))!;
    expect(entry).toMatchObject({ event: 'close', records: 4 });
    cutLines(j.path, 2);
    expect(readJournal({ path: j.path }).ending).toMatchObject({ kind: 'truncated', missing: 2 });
  });
});

describe('H23 a full disk loses nothing recorded, and the report says what happened', () => {
  it('H23 records held on a full disk are written when space returns; the journal says "journal write failed: disk full"', () => {
    const dataDir = tempDir();
    const disk = new SwitchableFs();
    const clock = new ManualClock();
    const j = openJournal({ dataDir, sessionId: SESSION_ID, clock, fs: disk });
    j.append('session-start', sessionStart());
    disk.mode = 'ENOSPC';
    j.append('note', { text: 'held 1' });
    expect(j.failed).toBe(true);
    expect(j.failureText()).toMatch(/^disk full \(ENOSPC\) while writing, at \d\d:\d\d:\d\d UTC$/);
    j.append('session-end', EXAMPLES['session-end']);
    expect(j.flush()).toBe(false); // still full
    disk.mode = 'ok';
    expect(j.flush()).toBe(true);
    j.close();
    const read = readJournal({ path: j.path });
    expect(read.records.map((r) => r.type)).toEqual(['session-start', 'note', 'session-end']);
    expect(read.ending).toEqual({ kind: 'ended', indexed: true });
  });

  it('H23 closed while the disk is still full: the backlog goes to the fallback file, and the report joins it', () => {
    const dataDir = tempDir();
    const fallbackDir = path.join(tempDir(), 'fallback');
    const disk = new SwitchableFs();
    const clock = new ManualClock();
    const j = openJournal({ dataDir, sessionId: SESSION_ID, clock, fs: disk, fallbackDir });
    j.append('session-start', sessionStart());
    disk.mode = 'ENOSPC';
    j.append('journal-failure', { operation: 'write', code: 'ENOSPC', message: 'no space left on device', pending: 1 });
    j.append('estop', { source: 'device fault', acked: true });
    j.append('session-end', { ...EXAMPLES['session-end'], reason: 'aborted', finalState: 'aborted' });
    // The journal's own disk stays full; the fallback directory (another disk) takes the backlog.
    disk.fullPaths.push(path.join(dataDir, 'sessions'));
    disk.mode = 'ok';
    j.close();
    expect(j.backlogPath).toBe(path.join(fallbackDir, `${path.basename(j.path)}.backlog`));
    const read = readJournal({ path: j.path }, { fallbackDir });
    expect(read.backlog).toEqual({ path: j.backlogPath, lines: 3 });
    expect(read.records.map((r) => r.type)).toEqual(['session-start', 'journal-failure', 'estop', 'session-end']);
    expect(read.chainIntact).toBe(true);
    const report = buildReport(read);
    const notices = report.integrity.notices.join(' ');
    expect(notices).toMatch(/Journal write failed: disk full \(ENOSPC\) at \d\d:\d\d:\d\d UTC/);
    expect(notices).not.toMatch(/program stopped/);
  });
});

describe('H23 a full disk in a session (runner, real journal files)', () => {
  async function rig(disk: SwitchableFs) {
    const scheduler = new ManualScheduler();
    const sim = new SimulatedStimulator({ scheduler, seed: 3 });
    sim.start();
    const transport = new SimulatorTransport(sim);
    const client = new DeviceClient({ transport, scheduler });
    const dataDir = tempDir();
    const journals: Journal[] = [];
    const runner = new SessionRunner({
      client,
      scheduler,
      recorder: (sessionId) => {
        const j = openJournal({ dataDir, sessionId, clock: { monotonicMs: () => scheduler.now(), wallIso: () => new Date(Date.UTC(2026, 11, 3, 9, 0) + scheduler.now()).toISOString() }, fs: disk, fallbackDir: path.join(dataDir, 'fallback') });
        journals.push(j);
        return j;
      },
    });
    const until = async (p: () => boolean, ms: number) => {
      const end = scheduler.now() + ms;
      while (!p()) {
        if (scheduler.now() >= end) throw new Error(`timed out; state ${runner.state}`);
        scheduler.advanceTo(scheduler.now() + 10);
        await settle(20);
      }
    };
    const call = async <T>(p: Promise<T>): Promise<T> => {
      let v: { value: T } | undefined;
      void p.then((value) => (v = { value }));
      await until(() => v !== undefined, 5000);
      return v!.value;
    };
    const dispose = () => {
      runner.dispose();
      client.dispose();
      sim.dispose();
    };
    expect((await call(runner.connect())).ok).toBe(true);
    return { scheduler, sim, runner, journals, until, call, dispose };
  }

  it('H23 disk full mid-session: output off, the held end of the record reaches the file when space returns', async () => {
    const disk = new SwitchableFs();
    const h = await rig(disk);
    const protocol = kneeProtocol();
    expect(h.runner.prepare({ protocol }).ok).toBe(true);
    expect((await h.call(h.runner.submitScreening(clearedFor(protocol)))).ok).toBe(true);
    expect((await h.call(h.runner.start({ targetMa: 2 }))).ok).toBe(true);
    await h.until(() => h.runner.state === 'running', 20_000);
    disk.mode = 'ENOSPC';
    await h.until(() => h.runner.state === 'aborted', 3000);
    expect(h.sim.snapshot().channels.every((c) => c.state !== 'ON')).toBe(true);
    await h.until(() => h.journals[0]!.pendingRecords().some((r) => r.type === 'session-end'), 3000);
    disk.mode = 'ok';
    await h.until(() => h.journals[0]!.pendingRecords().length === 0, 3000); // the runner retries every second
    const read = readJournal({ path: h.journals[0]!.path });
    const types = read.records.map((r) => r.type);
    expect(types).toContain('journal-failure');
    expect(read.records.some((r) => r.type === 'command' && r.data.verb === 'ESTOP')).toBe(true);
    expect(types.filter((t) => t === 'alarm').length).toBeGreaterThan(0);
    expect(types).toContain('session-end');
    expect(read.truncatedTail).toBeNull();
    expect(buildReport(read).integrity.notices.join(' ')).toMatch(/Journal write failed: disk full \(ENOSPC\) at \d\d:\d\d:\d\d UTC/);
    h.dispose();
  });

  it('H23 disk full while screening: a clear storage error, not an illegal transition; the session can be retried', async () => {
    const disk = new SwitchableFs();
    const h = await rig(disk);
    const protocol = kneeProtocol();
    expect(h.runner.prepare({ protocol }).ok).toBe(true);
    disk.mode = 'ENOSPC';
    const r = await h.call(h.runner.submitScreening(clearedFor(protocol)));
    expect(!r.ok && r.error.code).toBe('JournalUnavailable');
    expect(!r.ok && r.error.message).toMatch(/^cannot write the session journal \(disk full \(ENOSPC\) while writing, at \d\d:\d\d:\d\d UTC\): nothing was started/);
    expect(h.runner.state).toBe('screening');
    disk.mode = 'ok';
    const again = await h.call(h.runner.submitScreening(clearedFor(protocol)));
    expect(again.ok).toBe(true);
    expect(h.runner.state).toBe('checking-electrodes');
    h.dispose();
  });
});
