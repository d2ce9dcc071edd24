import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SessionRecorder } from '../../../src/session/recorder.js';
import {
  FSYNC_EXEMPT,
  GENESIS_PREV,
  type JournalFailure,
  JournalRecordError,
  type JournalRecord,
  journalFileName,
  needsFsync,
  openJournal,
  readJournal,
} from '../../../src/session/journal.js';
import { EXAMPLES, MemoryFs, ManualClock, SESSION_ID, errno, sessionStart } from '../../fixtures/journals/helpers.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edn-journal-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A journal of `count` records (session-start, then notes) in memory; returns its lines. */
function journalLines(count: number): string[] {
  const memory = new MemoryFs();
  const clock = new ManualClock();
  const j = openJournal({ dataDir: '/data', sessionId: SESSION_ID, clock, fs: memory });
  j.append('session-start', sessionStart());
  for (let i = 1; i < count; i++) {
    clock.advance(250);
    j.append('note', { text: `note ${i}` });
  }
  j.close();
  return memory.text(j.path).split('\n').slice(0, -1);
}

const text = (lines: readonly string[]) => lines.map((l) => `${l}\n`).join('');
/** A line re-chained after `prevLine` (a forger who recomputes the hash of the line before). */
const rechain = (line: string, prevLine: string, n?: number) => {
  const record = JSON.parse(line) as Record<string, unknown>;
  return JSON.stringify({ ...record, ...(n === undefined ? {} : { n }), prev: sha(prevLine) });
};

describe('writing a journal', () => {
  it('writes one JSON line per record into <dataDir>/sessions/<UTC stamp>-<sessionId>.jsonl, chained by hash', () => {
    const clock = new ManualClock(5_000);
    const j = openJournal({ dataDir: dir, sessionId: SESSION_ID, clock });
    expect(j.path).toBe(path.join(dir, 'sessions', `20250314T093000Z-${SESSION_ID}.jsonl`));
    const records: JournalRecord[] = [];
    for (const [type, data] of Object.entries(EXAMPLES)) {
      clock.advance(100);
      records.push(j.append(type, data));
    }
    j.close();
    expect(fs.statSync(j.path).mode & 0o777).toBe(0o600);

    const lines = fs.readFileSync(j.path, 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(records.length);
    lines.forEach((line, i) => {
      const record = JSON.parse(line) as JournalRecord;
      expect(Object.keys(record)).toEqual(['n', 't', 'ts', 'type', 'data', 'prev']);
      expect(record.n).toBe(i);
      expect(record.prev).toBe(i === 0 ? GENESIS_PREV : sha(lines[i - 1]!));
      expect(record.t).toBe(5_100 + i * 100);
      expect(record.ts).toBe(new Date(Date.UTC(2025, 2, 14, 9, 30, 0) + 100 + i * 100).toISOString());
    });

    const read = readJournal({ path: j.path });
    expect(read).toMatchObject({ ok: true, chainIntact: true, problems: [], truncatedTail: null, lines: records.length, path: j.path });
    expect(read.records).toEqual(records);
  });

  it('is a SessionRecorder (the runner uses it through that interface)', () => {
    const recorder: SessionRecorder = openJournal({ dataDir: dir, sessionId: SESSION_ID, clock: new ManualClock() });
    recorder.append('note', { text: 'via the interface' });
    expect(recorder.location).toMatch(/\.jsonl$/);
    recorder.close();
    expect(readJournal({ path: recorder.location }).records).toHaveLength(1);
  });

  it('never overwrites: a second journal with the same name is refused and the first is untouched', () => {
    const clock = new ManualClock();
    const j = openJournal({ dataDir: dir, sessionId: SESSION_ID, clock });
    j.append('note', { text: 'first' });
    j.close();
    const before = fs.readFileSync(j.path, 'utf8');
    expect(() => openJournal({ dataDir: dir, sessionId: SESSION_ID, clock })).toThrow(/EEXIST/);
    expect(fs.readFileSync(j.path, 'utf8')).toBe(before);
  });

  it('throws on a programming error and writes nothing for it', () => {
    const memory = new MemoryFs();
    const j = openJournal({ dataDir: '/d', sessionId: SESSION_ID, clock: new ManualClock(), fs: memory });
    expect(() => j.append('nonsense', {})).toThrow(JournalRecordError);
    expect(() => j.append('note', { text: 'x', extra: 1 })).toThrow(/invalid 'note' record/);
    expect(() => j.append('amplitude', { channel: 1, targetMa: 1, commandedMa: 1, cause: 'because' })).toThrow(JournalRecordError);
    expect(() => j.append('session-start', sessionStart({ sessionId: 'OTHER' }))).toThrow(/journal of 'S-TEST-0001'/);
    expect(j.count).toBe(0);
    j.append('note', { text: 'fine' });
    j.close();
    expect(() => j.append('note', { text: 'late' })).toThrow(/closed/);
    expect(readJournal({ text: memory.text(j.path) }).records.map((r) => r.n)).toEqual([0]);
  });

  it('refuses a session id that is not a safe file name, and a clock whose wall time is not ISO with ms', () => {
    expect(() => openJournal({ dataDir: dir, sessionId: '../escape', clock: new ManualClock() })).toThrow(JournalRecordError);
    expect(() => openJournal({ dataDir: dir, sessionId: 'ok', clock: { monotonicMs: () => 0, wallIso: () => '2025-03-14 09:30' } })).toThrow(JournalRecordError);
    expect(journalFileName('2025-12-31T23:59:58.999Z', 'abc')).toBe('20251231T235958Z-abc.jsonl');
  });
});

describe('fsync policy', () => {
  it('lists the exempt records in one place: telemetry and HB acks', () => {
    expect(FSYNC_EXEMPT.map((e) => `${e.type}${e.verb ? ` ${e.verb}` : ''}`)).toEqual(['telemetry', 'ack HB']);
    expect(needsFsync('telemetry', EXAMPLES.telemetry)).toBe(false);
    expect(needsFsync('ack', { ...EXAMPLES.ack, verb: 'HB' })).toBe(false);
    expect(needsFsync('ack', EXAMPLES.ack)).toBe(true);
    expect(needsFsync('command', { ...EXAMPLES.command, verb: 'HB' })).toBe(true);
  });

  it('H10 fsyncs after every safety-relevant record, before append returns, and never after telemetry or an HB ack', () => {
    const memory = new MemoryFs();
    const clock = new ManualClock();
    const j = openJournal({ dataDir: '/d', sessionId: SESSION_ID, clock, fs: memory });
    let seen = 0;
    const fsyncsSoFar = () => memory.journalOps(j.path).filter((o) => o === 'fsync').length;
    for (const [type, data] of Object.entries(EXAMPLES)) {
      j.append(type, data);
      if (type !== 'telemetry') {
        seen += 1;
        expect(fsyncsSoFar(), `after ${type}`).toBe(seen);
      }
      j.append('ack', { seq: 7, verb: 'HB', ok: true });
      j.append('telemetry', EXAMPLES.telemetry);
      expect(fsyncsSoFar(), `after HB ack and telemetry following ${type}`).toBe(seen);
    }
    const ops = memory.journalOps(j.path);
    ops.forEach((op, i) => {
      if (op === 'fsync') expect(['telemetry', 'ack:HB']).not.toContain(ops[i - 1]);
      else if (op !== 'telemetry' && op !== 'ack:HB') expect(ops[i + 1], `${op} at ${i}`).toBe('fsync');
    });
    // The directory entry of the new file is made durable too.
    expect(memory.ops.filter((o) => o.op === 'fsync').length).toBeGreaterThan(fsyncsSoFar());
    j.close();
    expect(memory.journalOps(j.path).slice(-1)).toEqual(['fsync']);
    expect(memory.ops[memory.ops.length - 1]).toMatchObject({ op: 'close' });
  });
});

describe('write failures', () => {
  function setup() {
    const memory = new MemoryFs();
    const clock = new ManualClock();
    const j = openJournal({ dataDir: '/d', sessionId: SESSION_ID, clock, fs: memory });
    const failures: JournalFailure[] = [];
    j.failures$.subscribe((f) => failures.push(f));
    j.append('session-start', sessionStart());
    return { memory, clock, j, failures };
  }

  it.each(['ENOSPC', 'EIO'])('H10 H23 %s: nothing is lost; the failure is reported; the backlog is written in order on recovery', (code) => {
    const { memory, clock, j, failures } = setup();
    memory.failWrites.push({ code }, { code }, { code });
    const held = ['state', 'note', 'telemetry'].map((type) => {
      clock.advance(100);
      return j.append(type, EXAMPLES[type as 'state' | 'note' | 'telemetry']);
    });
    expect(j.failed).toBe(true);
    expect(failures.map((f) => [f.operation, f.code, f.pending])).toEqual([
      ['write', code, 1],
      ['write', code, 2],
      ['write', code, 3],
    ]);
    expect(failures[0]!.path).toBe(j.path);
    expect(j.pendingRecords()).toEqual(held);
    expect(readJournal({ text: memory.text(j.path) }).records).toHaveLength(1);

    clock.advance(100);
    const after = j.append('note', { text: 'the disk has room again' });
    expect(j.pendingRecords()).toEqual([]);
    expect(j.failed).toBe(true); // stays set: the session that saw it must stop
    const read = readJournal({ text: memory.text(j.path) });
    expect(read.ok).toBe(true);
    expect(read.records.slice(1)).toEqual([...held, after]);
    expect(memory.journalOps(j.path).slice(-2)).toEqual(['note', 'fsync']);
    j.close();
  });

  it('completes a line a failing write cut short, instead of starting it again', () => {
    const { memory, j, failures } = setup();
    memory.failWrites.push({ code: 'ENOSPC', partialBytes: 25 });
    const held = j.append('note', { text: 'half of me reached the disk' });
    expect(failures).toHaveLength(1);
    expect(j.pendingRecords()).toEqual([held]);
    const torn = readJournal({ text: memory.text(j.path) });
    expect(torn.truncatedTail).toEqual({ bytes: 25, recovered: false });
    expect(torn.ok).toBe(true);

    j.append('note', { text: 'next' });
    const read = readJournal({ text: memory.text(j.path) });
    expect(read).toMatchObject({ ok: true, chainIntact: true, truncatedTail: null });
    expect(read.records.map((r) => r.n)).toEqual([0, 1, 2]);
  });

  it('retries a failed fsync at the next append', () => {
    const { memory, j, failures } = setup();
    memory.failFsyncs.push({ code: 'EIO' });
    j.append('state', EXAMPLES.state);
    expect(failures.map((f) => [f.operation, f.code, f.pending])).toEqual([['fsync', 'EIO', 0]]);
    const before = memory.journalOps(j.path).filter((o) => o === 'fsync').length;
    j.append('telemetry', EXAMPLES.telemetry); // exempt itself, but the owed fsync is done
    expect(memory.journalOps(j.path).filter((o) => o === 'fsync').length).toBe(before + 1);
    expect(j.flush()).toBe(true);
  });

  it('reopens the file (append only, never created anew) when its descriptor went bad', () => {
    const { memory, j, failures } = setup();
    const firstFd = memory.ops.find((o) => o.op === 'open' && o.path === j.path)!;
    memory.badFds.add((firstFd as { fd: number }).fd);
    j.append('note', { text: 'after EBADF' });
    expect(failures.map((f) => f.code)).toEqual(['EBADF']);
    expect(j.pendingRecords()).toHaveLength(1);
    j.append('note', { text: 'reopened' });
    const reopen = memory.ops.filter((o) => o.op === 'open' && o.path === j.path);
    expect(reopen).toHaveLength(2);
    expect((reopen[1] as { flags: number }).flags & fs.constants.O_CREAT).toBe(0);
    expect((reopen[1] as { flags: number }).flags & fs.constants.O_APPEND).toBe(fs.constants.O_APPEND);
    expect(readJournal({ text: memory.text(j.path) })).toMatchObject({ ok: true, lines: 3 });
  });

  it('keeps what it could not write after close(), and reports it', () => {
    const { memory, j, failures } = setup();
    memory.failWrites.push({ code: 'EIO' }, { code: 'EIO' });
    const held = j.append('session-end', EXAMPLES['session-end']);
    j.close();
    expect(failures.map((f) => f.operation)).toEqual(['write', 'write']);
    expect(j.pendingRecords()).toEqual([held]);
    expect(memory.ops[memory.ops.length - 1]).toMatchObject({ op: 'close' });
  });

  it('reports a failure to reopen and keeps trying at each append', () => {
    const { memory, j, failures } = setup();
    memory.badFds.add((memory.ops.find((o) => o.op === 'open' && o.path === j.path) as { fd: number }).fd);
    memory.failOpens.push({ code: 'ENOENT' });
    j.append('note', { text: 'a' });
    j.append('note', { text: 'b' });
    expect(failures.map((f) => `${f.operation}:${f.code}`)).toEqual(['write:EBADF', 'reopen:ENOENT']);
    j.append('note', { text: 'c' });
    expect(j.pendingRecords()).toEqual([]);
    expect(readJournal({ text: memory.text(j.path) }).records.map((r) => r.n)).toEqual([0, 1, 2, 3]);
    expect(errno('X', 'y')).toMatchObject({ code: 'X' });
  });
});

describe('reading a journal', () => {
  it('never throws on a missing file: it says it cannot read it', () => {
    const read = readJournal({ path: path.join(dir, 'nope.jsonl') });
    expect(read.ok).toBe(false);
    expect(read.problems).toEqual([{ line: 0, kind: 'unreadable', message: expect.stringMatching(/ENOENT/) as string }]);
  });

  it('reads an empty journal as empty and ok', () => {
    expect(readJournal({ text: '' })).toMatchObject({ ok: true, records: [], lines: 0, truncatedTail: null });
  });

  it('H10 tolerates a torn last line at every byte offset: the records before it are all there', () => {
    const lines = journalLines(4);
    const whole = text(lines);
    const lastStart = whole.length - lines[3]!.length - 1;
    for (let cut = lastStart + 1; cut < whole.length; cut++) {
      const read = readJournal({ text: whole.slice(0, cut) });
      expect(read.ok, `cut at ${cut}`).toBe(true);
      expect(read.chainIntact).toBe(true);
      const complete = cut === whole.length - 1; // only the newline is missing
      expect(read.truncatedTail).toEqual({ bytes: cut - lastStart, recovered: complete });
      expect(read.records.map((r) => r.n)).toEqual(complete ? [0, 1, 2, 3] : [0, 1, 2]);
    }
  });

  it('accepts bytes as well as text, and treats invalid UTF-8 as an invalid line', () => {
    const lines = journalLines(3);
    const bytes = Buffer.from(text(lines));
    expect(readJournal({ text: new Uint8Array(bytes) }).ok).toBe(true);
    const bad = Buffer.concat([Buffer.from(`${lines[0]}\n`), Buffer.from([0xff, 0xfe, 0x0a]), Buffer.from(`${lines[2]}\n`)]);
    const read = readJournal({ text: bad });
    expect(read.problems.map((p) => [p.line, p.kind])).toEqual([
      [2, 'invalid'],
      [2, 'edited'],
    ]);
    expect(read.problems[0]!.message).toMatch(/not UTF-8/);
  });

  describe('H10 detects tampering and says where', () => {
    const lines = journalLines(6);

    it('an edited line: reported at that line', () => {
      const edited = [...lines];
      edited[2] = edited[2]!.replace('note 2', 'note X');
      const read = readJournal({ text: text(edited) });
      expect(read.chainIntact).toBe(false);
      expect(read.problems).toEqual([{ line: 3, kind: 'edited', message: 'line 3 was changed after it was written: line 4 records a different hash for it' }]);
      expect(read.records).toHaveLength(6); // still readable; the report warns
    });

    it('an edited line that no longer parses: invalid and edited at that line', () => {
      const edited = [...lines];
      edited[3] = edited[3]!.slice(0, 40);
      expect(readJournal({ text: text(edited) }).problems.map((p) => [p.line, p.kind])).toEqual([
        [4, 'invalid'],
        [4, 'edited'],
      ]);
    });

    it('a changed record number on the last line (the only thing the chain cannot see, the index can)', () => {
      const edited = [...lines];
      edited[5] = edited[5]!.replace('"n":5', '"n":9');
      expect(readJournal({ text: text(edited) }).problems).toEqual([{ line: 6, kind: 'edited', message: 'line 6 was changed: its record number is 9, 5 was expected' }]);
    });

    it('an inserted line, forged to chain onto the line before it: reported at the inserted line', () => {
      const forged = rechain(lines[2]!.replace('note 2', 'forged'), lines[2]!, 3);
      const read = readJournal({ text: text([...lines.slice(0, 3), forged, ...lines.slice(3)]) });
      expect(read.problems).toEqual([{ line: 4, kind: 'inserted', message: 'line 4 was inserted: line 5 follows line 3 (record 2) directly' }]);
    });

    it('an inserted line copied from elsewhere (a duplicate)', () => {
      const read = readJournal({ text: text([...lines.slice(0, 4), lines[1]!, ...lines.slice(4)]) });
      expect(read.problems.map((p) => [p.line, p.kind])).toEqual([[5, 'inserted']]);
    });

    it('a deleted line: reported where the gap is', () => {
      const read = readJournal({ text: text([...lines.slice(0, 2), ...lines.slice(3)]) });
      expect(read.problems).toEqual([{ line: 3, kind: 'deleted', message: 'record 2 is missing before line 3 (deleted)' }]);
    });

    it('several deleted lines, and deleted first lines', () => {
      expect(readJournal({ text: text([lines[0]!, ...lines.slice(4)]) }).problems).toEqual([
        { line: 2, kind: 'deleted', message: 'records 1-3 are missing before line 2 (deleted)' },
      ]);
      expect(readJournal({ text: text(lines.slice(2)) }).problems).toEqual([
        { line: 1, kind: 'deleted', message: 'the journal does not begin at record 0: records 0-1 are missing before line 1' },
      ]);
    });

    it('two lines swapped: reported at the first line out of place', () => {
      const swapped = [lines[0]!, lines[1]!, lines[3]!, lines[2]!, lines[4]!, lines[5]!];
      const read = readJournal({ text: text(swapped) });
      expect(read.problems.map((p) => [p.line, p.kind])).toEqual([[3, 'reordered']]);
      expect(read.problems[0]!.message).toBe('line 3 (record 3) is out of order: it follows line 4 (record 2)');
    });

    it('a line moved to the end', () => {
      const moved = [lines[0]!, lines[2]!, lines[3]!, lines[4]!, lines[5]!, lines[1]!];
      expect(readJournal({ text: text(moved) }).problems.map((p) => [p.line, p.kind])).toEqual([[2, 'reordered']]);
    });

    it('a blank line in the middle', () => {
      const read = readJournal({ text: text([...lines.slice(0, 3), '', ...lines.slice(3)]) });
      expect(read.problems.map((p) => [p.line, p.kind])).toEqual([
        [4, 'invalid'],
        [4, 'inserted'],
      ]);
    });
  });
});
